import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { QuerySyntaxError } from '../query/errors.js';
import { parseQuery } from '../query/parse.js';
import { ProfileExistsError } from './errors.js';
import { MAX_REFERENCE_CHECK, type ProfileIndex, type ProfileSearch } from './profile-index.js';
import type { ProfileRecord } from './types.js';

/**
 * One instance of a ProfileIndex implementation under test. `reopen` closes `index` and returns
 * a new instance over the same storage (as after a restart); `cleanup` closes whatever is open
 * and removes the storage.
 */
export interface ProfileIndexHarness {
  index: ProfileIndex;
  reopen(): Promise<ProfileIndex>;
  cleanup(): Promise<void>;
}

const MINUTE = 60_000;

/** Blob keys the reference tests ask about: those of records a and b, and some no record names. */
const CANDIDATE_KEYS = [
  'a/pgo',
  'a/raw-0-cpu.pprof',
  'a/raw-1-heap.pprof',
  'a/prepared',
  'b/pgo',
  'b/raw-0-cpu.pprof',
  'b/raw-1-heap.pprof',
  'b/prepared',
  'c/pgo',
  'zz',
];
/** A fixed "now" for the fixtures: 2025-01-01T00:00:00Z. */
export const T0 = Date.UTC(2025, 0, 1);

/**
 * Returns a complete record with plausible values; `overrides` replace fields. The tags are
 * derived from service/env/version/host/pgo unless `tags` is given.
 */
export function makeTestRecord(id: string, overrides: Partial<ProfileRecord> = {}): ProfileRecord {
  const base = {
    service: 'web-api',
    env: 'prod',
    version: '1.2',
    host: 'web-1',
    pgo: false as boolean | null,
    ...overrides,
  };
  const tags: Array<[string, string]> = overrides.tags ?? [
    ['service', base.service],
    ['env', base.env],
    ['version', base.version],
    ['host', base.host],
    ...(base.pgo === null ? [] : [['pgo', String(base.pgo)] as [string, string]]),
  ];
  const start = overrides.start ?? T0 - MINUTE;
  const cpuCores = overrides.cpuCores === undefined ? 1 : overrides.cpuCores;
  return {
    id,
    start,
    end: start + MINUTE,
    receivedAt: start + MINUTE + 500,
    protocol: 'datadog',
    runtime: 'go',
    cpuCores,
    sampleCount: 6000,
    durationNanos: 60e9,
    metrics: cpuCores === null ? {} : { core_cpu_cores: cpuCores },
    attachments: [
      { name: 'cpu.pprof', blobKey: `${id}/raw-0-cpu.pprof`, size: 1234, compression: 'zstd' },
      { name: 'heap.pprof', blobKey: `${id}/raw-1-heap.pprof`, size: 99, compression: 'gzip' },
    ],
    pgoBlobKey: `${id}/pgo`,
    preparedBlobKey: `${id}/prepared`,
    endpointCounts: null,
    rawDeleted: false,
    ...base,
    tags,
  };
}

/**
 * The behaviour every ProfileIndex implementation must have. Call it from the implementation's
 * test file with a factory that makes a fresh, empty storage per test.
 */
export function profileIndexContract(name: string, make: () => Promise<ProfileIndexHarness>): void {
  describe(`ProfileIndex contract: ${name}`, () => {
    let harness: ProfileIndexHarness;
    let index: ProfileIndex;
    beforeEach(async () => {
      harness = await make();
      index = harness.index;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    /** The ids found, in result order; the window covers every fixture unless given. */
    async function ids(query: string, options: Partial<ProfileSearch> = {}): Promise<string[]> {
      const found = await index.search({
        query,
        from: T0 - 365 * 24 * 60 * MINUTE,
        to: T0 + 365 * 24 * 60 * MINUTE,
        limit: 100,
        ...options,
      });
      return found.map((r) => r.id);
    }

    const sorted = (list: string[]): string[] => [...list].sort();

    /** Six profiles a minute apart (p1 oldest), differing in every searched field. */
    async function insertFixtures(): Promise<void> {
      const at = (i: number): number => T0 - (10 - i) * MINUTE;
      await index.insert(
        makeTestRecord('p1', {
          start: at(1),
          cpuCores: 2.5,
          pgo: true,
          tags: [
            ['service', 'web-api'],
            ['env', 'prod'],
            ['version', '1.2'],
            ['host', 'web 1'],
            ['pgo', 'true'],
            ['team', 'core'],
            ['team', 'infra'],
          ],
        }),
      );
      await index.insert(makeTestRecord('p2', { start: at(2), cpuCores: 0.75, env: 'staging', version: '1.3', host: 'web-2' }));
      await index.insert(makeTestRecord('p3', { start: at(3), cpuCores: 1.5, service: 'web-frontend', pgo: true, version: '1.3' }));
      await index.insert(makeTestRecord('p4', { start: at(4), cpuCores: null, service: 'worker', env: 'dev', pgo: null }));
      await index.insert(makeTestRecord('p5', { start: at(5), cpuCores: 4, service: 'worker', host: 'batch-11' }));
      await index.insert(makeTestRecord('p6', { start: at(6), cpuCores: 1, service: 'Web-API', version: '2.0' }));
    }

    it('summarizes the services of a window with their PGO adoption', async () => {
      await insertFixtures();
      const at = (i: number): number => T0 - (10 - i) * MINUTE;
      const all = await index.services(T0 - 365 * 24 * 60 * MINUTE, T0 + MINUTE);
      assert.deepEqual(
        all.map((s) => s.service),
        ['Web-API', 'web-api', 'web-frontend', 'worker'],
      );
      const webApi = all[1];
      assert.deepEqual(webApi.envs, ['prod', 'staging']);
      assert.equal(webApi.profiles, 2);
      assert.equal(webApi.latestVersion, '1.3');
      assert.equal(webApi.latestPgo, false);
      assert.equal(webApi.pgoShare, 0.5);
      assert.equal(webApi.cpuCores, (2.5 + 0.75) / 2);
      assert.equal(all[2].pgoShare, 1);
      assert.equal(all[2].latestPgo, true);
      const worker = all[3];
      assert.equal(worker.cpuCores, 4, 'profiles without CPU data do not count in the mean');
      assert.equal(worker.pgoShare, 0, 'only profiles that say pgo count');
      assert.equal(worker.latestPgo, false);
      const recent = await index.services(at(4) + 1, T0 + MINUTE);
      assert.deepEqual(
        recent.map((s) => s.service),
        ['Web-API', 'worker'],
      );
    });

    it('returns a record exactly as inserted', async () => {
      const record = makeTestRecord('a', {
        protocol: 'pyroscope',
        pgo: null,
        cpuCores: 1.25,
        metrics: { core_cpu_cores: 1.25, heap_mb: -3.5 },
        endpointCounts: { 'GET /users': 12, 'POST /orders': 3 },
        tags: [
          ['service', 'web-api'],
          ['team', 'b'],
          ['team', 'a'],
          ['team', 'b'],
          ['host', 'rack "1" é 🔥'],
        ],
        start: T0 + 0.5,
      });
      await index.insert(record);
      assert.deepEqual(await index.get('a'), record);
      assert.deepEqual(await ids('team:a team:b'), ['a']);
    });

    it('returns null for an unknown id', async () => {
      assert.equal(await index.get('nope'), null);
    });

    it('refuses a second insert with the same id and keeps the first, with no trace of the second', async () => {
      const first = makeTestRecord('dup');
      await index.insert(first);
      const second = makeTestRecord('dup', {
        tags: [['team', 'second']],
        metrics: { second_metric: 1 },
        attachments: [],
        pgoBlobKey: 'second/pgo',
      });
      await assert.rejects(index.insert(second), (err: unknown) => err instanceof ProfileExistsError && err.id === 'dup');
      assert.deepEqual(await index.get('dup'), first);
      assert.equal(await index.count(), 1);
      assert.deepEqual(await ids('team:second'), []);
      assert.deepEqual(await ids('@metrics.second_metric:>0'), []);
      assert.ok(!(await index.referencedBlobKeys(['second/pgo', 'dup/pgo'])).has('second/pgo'));
    });

    it('stores nothing of an insert that fails, not even its tags and metrics under the id it clashed with', async () => {
      await index.insert(makeTestRecord('owner'));
      const clash = makeTestRecord('owner', { tags: [['team', 'clash']], metrics: { clash_metric: 1 }, pgoBlobKey: 'clash/pgo' });
      await assert.rejects(index.insert(clash));
      assert.equal(await index.count(), 1);
      assert.deepEqual(await ids('team:clash'), []);
      assert.deepEqual(await ids('@metrics.clash_metric:>0'), []);
      assert.deepEqual([...(await index.referencedBlobKeys(['clash/pgo', 'owner/pgo']))], ['owner/pgo']);
      assert.deepEqual(await index.get('owner'), makeTestRecord('owner'));
    });

    it('refuses a record with a metric that is not a finite number, storing nothing', async () => {
      await assert.rejects(index.insert(makeTestRecord('nan', { metrics: { x: Number.NaN } })), TypeError);
      await assert.rejects(index.insert(makeTestRecord('inf', { metrics: { x: Number.POSITIVE_INFINITY } })), TypeError);
      assert.equal(await index.count(), 0);
    });

    it('refuses a record whose prepared blob key is absent or not a string, storing nothing', async () => {
      const { preparedBlobKey: _, ...absent } = makeTestRecord('absent');
      await assert.rejects(
        index.insert(absent as ProfileRecord),
        /absent: preparedBlobKey must be a non-empty string or null, got undefined/,
      );
      await assert.rejects(index.insert(makeTestRecord('empty', { preparedBlobKey: '' })), TypeError);
      await assert.rejects(index.insert(makeTestRecord('number', { preparedBlobKey: 7 as unknown as string })), TypeError);
      assert.equal(await index.count(), 0);
    });

    it('finds profiles by tags, negation, OR, groups, wildcards and quoted values', async () => {
      await insertFixtures();
      const cases: Array<[string, string[]]> = [
        ['', ['p1', 'p2', 'p3', 'p4', 'p5', 'p6']],
        ['service:web-api', ['p1', 'p2']],
        ['service:web-api env:prod', ['p1']],
        ['service:web-api AND env:staging', ['p2']],
        ['env:staging OR env:dev', ['p2', 'p4']],
        ['version:(1.3 OR 2.0)', ['p2', 'p3', 'p6']],
        ['pgo:true', ['p1', 'p3']],
        ['-pgo:true', ['p2', 'p4', 'p5', 'p6']],
        ['NOT pgo:true', ['p2', 'p4', 'p5', 'p6']],
        ['pgo:*', ['p1', 'p2', 'p3', 'p5', 'p6']],
        ['-pgo:*', ['p4']],
        ['service:web-*', ['p1', 'p2', 'p3']],
        ['service:Web-*', ['p6']],
        ['host:*1', ['p1', 'p3', 'p4', 'p5', 'p6']],
        ['host:batch-?1', ['p5']],
        ['host:"web 1"', ['p1']],
        ['host:web\\ 1', ['p1']],
        ['(service:worker OR service:web-frontend) -env:dev', ['p3', 'p5']],
        ['profile-id:(p2 OR p5)', ['p2', 'p5']],
        ['-profile-id:p1 team:*', []],
        ['service:nothing', []],
      ];
      for (const [query, expected] of cases) assert.deepEqual(sorted(await ids(query)), expected, query);
    });

    it('matches every value of a multi-valued tag', async () => {
      await insertFixtures();
      assert.deepEqual(await ids('team:core'), ['p1']);
      assert.deepEqual(await ids('team:infra'), ['p1']);
      assert.deepEqual(await ids('team:core team:infra'), ['p1']);
      assert.deepEqual(await ids('team:core -team:infra'), []);
    });

    it('compares numeric metrics', async () => {
      await insertFixtures();
      const cases: Array<[string, string[]]> = [
        ['@metrics.core_cpu_cores:>1', ['p1', 'p3', 'p5']],
        ['@metrics.core_cpu_cores:>=1', ['p1', 'p3', 'p5', 'p6']],
        ['@metrics.core_cpu_cores:<1', ['p2']],
        ['@metrics.core_cpu_cores:1', ['p6']],
        ['@metrics.core_cpu_cores:[1 TO 2.5]', ['p1', 'p3', 'p6']],
        ['-@metrics.core_cpu_cores:>1', ['p2', 'p4', 'p6']],
        ['@metrics.core_cpu_cores:>1 service:worker', ['p5']],
        ['@metrics.unknown:>0', []],
      ];
      for (const [query, expected] of cases) assert.deepEqual(sorted(await ids(query)), expected, query);
    });

    it('returns records equal to what get returns', async () => {
      await insertFixtures();
      const found = await index.search({ query: 'service:worker', from: 0, to: T0 * 2, limit: 10 });
      for (const r of found) assert.deepEqual(r, await index.get(r.id));
    });

    it('selects profiles whose time range overlaps the window, edges included', async () => {
      await index.insert(makeTestRecord('w', { start: 1000, end: 2000 }));
      const cases: Array<[number, number, string[]]> = [
        [0, 999, []],
        [0, 1000, ['w']],
        [1200, 1300, ['w']],
        [0, 5000, ['w']],
        [2000, 3000, ['w']],
        [2001, 3000, []],
      ];
      for (const [from, to, expected] of cases) assert.deepEqual(await ids('', { from, to }), expected, `${from}..${to}`);
    });

    it('sorts newest first by default, and by start or CPU cores on request', async () => {
      await insertFixtures();
      assert.deepEqual(await ids(''), ['p6', 'p5', 'p4', 'p3', 'p2', 'p1']);
      assert.deepEqual(await ids('', { sort: '-start' }), ['p6', 'p5', 'p4', 'p3', 'p2', 'p1']);
      assert.deepEqual(await ids('', { sort: 'start' }), ['p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
      // p4 has no CPU profile: last in both directions.
      assert.deepEqual(await ids('', { sort: '-cpu' }), ['p5', 'p1', 'p3', 'p6', 'p2', 'p4']);
      assert.deepEqual(await ids('', { sort: 'cpu' }), ['p2', 'p6', 'p3', 'p1', 'p5', 'p4']);
    });

    it('returns at most limit records, the first ones in the sort order', async () => {
      await insertFixtures();
      assert.deepEqual(await ids('', { limit: 2 }), ['p6', 'p5']);
      assert.deepEqual(await ids('', { limit: 2, sort: '-cpu' }), ['p5', 'p1']);
      assert.deepEqual(await ids('service:web-api', { limit: 1, sort: 'start' }), ['p1']);
      assert.deepEqual(await ids('', { limit: 0 }), []);
    });

    it('sorts by service and host, ties newest first', async () => {
      await insertFixtures();
      // Byte order: upper case before lower case, space before "-".
      assert.deepEqual(await ids('', { sort: 'service' }), ['p6', 'p2', 'p1', 'p3', 'p5', 'p4']);
      assert.deepEqual(await ids('', { sort: '-host' }), ['p2', 'p6', 'p4', 'p3', 'p1', 'p5']);
      assert.deepEqual(await ids('', { sort: 'version' }), ['p5', 'p4', 'p1', 'p3', 'p2', 'p6']);
    });

    it('pages with offset, and counts every match regardless of limit and offset', async () => {
      await insertFixtures();
      assert.deepEqual(await ids('', { limit: 2, offset: 2 }), ['p4', 'p3']);
      assert.deepEqual(await ids('', { limit: 2, offset: 6 }), []);
      const window = { from: T0 - 365 * 24 * 60 * MINUTE, to: T0 + MINUTE };
      assert.equal(await index.countMatching({ query: '', ...window }), 6);
      assert.equal(await index.countMatching({ query: 'service:worker OR env:staging', ...window }), 3);
      assert.equal(await index.countMatching({ query: '', from: 0, to: 1 }), 0);
      // A cap stops the count: at most atMost, exact below it.
      assert.equal(await index.countMatching({ query: '', ...window }, 4), 4);
      assert.equal(await index.countMatching({ query: '', ...window }, 6), 6);
      assert.equal(await index.countMatching({ query: 'service:worker OR env:staging', ...window }, 100), 3);
      await assert.rejects(index.countMatching({ query: '', ...window }, 0), RangeError);
      await assert.rejects(index.countMatching({ query: '', ...window }, 1.5), RangeError);
      await assert.rejects(index.countMatching({ query: 'env:(', ...window }), QuerySyntaxError);
      await assert.rejects(index.search({ query: '', ...window, limit: 1, offset: -1 }), RangeError);
    });

    it('counts the values of service, env, version and pgo among the matches, most common first', async () => {
      await insertFixtures();
      const window = { from: T0 - 365 * 24 * 60 * MINUTE, to: T0 + MINUTE };
      const all = await index.facets({ query: '', ...window }, 10);
      assert.deepEqual(all.service, [
        { value: 'web-api', count: 2 },
        { value: 'worker', count: 2 },
        { value: 'Web-API', count: 1 },
        { value: 'web-frontend', count: 1 },
      ]);
      assert.deepEqual(all.env, [
        { value: 'prod', count: 4 },
        { value: 'dev', count: 1 },
        { value: 'staging', count: 1 },
      ]);
      assert.deepEqual(all.version, [
        { value: '1.2', count: 3 },
        { value: '1.3', count: 2 },
        { value: '2.0', count: 1 },
      ]);
      // p4 says nothing about PGO and is not counted.
      assert.deepEqual(all.pgo, [
        { value: 'false', count: 3 },
        { value: 'true', count: 2 },
      ]);
      const worker = await index.facets({ query: 'service:worker', ...window }, 1);
      assert.deepEqual(worker, {
        service: [{ value: 'worker', count: 2 }],
        env: [{ value: 'dev', count: 1 }],
        version: [{ value: '1.2', count: 2 }],
        pgo: [{ value: 'false', count: 1 }],
      });
      await assert.rejects(index.facets({ query: 'env:(', ...window }, 10), QuerySyntaxError);
    });

    it('rejects a bad query with a QuerySyntaxError that names the column', async () => {
      await insertFixtures();
      const cases: Array<[string, number]> = [
        ['service:(a OR', 14],
        ['env:prod )', 10],
        ['@foo:1', 1],
        ['service:"abc', 13],
      ];
      for (const [query, column] of cases) {
        await assert.rejects(
          index.search({ query, from: 0, to: T0, limit: 10 }),
          (err: unknown) => err instanceof QuerySyntaxError && err.column === column,
          query,
        );
      }
    });

    it('rejects an unknown sort, a negative or fractional limit and non-finite times', async () => {
      const base = { query: '', from: 0, to: T0, limit: 10 };
      await assert.rejects(index.search({ ...base, sort: 'size' as ProfileSearch['sort'] }), RangeError);
      await assert.rejects(index.search({ ...base, limit: -1 }), RangeError);
      await assert.rejects(index.search({ ...base, limit: 1.5 }), RangeError);
      await assert.rejects(index.search({ ...base, from: Number.NaN }), RangeError);
    });

    it('references the PGO blob of every profile and the attachments and prepared form of those with raw data', async () => {
      await index.insert(makeTestRecord('a'));
      await index.insert(makeTestRecord('b', { pgoBlobKey: null, preparedBlobKey: null, attachments: [] }));
      assert.deepEqual(sorted([...(await index.referencedBlobKeys(CANDIDATE_KEYS))]), [
        'a/pgo',
        'a/prepared',
        'a/raw-0-cpu.pprof',
        'a/raw-1-heap.pprof',
      ]);
      assert.deepEqual([...(await index.referencedBlobKeys([]))], []);
      await assert.rejects(
        index.referencedBlobKeys(Array.from({ length: MAX_REFERENCE_CHECK + 1 }, (_, i) => `k${i}`)),
        RangeError,
        'the page size is bounded',
      );
    });

    it('references objects, not ranges: a pack named by several ranges once, until its raw data is deleted', async () => {
      const packed = (id: string): ProfileRecord =>
        makeTestRecord(id, {
          attachments: [
            { name: 'cpu.pprof', blobKey: `${id}/pack#0+10`, size: 10, compression: 'gzip' },
            { name: 'heap.pprof', blobKey: `${id}/pack#10+5`, size: 5, compression: 'gzip' },
            { name: 'empty.pprof', blobKey: `${id}/pack#15+0`, size: 0, compression: 'none' },
          ],
          pgoBlobKey: `${id}/pgo`,
          preparedBlobKey: `${id}/pack#15+7`,
        });
      await index.insert(packed('a'));
      await index.insert(packed('b'));
      assert.deepEqual((await index.get('a'))?.attachments[1].blobKey, 'a/pack#10+5', 'references read back as written');
      const candidates = ['a/pack', 'a/pgo', 'b/pack', 'b/pgo', 'a/pack#0+10', 'c/pack'];
      assert.deepEqual(sorted([...(await index.referencedBlobKeys(candidates))]), ['a/pack', 'a/pgo', 'b/pack', 'b/pgo']);
      await index.markRawDeleted(['a']);
      assert.deepEqual(sorted([...(await index.referencedBlobKeys(candidates))]), ['a/pgo', 'b/pack', 'b/pgo']);
      await index.delete(['b']);
      assert.deepEqual(sorted([...(await index.referencedBlobKeys(candidates))]), ['a/pgo']);
    });

    it('refuses a record whose blob reference does not parse, writing nothing', async () => {
      for (const bad of ['a/pack#01+1', 'a/pack#1+', '../x', 'a/pack#1+1#2+2', `a/pack#${Number.MAX_SAFE_INTEGER}+1`]) {
        await assert.rejects(
          index.insert(makeTestRecord('bad', { attachments: [{ name: 'cpu.pprof', blobKey: bad, size: 1, compression: 'none' }] })),
          TypeError,
          bad,
        );
        await assert.rejects(index.insert(makeTestRecord('bad', { preparedBlobKey: bad })), TypeError, bad);
      }
      assert.equal(await index.get('bad'), null);
      assert.equal(await index.count(), 0);
    });

    it('marks raw data deleted: the record and its PGO blob stay, its attachments and prepared form stop being referenced', async () => {
      await index.insert(makeTestRecord('a'));
      await index.insert(makeTestRecord('b'));
      await index.markRawDeleted(['a', 'unknown']);
      const a = await index.get('a');
      assert.equal(a?.rawDeleted, true);
      assert.equal(a?.attachments.length, 2, 'attachments are still listed');
      assert.equal(a?.preparedBlobKey, 'a/prepared', 'the key stays on the record; rawDeleted says it names nothing');
      assert.equal((await index.get('b'))?.rawDeleted, false);
      assert.deepEqual(sorted([...(await index.referencedBlobKeys(CANDIDATE_KEYS))]), [
        'a/pgo',
        'b/pgo',
        'b/prepared',
        'b/raw-0-cpu.pprof',
        'b/raw-1-heap.pprof',
      ]);
      assert.deepEqual(sorted(await ids('service:web-api')), ['a', 'b']);
      await index.markRawDeleted(['a']);
      assert.equal((await index.get('a'))?.rawDeleted, true);
    });

    it('keeps a record without a prepared form as it is, and references no prepared blob of a record inserted raw-deleted', async () => {
      const legacy = makeTestRecord('a', { preparedBlobKey: null });
      await index.insert(legacy);
      assert.deepEqual(await index.get('a'), legacy);
      // A copy (hotpath migrate) of a profile whose raw data retention had deleted.
      await index.insert(makeTestRecord('b', { rawDeleted: true }));
      assert.equal((await index.get('b'))?.preparedBlobKey, 'b/prepared');
      assert.deepEqual(sorted([...(await index.referencedBlobKeys(CANDIDATE_KEYS))]), [
        'a/pgo',
        'a/raw-0-cpu.pprof',
        'a/raw-1-heap.pprof',
        'b/pgo',
      ]);
    });

    it('lets profiles saved together name ranges of the same objects, referenced until the last of them lets go', async () => {
      const grouped = (id: string, at: number): ProfileRecord =>
        makeTestRecord(id, {
          attachments: [{ name: 'cpu.pprof', blobKey: `g/pack#${at}+10`, size: 10, compression: 'gzip' }],
          preparedBlobKey: `g/pack#${at + 10}+3`,
          pgoBlobKey: `g/pgo#${at}+4`,
        });
      await index.insert(grouped('a', 0));
      await index.insert(grouped('b', 13));
      const candidates = ['g/pack', 'g/pgo'];
      assert.deepEqual(sorted([...(await index.referencedBlobKeys(candidates))]), candidates);
      await index.markRawDeleted(['a']);
      assert.deepEqual(sorted([...(await index.referencedBlobKeys(candidates))]), candidates, 'b still names the pack');
      await index.markRawDeleted(['b']);
      assert.deepEqual([...(await index.referencedBlobKeys(candidates))], ['g/pgo']);
      await index.delete(['a']);
      assert.deepEqual([...(await index.referencedBlobKeys(candidates))], ['g/pgo'], 'b still names the PGO forms');
      await index.delete(['b']);
      assert.deepEqual([...(await index.referencedBlobKeys(candidates))], []);
    });

    it('deletes profiles with their tags, metrics and blob references', async () => {
      await insertFixtures();
      await index.delete(['p1', 'p5', 'unknown']);
      assert.equal(await index.get('p1'), null);
      assert.equal(await index.count(), 4);
      assert.deepEqual(await ids('team:core'), []);
      assert.deepEqual(sorted(await ids('@metrics.core_cpu_cores:>1')), ['p3']);
      const referenced = await index.referencedBlobKeys(['p1/pgo', 'p5/raw-0-cpu.pprof', 'p1/prepared', 'p2/pgo', 'p2/prepared']);
      assert.deepEqual(sorted([...referenced]), ['p2/pgo', 'p2/prepared']);
      // The id can be used again, without the old tags.
      await index.insert(makeTestRecord('p1', { tags: [['service', 'again']] }));
      assert.deepEqual(await ids('team:core'), []);
      assert.deepEqual(await ids('service:again'), ['p1']);
      await index.delete([]);
    });

    it('lists profiles received before a time, oldest first, with and without raw data', async () => {
      for (const [i, id] of ['e1', 'e2', 'e3', 'e4'].entries()) await index.insert(makeTestRecord(id, { receivedAt: 1000 * (i + 1) }));
      const idsOf = (records: ProfileRecord[]): string[] => records.map((r) => r.id);
      assert.deepEqual(idsOf(await index.expired(3000, 10)), ['e1', 'e2']);
      assert.deepEqual(idsOf(await index.expired(3001, 2)), ['e1', 'e2']);
      assert.deepEqual(idsOf(await index.expired(1000, 10)), []);
      assert.deepEqual(idsOf(await index.expiredRaw(3001, 10)), ['e1', 'e2', 'e3']);
      await index.markRawDeleted(['e1']);
      assert.deepEqual(idsOf(await index.expiredRaw(3001, 10)), ['e2', 'e3']);
      assert.deepEqual(idsOf(await index.expiredRaw(3001, 1)), ['e2']);
      assert.deepEqual(idsOf(await index.expired(3001, 10)), ['e1', 'e2', 'e3'], 'raw-deleted profiles still expire');
      assert.deepEqual((await index.expired(3001, 1))[0], await index.get('e1'));
    });

    it('counts profiles', async () => {
      assert.equal(await index.count(), 0);
      await insertFixtures();
      assert.equal(await index.count(), 6);
    });

    it('keeps everything across close and reopen', async () => {
      await insertFixtures();
      await index.markRawDeleted(['p2']);
      await index.delete(['p6']);
      const before = await index.get('p1');
      index = await harness.reopen();
      assert.equal(await index.count(), 5);
      assert.deepEqual(await index.get('p1'), before);
      assert.equal((await index.get('p2'))?.rawDeleted, true);
      assert.deepEqual(await ids('team:core'), ['p1']);
      assert.deepEqual(await ids('', { sort: '-cpu' }), ['p5', 'p1', 'p3', 'p2', 'p4']);
      assert.deepEqual([...(await index.referencedBlobKeys(['p2/raw-0-cpu.pprof', 'p2/prepared', 'p1/prepared']))], ['p1/prepared']);
      await index.insert(makeTestRecord('p7'));
      assert.equal(await index.count(), 6);
    });

    it('takes a parsed query as well as its text, with the same answer', async () => {
      await insertFixtures();
      const text = 'service:web-api -env:staging';
      const window = { from: 0, to: T0 * 2 };
      const byText = await index.search({ query: text, ...window, limit: 10 });
      const byTree = await index.search({ query: parseQuery(text), ...window, limit: 10 });
      assert.deepEqual(byTree, byText);
      assert.ok(byText.length > 0);
      assert.equal(await index.countMatching({ query: parseQuery(text), ...window }), byText.length);
      assert.deepEqual(await index.facets({ query: parseQuery(text), ...window }, 5), await index.facets({ query: text, ...window }, 5));
    });

    it('runs a job exclusively, at most once per interval, and keeps its state', async () => {
      const seen: Array<string | null> = [];
      assert.equal(
        await index.runExclusive('contract-job', 0, async (state) => {
          seen.push(state);
          return 'cursor-1';
        }),
        true,
      );
      assert.equal(
        await index.runExclusive('contract-job', 60 * MINUTE, async () => {
          throw new Error('ran again within its interval');
        }),
        false,
        'started less than an interval ago',
      );
      // While one run is in progress, a second call for the same job does not run.
      let release = (): void => undefined;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let entered = (): void => undefined;
      const running = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const first = index.runExclusive('contract-job', 0, async (state) => {
        seen.push(state);
        entered();
        await held;
        return 'cursor-2';
      });
      await running;
      assert.equal(await index.runExclusive('contract-job', 0, async () => 'never'), false, 'another run is in progress');
      assert.equal(await index.runExclusive('other-job', 0, async (state) => state ?? 'other'), true, 'jobs are independent');
      release();
      assert.equal(await first, true);
      await assert.rejects(
        index.runExclusive('contract-job', 0, async (state) => {
          seen.push(state);
          throw new Error('job failed');
        }),
        /job failed/,
      );
      index = await harness.reopen();
      await index.runExclusive('contract-job', 0, async (state) => {
        seen.push(state);
        return state;
      });
      assert.deepEqual(seen, [null, 'cursor-1', 'cursor-2', 'cursor-2'], 'a failed run keeps the previous state, across a reopen');
    });

    it('can be closed twice', async () => {
      await index.close();
      await index.close();
    });
  });
}
