import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startPostgres, type TestPostgres, withPostgresClient } from '../testing/postgres.js';
import { ProfileExistsError, StoreUnavailableError } from './errors.js';
import { PgProfileIndex } from './pg-index.js';
import { PG_MIGRATIONS, PG_SCHEMA_VERSION, PostgresSchemaError } from './pg-migrations.js';
import { PostgresPool } from './pg-pool.js';
import { openPostgres, type PostgresBackend } from './pg-store.js';
import { makeTestRecord, profileIndexContract, T0 } from './profile-index.contract.js';
import type { ProfileIndex } from './profile-index.js';
import { SqliteProfileIndex } from './sqlite-index.js';

const server: TestPostgres = await startPostgres();
after(() => server.close());

/** A deterministic generator of integers in [0, n) (a linear congruential one), so a failure replays. */
function seededInts(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
}

profileIndexContract('PgProfileIndex', async () => {
  const url = await server.freshDatabase();
  let backend = await openPostgres(url);
  return {
    index: backend.index,
    async reopen() {
      await backend.close();
      backend = await openPostgres(url);
      return backend.index;
    },
    async cleanup() {
      await backend.close();
    },
  };
});

/** Brings an empty database to the schema the first `steps` migrations make, as that release left it. */
async function migrateTo(c: pg.Client, steps: number): Promise<void> {
  await c.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
  for (const [i, step] of PG_MIGRATIONS.slice(0, steps).entries()) {
    await c.query(step);
    await c.query('INSERT INTO schema_migrations (version) VALUES ($1)', [i + 1]);
  }
}

describe('PostgreSQL migrations', () => {
  it('migrates once when two replicas open an empty database at the same time', async () => {
    const url = await server.freshDatabase();
    // Without the advisory lock, both would find no schema_migrations and one would fail on CREATE TABLE.
    const backends = await Promise.all(Array.from({ length: 4 }, () => openPostgres(url)));
    try {
      const versions = await withPostgresClient(
        url,
        async (c) => (await c.query('SELECT version FROM schema_migrations ORDER BY version')).rows,
      );
      assert.deepEqual(
        versions.map((r) => r.version),
        Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1),
      );
      await backends[0].index.insert(makeTestRecord('a'));
      assert.equal((await backends[3].index.get('a'))?.id, 'a');
    } finally {
      for (const b of backends) await b.close();
    }
  });

  it('refuses a database written by a newer schema, changing nothing', async () => {
    const url = await server.freshDatabase();
    await (await openPostgres(url)).close();
    await withPostgresClient(url, (c) => c.query('INSERT INTO schema_migrations (version) VALUES ($1)', [PG_SCHEMA_VERSION + 1]));
    await assert.rejects(
      openPostgres(url),
      (err: unknown) =>
        err instanceof PostgresSchemaError &&
        err.message.includes(`schema version ${PG_SCHEMA_VERSION + 1}, newer than this Hotpath understands (${PG_SCHEMA_VERSION})`),
    );
  });

  it('upgrades a database written by schema version 2: old rows read without a prepared form, new ones have it', async () => {
    const url = await server.freshDatabase();
    // The database as the release before the prepared form left it: shipped steps are never
    // edited, so the first two are exactly that schema; the row is written as that code wrote it.
    await withPostgresClient(url, async (c) => {
      await migrateTo(c, 2);
      await c.query(
        `INSERT INTO profiles (id, start_ms, end_ms, received_at, protocol, service, env, version, host, runtime, pgo, cpu_cores,
           sample_count, duration_nanos, tags_json, metrics_json, attachments_json, pgo_blob_key, endpoint_counts_json, raw_deleted)
         VALUES ('old', 1000, 61000, 61500, 'datadog', 'web-api', 'prod', 'v1', 'h1', 'go', true, 1.5, 6000, 60e9,
           '[["service","web-api"]]', '{"core_cpu_cores":1.5}',
           '[{"name":"cpu.pprof","blobKey":"old/raw-0-cpu.pprof","size":3,"compression":"gzip"}]', 'old/pgo', NULL, false)`,
      );
      await c.query("INSERT INTO profile_tags (profile_id, key, value) VALUES ('old', 'service', 'web-api')");
      await c.query(
        "INSERT INTO profile_blobs (blob_key, profile_id, kind) VALUES ('old/raw-0-cpu.pprof', 'old', 'raw'), ('old/pgo', 'old', 'pgo')",
      );
    });

    const backend = await openPostgres(url);
    try {
      const index = backend.index;
      const upgraded = await index.get('old');
      assert.equal(upgraded?.preparedBlobKey, null);
      assert.equal(upgraded?.pgoBlobKey, 'old/pgo');
      assert.deepEqual(
        (await index.search({ query: 'service:web-api', from: 0, to: 100_000, limit: 10 })).map((r) => r.id),
        ['old'],
      );
      const fresh = makeTestRecord('new');
      await index.insert(fresh);
      assert.deepEqual(await index.get('new'), fresh);
      assert.deepEqual([...(await index.referencedBlobKeys(['old/raw-0-cpu.pprof', 'old/pgo', 'new/prepared']))].sort(), [
        'new/prepared',
        'old/pgo',
        'old/raw-0-cpu.pprof',
      ]);
      await index.markRawDeleted(['old', 'new']);
      assert.deepEqual([...(await index.referencedBlobKeys(['old/raw-0-cpu.pprof', 'old/pgo', 'new/prepared', 'new/pgo']))].sort(), [
        'new/pgo',
        'old/pgo',
      ]);
    } finally {
      await backend.close();
    }
    await withPostgresClient(url, async (c) => {
      const versions = (await c.query('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version);
      assert.deepEqual(
        versions,
        Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1),
      );
      await assert.rejects(
        c.query("INSERT INTO profile_blobs (blob_key, profile_id, kind) VALUES ('x', 'x', 'other')"),
        /profile_blobs_kind_check/,
      );
    });
  });
});

describe('PostgreSQL migrations to covering window indexes and timed term rows', () => {
  it('upgrades a database written by schema version 3: indexes with the window columns, the id still unique, old rows found', async () => {
    const url = await server.freshDatabase();
    await withPostgresClient(url, async (c) => {
      await migrateTo(c, 3);
      // A profile stored before the step, as that schema's insert wrote it.
      await c.query(
        `INSERT INTO profiles (id, start_ms, end_ms, received_at, protocol, service, env, version, host, runtime, pgo, cpu_cores,
           sample_count, duration_nanos, tags_json, metrics_json, attachments_json, pgo_blob_key, endpoint_counts_json, raw_deleted)
         VALUES ('old', 1000, 61000, 61500, 'datadog', 'web-api', 'prod', 'v1', 'h1', 'go', true, 1.5, 6000, 60e9,
           '[["service","web-api"]]', '{"heap_mb":12}', '[]', NULL, NULL, false)`,
      );
      await c.query("INSERT INTO profile_tags (profile_id, key, value) VALUES ('old', 'service', 'web-api')");
      await c.query("INSERT INTO profile_metrics (profile_id, name, value) VALUES ('old', 'heap_mb', 12)");
    });
    const backend = await openPostgres(url);
    try {
      await backend.index.insert(
        makeTestRecord('new', { start: 5000, end: 65_000, tags: [['service', 'web-api']], metrics: { heap_mb: 20 } }),
      );
      // The primary key was swapped for one with the window columns: a taken id is still refused as one.
      await assert.rejects(backend.index.insert(makeTestRecord('old')), ProfileExistsError);
      const found = await backend.index.search({ query: 'service:web-api @metrics.heap_mb:>10', from: 0, to: 100_000, limit: 10 });
      assert.deepEqual(
        found.map((r) => r.id),
        ['new', 'old'],
      );
      assert.equal(await backend.index.countMatching({ query: '@metrics.heap_mb:<15', from: 60_000, to: 70_000 }), 1);
      // The old profile's tag and metric rows have no times (nor would a replica of the previous
      // release write them): one-term queries must still find it, so they take the general path.
      const oneTerm = async (query: string): Promise<[string[], number]> => [
        (await backend.index.search({ query, from: 0, to: 100_000, limit: 10 })).map((r) => r.id),
        await backend.index.countMatching({ query, from: 0, to: 100_000 }, 100),
      ];
      assert.deepEqual(await oneTerm('service:web-api'), [['new', 'old'], 2]);
      assert.deepEqual(await oneTerm('@metrics.heap_mb:>10'), [['new', 'old'], 2]);
      assert.deepEqual(await oneTerm('service:web-*'), [['new', 'old'], 2]);
      // Once retention has deleted it, every row has times and the terms' own rows answer.
      await backend.index.delete(['old']);
      assert.deepEqual(await oneTerm('service:web-api'), [['new'], 1]);
      assert.deepEqual(await oneTerm('@metrics.heap_mb:>10'), [['new'], 1]);
    } finally {
      await backend.close();
    }
    await withPostgresClient(url, async (c) => {
      const { rows } = await c.query<{ name: string; definition: string }>(
        "SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE indexname IN ('profiles_pkey', 'profiles_by_start', 'profile_metrics_by_value') ORDER BY 1",
      );
      assert.deepEqual(
        rows.map((r) => [r.name, r.definition.replace(/^.* USING btree /, '')]),
        [
          ['profile_metrics_by_value', '(name, value) INCLUDE (profile_id, start_ms, end_ms)'],
          ['profiles_by_start', '(start_ms, id) INCLUDE (end_ms)'],
          ['profiles_pkey', '(id) INCLUDE (start_ms, end_ms)'],
        ],
      );
      const constraint = await c.query("SELECT contype FROM pg_constraint WHERE conname = 'profiles_pkey'");
      assert.deepEqual(constraint.rows, [{ contype: 'p' }]);
    });
  });
});

describe('PgProfileIndex one-term queries', () => {
  it('counts and pages a profile once when a wildcard matches several of its values', async () => {
    const backend = await openPostgres(await server.freshDatabase());
    try {
      const at = (i: number): number => T0 - i * 60_000;
      await backend.index.insert(
        makeTestRecord('two-teams', {
          start: at(3),
          end: at(3) + 30_000,
          tags: [
            ['team', 'core-a'],
            ['team', 'core-b'],
          ],
        }),
      );
      await backend.index.insert(makeTestRecord('one-team', { start: at(2), end: at(2) + 30_000, tags: [['team', 'core-c']] }));
      await backend.index.insert(makeTestRecord('other', { start: at(1), end: at(1) + 30_000, tags: [['team', 'edge']] }));
      const window = { from: at(10), to: T0 };
      for (const query of ['team:core-*', 'team:*', 'team:*-?']) {
        const expected = query === 'team:*' ? ['other', 'one-team', 'two-teams'] : ['one-team', 'two-teams'];
        const page = await backend.index.search({ query, ...window, limit: 10 });
        assert.deepEqual(
          page.map((r) => r.id),
          expected,
          query,
        );
        assert.equal(await backend.index.countMatching({ query, ...window }), expected.length, query);
        assert.equal(await backend.index.countMatching({ query, ...window }, 5), expected.length, query);
      }
    } finally {
      await backend.close();
    }
  });
});

describe('PgProfileIndex across replicas', () => {
  let url: string;
  let one: PostgresBackend;
  let two: PostgresBackend;
  before(async () => {
    url = await server.freshDatabase();
    [one, two] = await Promise.all([openPostgres(url), openPostgres(url)]);
  });
  after(async () => {
    await one.close();
    await two.close();
  });

  it('runs a job on one replica at a time, and at most once per interval across replicas', async () => {
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = (): void => undefined;
    const running = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const first = one.index.runExclusive('shared-job', 60_000, async () => {
      entered();
      await held;
      return 'from-one';
    });
    await running;
    assert.equal(await two.index.runExclusive('shared-job', 0, async () => 'never'), false, 'the other replica holds the lock');
    release();
    assert.equal(await first, true);
    assert.equal(
      await two.index.runExclusive('shared-job', 60_000, async () => 'never'),
      false,
      'started on the other replica less than an interval ago',
    );
    let seen: string | null = null;
    assert.equal(
      await two.index.runExclusive('shared-job', 60_000, async (state) => {
        seen = state;
        return 'from-two';
      }),
      false,
    );
    // An interval later (by the caller's clock), the second replica runs it, with the first one's state.
    assert.equal(
      await two.index.runExclusive(
        'shared-job',
        60_000,
        async (state) => {
          seen = state;
          return 'from-two';
        },
        Date.now() + 120_000,
      ),
      true,
    );
    assert.equal(seen, 'from-one');
  });

  it('lets many concurrent calls on both replicas run a job exactly once per interval', async () => {
    let runs = 0;
    const job = async (): Promise<string> => {
      runs++;
      return 'x';
    };
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? one : two).index.runExclusive('race-job', 3_600_000, job)),
    );
    assert.equal(runs, 1);
    assert.equal(results.filter((r) => r).length, 1);
  });

  it('takes concurrent inserts from both replicas, each all or nothing', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `c${i}`);
    const results = await Promise.allSettled(
      ids.flatMap((id, i) => [
        (i % 2 === 0 ? one : two).index.insert(makeTestRecord(id, { tags: [['batch', 'c']] })),
        // The same id again, on the other replica: exactly one of the two is stored.
        (i % 2 === 0 ? two : one).index.insert(
          makeTestRecord(id, { tags: [['batch', 'dup']], pgoBlobKey: `${id}/pgo-dup`, attachments: [] }),
        ),
      ]),
    );
    const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    assert.equal(rejected.length, ids.length);
    for (const r of rejected) assert.equal((r.reason as Error).name, 'ProfileExistsError');
    const window = { from: 0, to: T0 * 2 };
    assert.equal(
      (await one.index.countMatching({ query: 'batch:c', ...window })) + (await one.index.countMatching({ query: 'batch:dup', ...window })),
      200,
    );
    const referenced = await two.index.referencedBlobKeys(ids.flatMap((id) => [`${id}/pgo`, `${id}/pgo-dup`]));
    assert.equal(referenced.size, 200, 'one PGO blob per stored profile, none of a refused one');
  });

  it('does not find a NUL character, and refuses to store one, naming the field', async () => {
    await one.index.insert(makeTestRecord('nul-free'));
    await assert.rejects(one.index.insert(makeTestRecord('nul', { env: 'prod\u0000eu' })), /env holds a NUL character/);
    const window = { from: 0, to: T0 * 2, limit: 10 };
    assert.deepEqual(await one.index.search({ query: 'env:"prod\u0000eu"', ...window }), []);
    assert.deepEqual(await one.index.search({ query: 'env:prod\u0000*', ...window }), []);
    const negated = await one.index.search({ query: '-env:"prod\u0000eu" profile-id:nul-free', ...window });
    assert.deepEqual(
      negated.map((r) => r.id),
      ['nul-free'],
    );
    assert.equal(await one.index.get('a\u0000b'), null);
  });
});

describe('PgProfileIndex capped counts of a negated term', () => {
  it('equal the capped count of the reference index for dense, sparse and absent terms, ties and small windows', async () => {
    const backend = await openPostgres(await server.freshDatabase());
    const sqlite = new SqliteProfileIndex(':memory:');
    try {
      const random = seededInts(11);
      for (let i = 0; i < 300; i++) {
        // Starts drawn from 150 values, so many profiles share a start (the K-th newest start
        // has ties); the newest third is nearly all prod, so -env:prod has few new matches; some
        // profiles have no env or no metric.
        const start = T0 - random(150) * 1000;
        const newest = start > T0 - 50_000;
        const env = random(10) < (newest ? 9 : 3) ? 'prod' : random(2) === 0 ? 'dev' : null;
        const tags: Array<[string, string]> = [['service', `s${random(3)}`]];
        if (env !== null) tags.push(['env', env]);
        // All but one profile in 40 are in zone a: -zone:a is too rare for the range counts.
        if (i % 40 !== 7) tags.push(['zone', 'a']);
        const record = makeTestRecord(`n${i}`, { start, tags, cpuCores: random(5) === 0 ? null : random(100) / 10 });
        record.end = start + (i % 25 === 0 ? 200_000 : 30_000);
        await backend.index.insert(record);
        await sqlite.insert(record);
      }
      const queries = ['-env:prod', 'NOT env:dev', '-env:absent', '-@metrics.core_cpu_cores:>5', '(-env:prod)', '-service:s1', '-zone:a'];
      const windows = [
        { from: T0 - 400_000, to: T0 + 1 },
        { from: T0 - 60_000, to: T0 },
        { from: T0 - 149_000, to: T0 - 100_000 },
        { from: T0 - 20_000, to: T0 - 19_000 },
      ];
      for (const query of queries) {
        for (const window of windows) {
          const exact = await sqlite.countMatching({ query, ...window });
          assert.equal(await backend.index.countMatching({ query, ...window }), exact, `${query} ${window.from}..${window.to}`);
          for (const cap of [1, 3, 7, 20, 50, 130, 1000]) {
            assert.equal(
              await backend.index.countMatching({ query, ...window }, cap),
              Math.min(exact, cap),
              `${query} ${window.from}..${window.to} capped at ${cap}`,
            );
          }
        }
      }
    } finally {
      await backend.close();
      await sqlite.close();
    }
  });
});

describe('PgProfileIndex time windows', () => {
  it('selects the same profiles as SQLite for random windows, long profiles and ends before starts included', async () => {
    const backend = await openPostgres(await server.freshDatabase());
    const sqlite = new SqliteProfileIndex(':memory:');
    try {
      const random = seededInts(5);
      for (let i = 0; i < 60; i++) {
        const start = random(10_000);
        // Mostly short profiles, some long ones (they widen every window's start range), some
        // with an end before the start (a client's clock), which no window may find by its start alone.
        const length = i % 10 === 0 ? random(5000) : i % 7 === 0 ? -random(300) : random(100);
        const record = makeTestRecord(`w${i}`, { start });
        record.end = start + length;
        await backend.index.insert(record);
        await sqlite.insert(record);
      }
      for (let i = 0; i < 200; i++) {
        const from = random(11_000) - 500;
        const to = from + random(i % 2 === 0 ? 50 : 3000);
        const search = { query: '', from, to, limit: 100, sort: 'start' as const };
        const ids = async (index: ProfileIndex): Promise<string[]> => (await index.search(search)).map((r) => r.id);
        assert.deepEqual(await ids(backend.index), await ids(sqlite), `${from}..${to}`);
        assert.equal(await backend.index.countMatching(search), await sqlite.countMatching(search), `${from}..${to}`);
      }
    } finally {
      await backend.close();
      await sqlite.close();
    }
  });
});

describe('PgProfileIndex when PostgreSQL goes away', () => {
  it('rejects with StoreUnavailableError while the server is down and recovers without a reopen', async () => {
    const own = await startPostgres({ own: true });
    const backend = await openPostgres(own.url, { connectTimeoutMs: 2000 });
    try {
      const index: ProfileIndex = backend.index;
      await index.insert(makeTestRecord('before'));
      const { secret } = await backend.keys.create('api', 'ci');
      await own.stop();
      await assert.rejects(index.insert(makeTestRecord('during')), StoreUnavailableError);
      await assert.rejects(index.get('before'), StoreUnavailableError);
      await assert.rejects(index.search({ query: 'service:web-api', from: 0, to: T0 * 2, limit: 5 }), StoreUnavailableError);
      await assert.rejects(backend.keys.verify(secret), StoreUnavailableError);
      await assert.rejects(
        index.runExclusive('down-job', 0, async () => 'never'),
        StoreUnavailableError,
      );
      await own.start();
      // The pool dropped its dead connections; the first call after the restart opens a new one.
      assert.equal((await index.get('before'))?.id, 'before');
      await index.insert(makeTestRecord('after'));
      assert.equal(await index.count(), 2);
      assert.equal((await backend.keys.verify(secret))?.name, 'ci');
    } finally {
      await backend.close();
      await own.close();
    }
  });

  it('survives losing the connection of a running job: the run rejects, the process and the next run go on', async () => {
    const url = await server.freshDatabase();
    const backend = await openPostgres(url);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      let release = (): void => undefined;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let entered = (): void => undefined;
      const running = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const run = backend.index.runExclusive('cut-job', 0, async () => {
        entered();
        await held;
        return 'never stored';
      });
      await running;
      // End the session that holds the job's advisory lock, as a server restart or a network cut would.
      const { rows } = await admin.query<{ ended: boolean }>(
        "SELECT pg_terminate_backend(pid) AS ended FROM pg_locks WHERE locktype = 'advisory' AND granted",
      );
      assert.deepEqual(
        rows.map((r) => r.ended),
        [true],
      );
      // The connection's error arrives while the job waits; then the job ends and its state cannot be written.
      await waitFor(async () => (await admin.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'")).rows[0].n === 0);
      release();
      await assert.rejects(run, StoreUnavailableError);
      let state: string | null = 'unset';
      assert.equal(
        await backend.index.runExclusive('cut-job', 0, async (s) => {
          state = s;
          return 'next';
        }),
        true,
      );
      assert.equal(state, null, 'the cut run stored no state');
    } finally {
      await admin.end();
      await backend.close();
    }
  });

  it('rejects with StoreUnavailableError when the server cannot be reached at open', async () => {
    const own = await startPostgres({ own: true });
    const url = own.url;
    await own.close();
    await assert.rejects(openPostgres(url, { connectTimeoutMs: 2000 }), StoreUnavailableError);
  });
});

/** Resolves when `condition` holds, checking every 20 ms; rejects after 10 s. */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('PgProfileIndex inserts of one turn', () => {
  it('inserts the records of one turn in one statement, each caller answered on its own', async () => {
    const url = await server.freshDatabase();
    const backend = await openPostgres(url);
    await backend.index.insert(makeTestRecord('taken'));
    await backend.close();
    const pool = new PostgresPool(url);
    const statements: string[] = [];
    const query = pool.query.bind(pool);
    pool.query = ((text: string, params?: readonly unknown[], name?: string) => {
      statements.push(name ?? text.slice(0, 6));
      return query(text, params, name);
    }) as typeof pool.query;
    const index = new PgProfileIndex(pool, () => pool.close());
    try {
      const records = Array.from({ length: 70 }, (_, i) => makeTestRecord(`b${i}`, { tags: [['batch', `${i % 3}`]], metrics: { m: i } }));
      const results = await Promise.allSettled([
        ...records.map((r) => index.insert(r)),
        index.insert(makeTestRecord('taken', { tags: [['batch', 'again']] })),
        index.insert(makeTestRecord('nul', { env: 'prod\u0000eu' })),
      ]);
      assert.deepEqual(
        results.slice(0, 70).filter((r) => r.status === 'rejected'),
        [],
      );
      assert.ok(results[70].status === 'rejected' && results[70].reason instanceof ProfileExistsError);
      assert.ok(results[71].status === 'rejected' && /env holds a NUL character/.test(String(results[71].reason)));
      // 64 at once, then the other 6 with the taken id: that statement fails, and each of its 7 is
      // inserted alone, so only the taken id is refused.
      assert.equal(statements.filter((s) => s === 'hotpath_insert_profiles').length, 2);
      assert.equal(statements.filter((s) => s === 'hotpath_insert_profile').length, 7);
      for (const r of records) assert.deepEqual(await index.get(r.id), r);
      const window = { from: 0, to: T0 * 2 };
      assert.equal(await index.countMatching({ query: 'batch:0', ...window }), 24);
      assert.equal(await index.countMatching({ query: '@metrics.m:>=64', ...window }), 6);
      assert.equal(await index.countMatching({ query: 'batch:again', ...window }), 0);
      assert.deepEqual([...(await index.referencedBlobKeys(['b0/pgo', 'b69/prepared', 'nul/pgo']))].sort(), ['b0/pgo', 'b69/prepared']);
    } finally {
      await index.close();
    }
  });
});
