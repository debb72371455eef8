import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { sqliteDialect } from '../query/dialect.js';
import { FIXTURE_PROFILES } from '../query/fixture-profiles.testing.js';
import { parseQuery } from '../query/parse.js';
import { randomQueries, VALID_QUERIES } from '../query/query-cases.testing.js';
import { queryToSql } from '../query/sql.js';
import { makeTestRecord, profileIndexContract } from './profile-index.contract.js';
import type { ProfileIndex } from './profile-index.js';
import { SQLITE_MIGRATIONS, SQLITE_SCHEMA_VERSION, SqliteProfileIndex } from './sqlite-index.js';

profileIndexContract('SqliteProfileIndex (file)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hotpath-sqlite-index-'));
  const path = join(dir, 'index.sqlite');
  let current: ProfileIndex = new SqliteProfileIndex(path);
  return {
    index: current,
    async reopen() {
      await current.close();
      current = new SqliteProfileIndex(path);
      return current;
    },
    async cleanup() {
      await current.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteProfileIndex newest-first pages', () => {
  it('answers a first page from the newest profiles exactly as from the whole window, for every query shape', async () => {
    // A slice of 7 profiles makes both paths run on 12 × 10 profiles: pages the newest slice
    // fills, and pages that fall through to the whole window.
    const sliced = new SqliteProfileIndex(':memory:', { newestSlice: 7 });
    const whole = new SqliteProfileIndex(':memory:', { newestSlice: Number.MAX_SAFE_INTEGER });
    try {
      let n = 0;
      for (let copy = 0; copy < 10; copy++) {
        for (const p of FIXTURE_PROFILES) {
          const tags: Array<[string, string]> = [];
          for (const [k, values] of p.tags instanceof Map ? p.tags : Object.entries(p.tags)) for (const v of values) tags.push([k, v]);
          // Some profiles share a start time, so ties are ordered by id on both paths.
          const start = 1_000_000 + Math.floor(n++ / 2) * 1000;
          const record = makeTestRecord(`${p.id}-${copy}`, { start, end: start + 500, tags, metrics: { ...p.metrics } });
          await sliced.insert(record);
          await whole.insert(record);
        }
      }
      const queries = [...VALID_QUERIES.map((q) => q.query), ...randomQueries(400)];
      let compared = 0;
      for (const query of queries) {
        for (const [limit, offset] of [
          [1, 0],
          [5, 0],
          [3, 4],
        ]) {
          const search = { query, from: 0, to: 2_000_000, limit, offset };
          let expected: string[];
          try {
            expected = (await whole.search(search)).map((r) => r.id);
          } catch {
            continue; // not a valid query: the parser's tests cover those
          }
          assert.deepEqual(
            (await sliced.search(search)).map((r) => r.id),
            expected,
            `${JSON.stringify(query)} limit ${limit} offset ${offset}`,
          );
          compared++;
        }
      }
      assert.ok(compared > 300, `${compared} searches compared`);
    } finally {
      await sliced.close();
      await whole.close();
    }
  });
});

describe('SqliteProfileIndex', () => {
  it('works in memory', async () => {
    const index = new SqliteProfileIndex(':memory:');
    await index.insert(makeTestRecord('m'));
    assert.equal((await index.get('m'))?.id, 'm');
    await index.close();
  });

  it('lists each env of a service once, whatever characters it holds (no separator to split on)', async () => {
    const index = new SqliteProfileIndex(':memory:');
    try {
      // Intake refuses control characters; values stored before that must still not split.
      for (const [id, env] of [
        ['a', 'prod\u0000staging'],
        ['b', 'prod,eu'],
        ['c', 'prod\u0000staging'],
        ['d', ''],
      ]) {
        await index.insert(makeTestRecord(id, { env }));
      }
      const [service] = await index.services(0, Number.MAX_SAFE_INTEGER);
      assert.deepEqual(service.envs, ['prod\u0000staging', 'prod,eu']);
      assert.equal(service.profiles, 4);
    } finally {
      await index.close();
    }
  });

  it('writes its schema version, uses WAL with full sync, and refuses a newer schema', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hotpath-sqlite-index-'));
    try {
      const path = join(dir, 'index.sqlite');
      await new SqliteProfileIndex(path).close();
      const db = new Database(path);
      assert.equal(db.pragma('user_version', { simple: true }), SQLITE_SCHEMA_VERSION);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
      db.close();
      assert.throws(
        () => new SqliteProfileIndex(path),
        new RegExp(`schema version ${SQLITE_SCHEMA_VERSION + 1}, newer than this Hotpath understands`),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('upgrades an index written by schema version 2 at open: old rows read without a prepared form, new ones have it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hotpath-sqlite-index-'));
    try {
      const path = join(dir, 'index.sqlite');
      // The file as the release before the prepared form left it: shipped steps are never edited,
      // so applying the first two is exactly that schema; the row is written as that code wrote it.
      const old = new Database(path);
      for (const step of SQLITE_MIGRATIONS.slice(0, 2)) old.exec(step);
      old.pragma('user_version = 2');
      old
        .prepare(
          `INSERT INTO profiles (id, start_ms, end_ms, received_at, protocol, service, env, version, host, runtime, pgo, cpu_cores,
             sample_count, duration_nanos, tags_json, metrics_json, attachments_json, pgo_blob_key, endpoint_counts_json, raw_deleted)
           VALUES ('old', 1000, 61000, 61500, 'datadog', 'web-api', 'prod', 'v1', 'h1', 'go', 1, 1.5, 6000, 60e9,
             '[["service","web-api"]]', '{"core_cpu_cores":1.5}',
             '[{"name":"cpu.pprof","blobKey":"old/raw-0-cpu.pprof","size":3,"compression":"gzip"}]', 'old/pgo', NULL, 0)`,
        )
        .run();
      old.prepare("INSERT INTO profile_tags (profile_id, key, value) VALUES ('old', 'service', 'web-api')").run();
      old
        .prepare(
          "INSERT INTO profile_blobs (blob_key, profile_id, kind) VALUES ('old/raw-0-cpu.pprof', 'old', 'raw'), ('old/pgo', 'old', 'pgo')",
        )
        .run();
      old.close();

      let index = new SqliteProfileIndex(path);
      const upgraded = await index.get('old');
      assert.equal(upgraded?.preparedBlobKey, null);
      assert.deepEqual(upgraded?.attachments, [{ name: 'cpu.pprof', blobKey: 'old/raw-0-cpu.pprof', size: 3, compression: 'gzip' }]);
      assert.equal(upgraded?.pgoBlobKey, 'old/pgo');
      assert.deepEqual(
        (await index.search({ query: 'service:web-api', from: 0, to: 100_000, limit: 10 })).map((r) => r.id),
        ['old'],
      );
      assert.deepEqual(
        [...(await index.referencedBlobKeys(['old/raw-0-cpu.pprof', 'old/pgo']))].sort(),
        ['old/pgo', 'old/raw-0-cpu.pprof'],
        'the blob references of the old row are kept',
      );
      const fresh = makeTestRecord('new');
      await index.insert(fresh);
      assert.deepEqual(await index.get('new'), fresh);
      assert.ok((await index.referencedBlobKeys(['new/prepared'])).has('new/prepared'));
      // Saves written together share their objects: two rows may name one key.
      await index.insert(makeTestRecord('together', { pgoBlobKey: 'new/pgo#0+0' }));
      assert.equal((await index.get('together'))?.pgoBlobKey, 'new/pgo#0+0');
      await index.markRawDeleted(['old', 'new']);
      assert.deepEqual([...(await index.referencedBlobKeys(['old/raw-0-cpu.pprof', 'old/pgo', 'new/prepared', 'new/pgo']))].sort(), [
        'new/pgo',
        'old/pgo',
      ]);
      // Opening again finds the schema current and changes nothing.
      await index.close();
      index = new SqliteProfileIndex(path);
      assert.equal((await index.get('new'))?.preparedBlobKey, 'new/prepared');
      await index.close();

      const db = new Database(path);
      try {
        assert.equal(db.pragma('user_version', { simple: true }), SQLITE_SCHEMA_VERSION);
        assert.throws(() => db.prepare("INSERT INTO profile_blobs (blob_key, profile_id, kind) VALUES ('x', 'x', 'other')").run(), /CHECK/);
        const plan = db.prepare('EXPLAIN QUERY PLAN SELECT blob_key FROM profile_blobs WHERE profile_id = ?').all('x') as Array<{
          detail: string;
        }>;
        assert.ok(
          plan.some((row) => row.detail.includes('profile_blobs_by_profile')),
          JSON.stringify(plan),
        );
      } finally {
        db.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('has an index on start time for the time window and the default order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hotpath-sqlite-index-'));
    try {
      const path = join(dir, 'index.sqlite');
      await new SqliteProfileIndex(path).close();
      // The plan is part of the contract with the schema: a table scan here would not scale.
      const db = new Database(path, { readonly: true });
      const plan = db
        .prepare('EXPLAIN QUERY PLAN SELECT p.id FROM profiles p WHERE p.start_ms <= ? AND p.end_ms >= ? ORDER BY p.start_ms DESC LIMIT 10')
        .all(1, 0) as Array<{ detail: string }>;
      db.close();
      assert.ok(
        plan.some((row) => row.detail.includes('profiles_by_start')),
        JSON.stringify(plan),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteProfileIndex driven plans', () => {
  /** 12 fixture profiles × 10 copies, some sharing start times, CPU cores varied (some unknown). */
  async function fill(...indexes: SqliteProfileIndex[]): Promise<void> {
    let n = 0;
    for (let copy = 0; copy < 10; copy++) {
      for (const p of FIXTURE_PROFILES) {
        const tags: Array<[string, string]> = [];
        for (const [k, values] of p.tags instanceof Map ? p.tags : Object.entries(p.tags)) for (const v of values) tags.push([k, v]);
        const start = 1_000_000 + Math.floor(n / 2) * 1000;
        const cpuCores = n % 7 === 0 ? null : (n % 5) / 2;
        n++;
        const record = makeTestRecord(`${p.id}-${copy}`, { start, end: start + 500, tags, metrics: { ...p.metrics }, cpuCores });
        for (const index of indexes) await index.insert(record);
      }
    }
  }

  it('selects, orders and counts exactly as the plain window plan, for every query shape, sort and page', async () => {
    // Driving limits of 4 and 50 rows make some terms drive and others not; both are compared
    // with an index that never drives, never slices and never counts along the window.
    const reference = new SqliteProfileIndex(':memory:', { plans: 'window', newestSlice: Number.MAX_SAFE_INTEGER });
    const planned = [4, 50].map((drivingRows) => new SqliteProfileIndex(':memory:', { drivingRows, newestSlice: 7 }));
    try {
      await fill(reference, ...planned);
      const queries = [...VALID_QUERIES.map((q) => q.query), ...randomQueries(300)];
      let compared = 0;
      for (const query of queries) {
        for (const [sort, limit, offset, from] of [
          ['-start', 5, 0, 0],
          ['-start', 3, 4, 1_020_000],
          ['start', 4, 2, 0],
          ['-cpu', 5, 0, 0],
          ['service', 6, 1, 1_030_000],
        ] as const) {
          const search = { query, from, to: 2_000_000, limit, offset, sort };
          let expected: string[];
          try {
            expected = (await reference.search(search)).map((r) => r.id);
          } catch {
            continue; // not a valid query: the parser's tests cover those
          }
          const expectedCount = await reference.countMatching(search);
          for (const index of planned) {
            assert.deepEqual(
              (await index.search(search)).map((r) => r.id),
              expected,
              `${JSON.stringify(query)} ${sort} ${limit}+${offset}`,
            );
            assert.equal(await index.countMatching(search), expectedCount, `count ${JSON.stringify(query)}`);
            assert.equal(await index.countMatching(search, 3), Math.min(3, expectedCount), `capped count ${JSON.stringify(query)}`);
          }
          compared++;
        }
      }
      assert.ok(compared > 500, `${compared} searches compared`);
    } finally {
      for (const index of [reference, ...planned]) await index.close();
    }
  });

  it('finds a wildcard without a literal prefix through the distinct values of the key, kept in step by delete', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hotpath-sqlite-index-'));
    try {
      const path = join(dir, 'index.sqlite');
      const index = new SqliteProfileIndex(path);
      for (let i = 0; i < 30; i++) await index.insert(makeTestRecord(`p${i}`, { host: `host-${i % 10}` }));
      const window = { from: 0, to: Number.MAX_SAFE_INTEGER, limit: 100 };
      assert.deepEqual((await index.search({ ...window, query: 'host:*-7' })).map((r) => r.id).sort(), ['p17', 'p27', 'p7']);
      const db = new Database(path, { readonly: true });
      const values = (): string[] =>
        db.prepare("SELECT value FROM profile_tag_values WHERE key = 'host' ORDER BY value").pluck().all() as string[];
      try {
        assert.equal(values().length, 10);
        const { where, params } = queryToSql(parseQuery('host:*-7'), {
          dialect: { ...sqliteDialect, tagValuesTable: 'profile_tag_values' },
        });
        const plan = (
          db.prepare(`EXPLAIN QUERY PLAN SELECT p.id FROM profiles p WHERE ${where}`).all(...params) as Array<{ detail: string }>
        )
          .map((r) => r.detail)
          .join('\n');
        // The distinct values are tested, and the tags looked up by (key, value): never every tag row of the key.
        assert.match(plan, /SEARCH v USING PRIMARY KEY \(key=\?\)/);
        assert.match(plan, /SEARCH t USING PRIMARY KEY \(key=\? AND value=\?\)/);
        assert.doesNotMatch(plan, /SEARCH t USING PRIMARY KEY \(key=\?\)/);
        // A value stays while a profile has it, and goes with the last one.
        await index.delete(['p7', 'p17']);
        assert.ok(values().includes('host-7'));
        await index.delete(['p27']);
        assert.ok(!values().includes('host-7'));
        assert.deepEqual(await index.search({ ...window, query: 'host:*-7' }), []);
      } finally {
        db.close();
        await index.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fills the distinct tag values when it upgrades an index written before them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hotpath-sqlite-index-'));
    try {
      const path = join(dir, 'index.sqlite');
      const index = new SqliteProfileIndex(path);
      for (let i = 0; i < 5; i++) await index.insert(makeTestRecord(`p${i}`, { host: `host-${i}` }));
      await index.close();
      // What schema version 3 had: no table of distinct values, no window indexes beside start and id.
      const db = new Database(path);
      db.exec('DROP TABLE profile_tag_values; DROP INDEX profiles_window_by_id; DROP INDEX profile_metrics_by_value');
      db.pragma('user_version = 3');
      db.close();
      const upgraded = new SqliteProfileIndex(path);
      try {
        const found = await upgraded.search({ query: 'host:*-3', from: 0, to: Number.MAX_SAFE_INTEGER, limit: 10 });
        assert.deepEqual(
          found.map((r) => r.id),
          ['p3'],
        );
      } finally {
        await upgraded.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
