import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { QueryNode, WildcardSegment } from '../query/ast.js';
import { postgresDialect, type SqlDialect, toPostgresLike } from '../query/dialect.js';
import { matchesQuery } from '../query/evaluate.js';
import { FIXTURE_PROFILES } from '../query/fixture-profiles.testing.js';
import { parseQuery } from '../query/parse.js';
import { caseName, randomQueries, VALID_QUERIES } from '../query/query-cases.testing.js';
import { queryToSql } from '../query/sql.js';
import { matchesWildcard } from '../query/wildcard.js';
import { startPostgres, type TestPostgres } from '../testing/postgres.js';
import { searchStatement, withoutUnstorableTerms } from './pg-index.js';
import { TRIGRAM_INDEX } from './pg-migrations.js';
import { SESSION_OPTIONS } from './pg-pool.js';
import { openPostgres, type PostgresBackend } from './pg-store.js';
import { makeTestRecord, T0 } from './profile-index.contract.js';
import type { ProfileSearch } from './profile-index.js';

// The query language on PostgreSQL: the same table and random queries as on SQLite
// (src/query/sql.test.ts), against the store's real schema, and the plans that make it scale.

const server: TestPostgres = await startPostgres();
after(() => server.close());

function idsByEvaluation(node: QueryNode): string[] {
  return FIXTURE_PROFILES.filter((p) => matchesQuery(node, p)).map((p) => p.id);
}

const MINUTE = 60_000;

describe('queryToSql on PostgreSQL agrees with matchesQuery', () => {
  let backend: PostgresBackend;
  const startOf = new Map<string, number>();
  let client: pg.Client;
  before(async () => {
    const url = await server.freshDatabase();
    backend = await openPostgres(url);
    for (const [i, p] of FIXTURE_PROFILES.entries()) {
      const tags = p.tags instanceof Map ? [...p.tags] : Object.entries(p.tags);
      // One minute each, ten minutes apart, newest first: windows select some of them.
      const start = T0 - (i + 1) * 10 * MINUTE;
      startOf.set(p.id, start);
      await backend.index.insert(
        makeTestRecord(p.id, {
          start,
          end: start + MINUTE,
          tags: tags.flatMap(([key, values]) => values.map((v: string): [string, string] => [key, v])),
          metrics: { ...p.metrics },
        }),
      );
    }
    client = new pg.Client({ connectionString: url });
    await client.connect();
  });
  after(async () => {
    await client.end();
    await backend.close();
  });

  async function idsBySql(node: QueryNode, dialect: SqlDialect = postgresDialect): Promise<string[]> {
    const { where, params } = queryToSql(withoutUnstorableTerms(node), { dialect });
    const { rows } = await client.query<{ id: string }>(`SELECT p.id FROM profiles p WHERE ${where} ORDER BY p.id`, params);
    return rows.map((r) => r.id);
  }

  async function idsBySearch(query: string): Promise<string[]> {
    const found = await backend.index.search({ query, from: 0, to: T0 * 2, limit: 100, sort: 'start' });
    return found.map((r) => r.id).sort();
  }

  for (const { query, ids } of VALID_QUERIES) {
    it(caseName(query), async () => {
      const node = parseQuery(query);
      assert.deepEqual(await idsBySql(node), ids, 'SQL');
      assert.deepEqual(await idsBySearch(query), ids, 'PgProfileIndex.search');
      assert.deepEqual(idsByEvaluation(node), ids, 'matchesQuery');
    });
  }

  it('pages and counts every query in a window as matchesQuery does, one-term queries from their own rows', async () => {
    const newest = T0 - 10 * MINUTE;
    const windows = [
      { from: 0, to: T0 * 2 },
      // Overlap at either edge: the window starts inside one profile and ends inside another.
      { from: newest - 25 * MINUTE - MINUTE / 2, to: newest - 5 * MINUTE + MINUTE / 2 },
      { from: newest - 200 * MINUTE, to: newest - 45 * MINUTE },
    ];
    for (const { query } of VALID_QUERIES) {
      const node = parseQuery(query);
      for (const window of windows) {
        const inWindow = idsByEvaluation(node).filter((id) => {
          const start = startOf.get(id) as number;
          return start <= window.to && start + MINUTE >= window.from;
        });
        const newestFirst = [...inWindow].sort((a, b) => (startOf.get(b) as number) - (startOf.get(a) as number));
        const label = `${query} in [${window.from}, ${window.to}]`;
        const page = await backend.index.search({ query, ...window, limit: 3, offset: 1, sort: '-start' });
        assert.deepEqual(
          page.map((r) => r.id),
          newestFirst.slice(1, 4),
          label,
        );
        const oldest = await backend.index.search({ query, ...window, limit: 2, sort: 'start' });
        assert.deepEqual(
          oldest.map((r) => r.id),
          [...newestFirst].reverse().slice(0, 2),
          label,
        );
        assert.equal(await backend.index.countMatching({ query, ...window }), inWindow.length, label);
        assert.equal(await backend.index.countMatching({ query, ...window }, 2), Math.min(2, inWindow.length), `${label}, at most 2`);
      }
    }
  });

  it('gives the same profiles as matchesQuery for every random query that parses', async () => {
    let valid = 0;
    for (const query of randomQueries()) {
      let node: QueryNode;
      try {
        node = parseQuery(query);
      } catch (e) {
        assert.equal((e as Error).name, 'QuerySyntaxError', query);
        continue;
      }
      valid++;
      const expected = idsByEvaluation(node);
      assert.deepEqual(await idsBySql(node), expected, query);
      // As capped counts of broad queries run it: every EXISTS a lookup per row.
      assert.deepEqual(await idsBySql(node, { ...postgresDialect, childRowTest: 'exists-per-row' }), expected, query);
    }
    assert.ok(valid > 1000, `only ${valid} valid queries`);
  });

  it('runs LIKE patterns exactly as matchesWildcard, escapes included, counting code points', async () => {
    // Random patterns and values over characters that matter to LIKE, including non-ASCII.
    const chars = ['a', 'b', '%', '_', '\\', '[', '*', '?', 'é', '🔥'];
    let state = 11;
    const random = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return (state >>> 8) % n;
    };
    const text = (length: number): string => Array.from({ length }, () => chars[random(chars.length)]).join('');
    const values: string[] = [];
    const patterns: string[] = [];
    const expected: boolean[] = [];
    for (let i = 0; i < 5000; i++) {
      const segments: WildcardSegment[] = [];
      for (let j = random(4); j >= 0; j--) {
        const r = random(4);
        if (r === 0) segments.push({ kind: 'anyChars' });
        else if (r === 1) segments.push({ kind: 'oneChar' });
        else segments.push({ kind: 'literal', text: text(1 + random(2)) });
      }
      const value = text(random(6));
      values.push(value);
      patterns.push(toPostgresLike(segments));
      expected.push(matchesWildcard(segments, value));
    }
    const { rows } = await client.query<{ matched: boolean }>(
      'SELECT v COLLATE "C" LIKE p AS matched FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(v, p, n) ORDER BY n',
      [values, patterns],
    );
    rows.forEach((r, i) => {
      assert.equal(r.matched, expected[i], `${JSON.stringify(patterns[i])} vs ${JSON.stringify(values[i])}`);
    });
  });
});

/** Index names in a JSON plan, and the relations read by sequential scan. */
function planSummary(plan: unknown): { indexes: Set<string>; seqScans: Set<string> } {
  const indexes = new Set<string>();
  const seqScans = new Set<string>();
  const visit = (node: Record<string, unknown>): void => {
    if (typeof node['Index Name'] === 'string') indexes.add(node['Index Name']);
    if (node['Node Type'] === 'Seq Scan') seqScans.add(String(node['Relation Name']));
    for (const child of (node.Plans as Array<Record<string, unknown>> | undefined) ?? []) visit(child);
  };
  visit((plan as Array<{ Plan: Record<string, unknown> }>)[0].Plan);
  return { indexes, seqScans };
}

describe('PostgreSQL plans for the query shapes', () => {
  // Real rows, planned with real statistics (no enable_seqscan = off): what the assertions show
  // is the plan the server chooses, not only that an index could be used. 40,000 profiles over
  // 30 days, five tags each: a store where a scan costs clearly more than an index lookup.
  const PROFILES = 40_000;
  const HOUR = 3_600_000;
  const end = T0;
  const start = T0 - 30 * 24 * HOUR;
  let backend: PostgresBackend;
  let client: pg.Client;
  before(async () => {
    const url = await server.freshDatabase();
    backend = await openPostgres(url);
    // The settings the store's own sessions run with, so the plans are the ones searches get.
    client = new pg.Client({ connectionString: url, options: SESSION_OPTIONS });
    await client.connect();
    const step = (end - start) / PROFILES;
    await client.query(
      `INSERT INTO profiles (id, start_ms, end_ms, received_at, protocol, service, env, version, host, runtime, pgo, cpu_cores,
         sample_count, duration_nanos, tags_json, metrics_json, attachments_json)
       SELECT 'id-' || lpad(i::text, 6, '0'), $1::float8 + i * $2::float8, $1::float8 + i * $2::float8 + 60000, $1::float8 + i * $2::float8 + 60500, 'datadog',
         'svc-' || (i % 50), (ARRAY['prod', 'staging', 'dev'])[i % 3 + 1], 'v1.' || (i % 20), 'host-' || (i % 500), 'go',
         i % 2 = 0, CASE WHEN i % 10 = 0 THEN NULL ELSE (i % 16) / 4.0 END, 6000, 60e9, '[]', '{}', '[]'
       FROM generate_series(1, $3::integer) AS i`,
      [start, step, PROFILES],
    );
    await client.query(
      `INSERT INTO profile_tags (profile_id, key, value, start_ms, end_ms)
       SELECT id, 'service', service, start_ms, end_ms FROM profiles UNION ALL SELECT id, 'env', env, start_ms, end_ms FROM profiles
       UNION ALL SELECT id, 'version', version, start_ms, end_ms FROM profiles UNION ALL SELECT id, 'host', host, start_ms, end_ms FROM profiles
       UNION ALL SELECT id, 'pgo', pgo::text, start_ms, end_ms FROM profiles`,
    );
    await client.query(
      `INSERT INTO profile_metrics (profile_id, name, value, start_ms, end_ms)
       SELECT id, 'core_cpu_cores', cpu_cores, start_ms, end_ms FROM profiles WHERE cpu_cores IS NOT NULL
       UNION ALL SELECT id, 'heap_mb', substr(id, 4)::float8, start_ms, end_ms FROM profiles`,
    );
    await client.query('UPDATE profile_span SET longest_ms = 60000');
    // Statistics from every row (the sample covers the tables), so the plans are the same on every run.
    await client.query('SET default_statistics_target = 1000');
    // VACUUM marks the pages all-visible, as autovacuum does after inserts: index-only scans then
    // read no table rows.
    await client.query('VACUUM ANALYZE');
  });
  after(async () => {
    await client.end();
    await backend.close();
  });

  async function plan(search: Partial<ProfileSearch>): Promise<{ indexes: Set<string>; seqScans: Set<string> }> {
    const { text, values } = searchStatement({ query: '', from: start, to: end, limit: 50, ...search }, 60_000, true);
    const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${text}`, values);
    return planSummary(rows[0]['QUERY PLAN']);
  }

  const lastHour = { from: end - HOUR, to: end };
  /** Each shape of the language, the index it must use, and tables it must not scan whole. */
  const shapes: Array<{ name: string; search: Partial<ProfileSearch>; index: string | string[]; noScanOf: string[] }> = [
    {
      name: 'exact tag value',
      search: { query: 'host:host-7' },
      index: ['profile_tags_by_window', 'profile_tags_pkey'],
      noScanOf: ['profile_tags', 'profiles'],
    },
    {
      name: 'values of one key OR-ed',
      search: { query: 'host:(host-7 OR host-8)' },
      index: ['profile_tags_by_window', 'profile_tags_pkey'],
      noScanOf: ['profile_tags', 'profiles'],
    },
    {
      name: 'literal prefix wildcard',
      search: { query: 'host:host-12*' },
      index: ['profile_tags_by_window', 'profile_tags_pkey'],
      noScanOf: ['profile_tags', 'profiles'],
    },
    // Hundreds of matches: a hash join against profiles may cost less than lookups by id.
    {
      name: 'wildcard inside the value',
      search: { query: 'host:host-1?3' },
      index: ['profile_tags_by_window', 'profile_tags_pkey'],
      noScanOf: ['profile_tags'],
    },
    // pg_trgm: the values holding the literal parts, not every value of the key.
    { name: 'leading wildcard', search: { query: 'host:*-77' }, index: TRIGRAM_INDEX, noScanOf: ['profile_tags'] },
    { name: 'infix wildcard', search: { query: 'host:*st-12*' }, index: TRIGRAM_INDEX, noScanOf: ['profile_tags'] },
    // One EXISTS over the union of the terms' ranges, not a per-row OR over the window.
    {
      name: 'tag terms of two keys OR-ed',
      search: { query: 'host:host-7 OR env:eu-prod OR host:host-8?' },
      index: 'profile_tags_pkey',
      noScanOf: ['profile_tags', 'profiles'],
    },
    { name: 'two terms', search: { query: 'host:host-7 env:prod' }, index: 'profile_tags_pkey', noScanOf: ['profile_tags', 'profiles'] },
    // Most profiles match: walking newest first and testing each one's own tags fills a page soonest.
    {
      name: 'negated term',
      search: { query: '-env:prod' },
      index: ['profile_tags_pkey', 'profile_tags_by_profile'],
      noScanOf: ['profile_tags'],
    },
    {
      name: 'rare metric comparison',
      search: { query: '@metrics.heap_mb:>39990' },
      index: 'profile_metrics_by_value',
      noScanOf: ['profile_metrics', 'profiles'],
    },
    {
      name: 'rare metric range',
      search: { query: '@metrics.heap_mb:[100 TO 120]' },
      index: 'profile_metrics_by_value',
      noScanOf: ['profile_metrics', 'profiles'],
    },
    // One profile in 16 matches: walking newest first and looking up each one's metric fills a page soonest.
    {
      name: 'common metric comparison',
      search: { query: '@metrics.core_cpu_cores:>3.7' },
      index: ['profile_metrics_by_value', 'profile_metrics_pkey'],
      noScanOf: ['profile_metrics'],
    },
    { name: 'profile id', search: { query: 'profile-id:id-000123' }, index: 'profiles_pkey', noScanOf: ['profiles'] },
    { name: 'profile id prefix', search: { query: 'profile-id:id-0001*' }, index: 'profiles_pkey', noScanOf: ['profiles'] },
    { name: 'time window, newest first', search: { query: '', ...lastHour }, index: 'profiles_by_start', noScanOf: ['profiles'] },
    {
      name: 'time window, oldest first',
      search: { query: '', ...lastHour, sort: 'start' },
      index: 'profiles_by_start',
      noScanOf: ['profiles'],
    },
    { name: 'everything, newest first', search: { query: '' }, index: 'profiles_by_start', noScanOf: ['profiles'] },
    { name: 'sort by service', search: { sort: 'service' }, index: 'profiles_by_service', noScanOf: ['profiles'] },
    { name: 'sort by -service', search: { sort: '-service' }, index: 'profiles_by_service', noScanOf: ['profiles'] },
    { name: 'sort by env', search: { sort: 'env' }, index: 'profiles_by_env', noScanOf: ['profiles'] },
    { name: 'sort by -version', search: { sort: '-version' }, index: 'profiles_by_version', noScanOf: ['profiles'] },
    { name: 'sort by host', search: { sort: 'host' }, index: 'profiles_by_host', noScanOf: ['profiles'] },
    { name: 'sort by cpu', search: { sort: 'cpu' }, index: 'profiles_by_cpu_asc', noScanOf: ['profiles'] },
    { name: 'sort by -cpu', search: { sort: '-cpu' }, index: 'profiles_by_cpu_desc', noScanOf: ['profiles'] },
  ];
  for (const shape of shapes) {
    const accepted = Array.isArray(shape.index) ? shape.index : [shape.index];
    it(`uses ${accepted.join(' or ')} for ${shape.name}`, async () => {
      const { indexes, seqScans } = await plan(shape.search);
      const summary = `indexes ${[...indexes].join(', ')}; scans ${[...seqScans].join(', ')}`;
      assert.ok(
        accepted.some((i) => indexes.has(i)),
        summary,
      );
      for (const table of shape.noScanOf) assert.ok(!seqScans.has(table), summary);
    });
  }

  /** The index scans of an executed plan: index, table, node type and table rows fetched. */
  async function executedScans(
    search: Partial<ProfileSearch>,
  ): Promise<Array<{ index: string; table: string; type: string; heapFetches: number }>> {
    const { text, values } = searchStatement({ query: '', from: start, to: end, limit: 50, ...search }, 60_000, true);
    const { rows } = await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values);
    const scans: Array<{ index: string; table: string; type: string; heapFetches: number }> = [];
    const visit = (node: Record<string, unknown>): void => {
      if (typeof node['Index Name'] === 'string') {
        scans.push({
          index: node['Index Name'],
          table: String(node['Relation Name']),
          type: String(node['Node Type']),
          heapFetches: Number(node['Heap Fetches'] ?? 0),
        });
      }
      for (const child of (node.Plans as Array<Record<string, unknown>> | undefined) ?? []) visit(child);
    };
    visit(rows[0]['QUERY PLAN'][0].Plan);
    return scans;
  }

  // The window is tested from the covering indexes alone: a search that tests thousands of
  // profiles for a page reads the table rows of the page only (the join on profiles_pkey).
  const windowTests: Array<{ name: string; search: Partial<ProfileSearch>; index: string }> = [
    { name: 'a walk along the window, newest first', search: { query: '-env:prod' }, index: 'profiles_by_start' },
    { name: 'a walk along the window, oldest first', search: { query: '-env:prod', sort: 'start' }, index: 'profiles_by_start' },
    { name: 'profiles found through a tag, tested for more', search: { query: 'host:host-7 -env:prod' }, index: 'profiles_pkey' },
    // One term: its own rows carry the window, so no profile is looked up but the page's.
    { name: 'the profiles of one tag term', search: { query: 'host:host-7' }, index: 'profile_tags_by_window' },
    { name: 'the profiles of one wildcard term', search: { query: 'host:host-1?3' }, index: 'profile_tags_by_window' },
    { name: 'the profiles of one metric term', search: { query: '@metrics.heap_mb:[100 TO 300]' }, index: 'profile_metrics_by_value' },
  ];
  for (const shape of windowTests) {
    it(`tests the window of ${shape.name} on ${shape.index} alone, reading rows of the page only`, async () => {
      const scans = await executedScans(shape.search);
      const summary = JSON.stringify(scans);
      const window = scans.filter((s) => s.index === shape.index && s.type === 'Index Only Scan');
      assert.ok(window.length > 0, summary);
      for (const s of window) assert.equal(s.heapFetches, 0, summary);
      // Only the page's rows are read from the table: one lookup by id per profile of the page.
      const rowReads = scans.filter((s) => s.table === 'profiles' && s.type !== 'Index Only Scan');
      assert.deepEqual(
        rowReads.map((s) => s.index),
        ['profiles_pkey'],
        summary,
      );
    });
  }

  it('lists the profiles of a metric range from profile_metrics_by_value alone', async () => {
    const scans = await executedScans({ query: '@metrics.heap_mb:[100 TO 300]' });
    const metric = scans.filter((s) => s.index === 'profile_metrics_by_value');
    assert.deepEqual(
      metric.map((s) => [s.type, s.heapFetches]),
      [['Index Only Scan', 0]],
      JSON.stringify(scans),
    );
  });

  it('reads only a window of retention candidates, oldest first', async () => {
    for (const text of [
      'SELECT * FROM profiles WHERE received_at < $1 ORDER BY received_at, id LIMIT $2',
      'SELECT * FROM profiles WHERE received_at < $1 AND NOT raw_deleted ORDER BY received_at, id LIMIT $2',
    ]) {
      const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${text}`, [end, 500]);
      const { indexes, seqScans } = planSummary(rows[0]['QUERY PLAN']);
      assert.ok(indexes.has('profiles_by_received') || indexes.has('profiles_raw_by_received'), [...indexes].join(', '));
      assert.ok(!seqScans.has('profiles'));
    }
  });
});
