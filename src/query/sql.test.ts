import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { QueryNode } from './ast.js';
import { type SqlDialect, sqliteDialect } from './dialect.js';
import { matchesQuery } from './evaluate.js';
import { FIXTURE_IDS, FIXTURE_PROFILES, loadProfiles } from './fixture-profiles.testing.js';
import { MAX_QUERY_DEPTH, MAX_QUERY_LENGTH, parseQuery } from './parse.js';
import { queryToSql } from './sql.js';

const db = new Database(':memory:');
loadProfiles(db);

const existsDialect: SqlDialect = { ...sqliteDialect, childRowTest: 'exists' };

/** Every fixture id except these. */
function except(...ids: string[]): string[] {
  return FIXTURE_IDS.filter((id) => !ids.includes(id));
}

function idsBySql(node: QueryNode, dialect: SqlDialect = sqliteDialect): string[] {
  const { where, params } = queryToSql(node, { dialect });
  return db
    .prepare(`SELECT p.id FROM profiles p WHERE ${where} ORDER BY p.id`)
    .pluck()
    .all(...params) as string[];
}

function idsByEvaluation(node: QueryNode): string[] {
  return FIXTURE_PROFILES.filter((p) => matchesQuery(node, p)).map((p) => p.id);
}

function profileIdsQuery(length: number): string {
  // profile-id:(p01 OR p02 OR ... ) padded with spaces to exactly `length` characters.
  const q = `profile-id:(${FIXTURE_IDS.join(' OR ')})`;
  return q.replace('(', `(${' '.repeat(length - q.length)}`);
}

/**
 * Valid queries and the fixture profiles they match. Each is run through SQLite (both ways of
 * writing child-row tests) and through matchesQuery; all three must give these ids. Invalid
 * queries are in parse.test.ts.
 */
const VALID_QUERIES: ReadonlyArray<{ query: string; ids: readonly string[] }> = [
  // Empty and blank queries match everything.
  { query: '', ids: FIXTURE_IDS },
  { query: ' \t\n ', ids: FIXTURE_IDS },
  // Terms, juxtaposition, AND, OR.
  { query: 'service:web-api', ids: ['p01', 'p02', 'p09'] },
  { query: 'service:web-api env:prod', ids: ['p01', 'p09'] },
  { query: 'service:web-api AND env:prod', ids: ['p01', 'p09'] },
  { query: 'env:staging OR env:dev', ids: ['p02', 'p05', 'p11', 'p12'] },
  { query: 'service:worker OR(env:dev)', ids: ['p04', 'p05', 'p12'] },
  { query: 'k8s.io/namespace:jobs', ids: ['p04', 'p05'] },
  { query: 'version:1.10', ids: ['p10'] },
  // Negation and precedence: NOT > AND > OR.
  { query: '-pgo:true', ids: except('p01', 'p03', 'p05', 'p09') },
  { query: 'NOT pgo:true', ids: except('p01', 'p03', 'p05', 'p09') },
  { query: '-service:web-api OR env:staging', ids: except('p01', 'p09') },
  { query: 'NOT NOT pgo:true', ids: ['p01', 'p03', 'p05', 'p09'] },
  { query: '--pgo:true', ids: ['p01', 'p03', 'p05', 'p09'] },
  { query: 'NOT (env:prod OR env:dev)', ids: ['p02', 'p08', 'p10', 'p11'] },
  { query: 'env:prod service:web-api OR service:worker', ids: ['p01', 'p04', 'p05', 'p09'] },
  { query: 'service:worker OR service:web-api env:prod', ids: ['p01', 'p04', 'p05', 'p09'] },
  { query: 'env:prod (service:web-api OR service:worker)', ids: ['p01', 'p04', 'p09'] },
  { query: '((service:worker) (env:dev OR (env:prod pgo:false)))', ids: ['p04', 'p05'] },
  { query: '(((((env:dev)))))', ids: ['p05', 'p12'] },
  // Value groups; several values of one tag on one profile.
  { query: 'version:(1.2 OR 1.3)', ids: ['p01', 'p02', 'p03', 'p09'] },
  { query: 'team:infra', ids: ['p01', 'p04', 'p09'] },
  { query: 'team:(core AND infra)', ids: ['p01'] },
  { query: 'team:(core infra)', ids: ['p01'] },
  { query: '-team:core', ids: except('p01', 'p02') },
  { query: 'team:(infra AND NOT core)', ids: ['p04', 'p09'] },
  { query: 'version:(1.2 OR (2.0 AND NOT 1.3))', ids: ['p01', 'p04', 'p09'] },
  // Wildcards: start, middle, end, `?`, whole value, case-sensitive, code points.
  { query: 'service:web-*', ids: ['p01', 'p02', 'p03', 'p09', 'p12'] },
  { query: 'service:*er', ids: ['p04', 'p05'] },
  { query: 'service:w*r', ids: ['p04', 'p05'] },
  { query: 'host:*-prod-?', ids: ['p03', 'p04'] },
  { query: 'service:web-caf?', ids: ['p12'] },
  { query: 'emoji:?', ids: ['p12'] },
  { query: 'service:Web-API', ids: ['p07'] },
  { query: 'env:prod*', ids: ['p01', 'p03', 'p04', 'p06', 'p07', 'p09', 'p10'] },
  { query: 'service:*', ids: except('p08') },
  { query: '-service:*', ids: ['p08'] },
  { query: 'region:eu-west-1 OR NOT region:*', ids: except('p11') },
  // Quoted values are literal: spaces, `:`, `(`, `*`, escapes.
  { query: 'host:"web 1"', ids: ['p01', 'p09'] },
  { query: 'host:"dev box" OR host:"web 2"', ids: ['p02', 'p05'] },
  { query: 'env:"prod eu"', ids: ['p10'] },
  { query: 'service:"db:proxy"', ids: ['p06'] },
  { query: 'service:db:proxy', ids: ['p06'] },
  { query: 'version:"1.2 (beta)"', ids: ['p06'] },
  { query: 'version:1.2\\ \\(beta\\)', ids: ['p06'] },
  { query: 'host:"a*b"', ids: ['p06'] },
  { query: 'host:a\\*b', ids: ['p06'] },
  { query: 'host:"web*"', ids: [] },
  { query: 'host:web*', ids: ['p01', 'p02', 'p09'] },
  { query: 'path:"C:\\\\tmp\\\\x"', ids: ['p11'] },
  { query: 'quote:"say \\"hi\\""', ids: ['p11'] },
  // `[` and `?` as literal characters, also next to wildcards (GLOB escaping).
  { query: 'host:"rack[1]?"', ids: ['p07'] },
  { query: 'host:rack\\[1]\\?', ids: ['p07'] },
  { query: 'host:rack[1]*', ids: ['p07'] },
  { query: 'host:rack[?]?', ids: ['p07'] },
  { query: 'host:*[*', ids: ['p07'] },
  // Metrics: comparisons, decimals, negatives, exponents, ranges, groups, missing metrics.
  { query: '@metrics.core_cpu_cores:>1.5', ids: ['p01', 'p04', 'p09', 'p11'] },
  { query: '@metrics.core_cpu_cores:>=1.5', ids: ['p01', 'p03', 'p04', 'p06', 'p09', 'p11'] },
  { query: '@metrics.core_cpu_cores:<1', ids: ['p02', 'p07', 'p10'] },
  { query: '@metrics.core_cpu_cores:<=1', ids: ['p02', 'p05', 'p07', 'p10'] },
  { query: '@metrics.core_cpu_cores:1.5', ids: ['p03', 'p06'] },
  { query: '@metrics.core_cpu_cores:15e-1', ids: ['p03', 'p06'] },
  { query: '@metrics.core_cpu_cores:[1 TO 2.5]', ids: ['p01', 'p03', 'p05', 'p06', 'p12'] },
  { query: '@metrics.core_cpu_cores:(>1 AND <2)', ids: ['p03', 'p06', 'p12'] },
  { query: '@metrics.heap_delta_mb:<-0.25', ids: ['p02', 'p04'] },
  { query: '@metrics.heap_delta_mb:[-3.25 TO 0]', ids: ['p02', 'p04', 'p05'] },
  { query: '@metrics.heap_delta_mb:-.5', ids: ['p02'] },
  { query: '-@metrics.heap_delta_mb:>=0', ids: except('p01', 'p05', 'p10') },
  { query: '@metrics.nonexistent:>0', ids: [] },
  { query: 'service:web-api @metrics.core_cpu_cores:>2', ids: ['p01', 'p09'] },
  // Profile ids.
  { query: 'profile-id:p03', ids: ['p03'] },
  { query: 'profile-id:(p01 OR p03 OR p12)', ids: ['p01', 'p03', 'p12'] },
  { query: '-profile-id:(p01 OR p02) service:web-api', ids: ['p09'] },
  { query: 'profile-id:p1*', ids: ['p10', 'p11', 'p12'] },
  {
    query: 'service:web-api OR service:worker OR profile-id:p06 OR profile-id:p07',
    ids: ['p01', 'p02', 'p04', 'p05', 'p06', 'p07', 'p09'],
  },
  // Keys are exact strings: operator words and inherited property names are ordinary keys.
  { query: 'OR:x', ids: [] },
  { query: 'constructor:x', ids: [] },
  { query: '-constructor:*', ids: FIXTURE_IDS },
  // At the limits.
  { query: `${'('.repeat(MAX_QUERY_DEPTH)}env:dev${')'.repeat(MAX_QUERY_DEPTH)}`, ids: ['p05', 'p12'] },
  { query: `${'-'.repeat(MAX_QUERY_DEPTH)}pgo:true`, ids: ['p01', 'p03', 'p05', 'p09'] },
  { query: profileIdsQuery(MAX_QUERY_LENGTH), ids: FIXTURE_IDS },
];

function caseName(query: string): string {
  return query.length > 80 ? `${query.slice(0, 60)}… (${query.length} characters)` : JSON.stringify(query);
}

describe('queryToSql on SQLite agrees with matchesQuery', () => {
  it('has a large enough table', () => {
    assert.ok(VALID_QUERIES.length >= 40);
    assert.equal(profileIdsQuery(MAX_QUERY_LENGTH).length, MAX_QUERY_LENGTH);
  });
  for (const { query, ids } of VALID_QUERIES) {
    it(caseName(query), () => {
      const node = parseQuery(query);
      assert.deepEqual(idsBySql(node), ids, 'IN-subquery SQL');
      assert.deepEqual(idsBySql(node, existsDialect), ids, 'EXISTS SQL');
      assert.deepEqual(idsByEvaluation(node), ids, 'matchesQuery');
    });
  }
});

describe('queryToSql', () => {
  it('writes tag terms as parameterised subqueries over (key, value)', () => {
    assert.deepEqual(queryToSql(parseQuery('service:foo -env:prod')), {
      where:
        'p.id IN (SELECT t.profile_id FROM profile_tags t WHERE t.key = ? AND t.value = ?)' +
        ' AND p.id NOT IN (SELECT t.profile_id FROM profile_tags t WHERE t.key = ? AND t.value = ?)',
      params: ['service', 'foo', 'env', 'prod'],
    });
  });

  it('writes EXISTS when the dialect asks for it', () => {
    assert.deepEqual(queryToSql(parseQuery('NOT service:foo @metrics.x:[1 TO 2]'), { dialect: existsDialect }), {
      where:
        'NOT EXISTS (SELECT 1 FROM profile_tags t WHERE t.profile_id = p.id AND t.key = ? AND t.value = ?)' +
        ' AND EXISTS (SELECT 1 FROM profile_metrics m WHERE m.profile_id = p.id AND m.name = ? AND m.value BETWEEN ? AND ?)',
      params: ['service', 'foo', 'x', 1, 2],
    });
  });

  it('merges exact values of one key, and exact ids, that are OR-ed together', () => {
    assert.deepEqual(queryToSql(parseQuery('version:(1.2 OR 1.3 OR 1.2*) OR profile-id:(a OR b) OR version:1.4')), {
      where:
        'p.id IN (SELECT t.profile_id FROM profile_tags t WHERE t.key = ? AND t.value IN (?, ?, ?))' +
        ' OR p.id IN (SELECT t.profile_id FROM profile_tags t WHERE t.key = ? AND t.value GLOB ?)' +
        ' OR p.id IN (?, ?)',
      params: ['version', '1.2', '1.3', '1.4', 'version', '1.2*', 'a', 'b'],
    });
  });

  it('parenthesises OR inside AND and anything compound under NOT', () => {
    const { where } = queryToSql(parseQuery('a:1 (b:2 OR c:3) -(d:4 e:5) -profile-id:x'));
    assert.match(
      where,
      /^p\.id IN \(.*\) AND \(p\.id IN .* OR p\.id IN .*\) AND NOT \(p\.id IN .* AND p\.id IN .*\) AND NOT \(p\.id = \?\)$/,
    );
  });

  it('reduces `key:*` to the key existing, and escapes GLOB metacharacters in literal text', () => {
    assert.deepEqual(queryToSql(parseQuery('team:* host:a[1]?*\\*')), {
      where:
        'p.id IN (SELECT t.profile_id FROM profile_tags t WHERE t.key = ?)' +
        ' AND p.id IN (SELECT t.profile_id FROM profile_tags t WHERE t.key = ? AND t.value GLOB ?)',
      params: ['team', 'host', 'a[[]1]?*[*]'],
    });
  });

  it('never puts query text into the SQL', () => {
    const hostile = `service:"'; DROP TABLE profiles; --" OR @metrics.x:1 OR profile-id:"p01' OR '1'='1" OR a:b*'c`;
    const node = parseQuery(hostile);
    const { where, params } = queryToSql(node);
    assert.deepEqual(params, ['service', "'; DROP TABLE profiles; --", 'x', 1, "p01' OR '1'='1", 'a', "b*'c"]);
    assert.doesNotMatch(where, /DROP|'|"/);
    assert.deepEqual(idsBySql(node), []);
    assert.equal(db.prepare('SELECT count(*) FROM profiles').pluck().get(), FIXTURE_IDS.length);
  });

  it('uses the (key, value) primary key for exact values and literal prefixes', () => {
    const plan = (query: string): string => {
      const { where, params } = queryToSql(parseQuery(query));
      const rows = db.prepare(`EXPLAIN QUERY PLAN SELECT p.id FROM profiles p WHERE ${where}`).all(...params) as Array<{ detail: string }>;
      return rows.map((r) => r.detail).join('\n');
    };
    assert.match(plan('service:web-api'), /SEARCH t USING PRIMARY KEY \(key=\? AND value=\?\)/);
    assert.match(plan('service:web-*'), /SEARCH t USING PRIMARY KEY \(key=\? AND value>\? AND value<\?\)/);
    assert.match(plan('host:rack[1]*'), /SEARCH t USING PRIMARY KEY \(key=\? AND value>\? AND value<\?\)/);
    assert.match(plan('service:*-api'), /SEARCH t USING PRIMARY KEY \(key=\?\)/);
    assert.match(plan('@metrics.core_cpu_cores:>1'), /SEARCH m USING PRIMARY KEY \(name=\?/);
  });

  it('writes numbered placeholders in parameter order for dialects that have them', () => {
    // SQLite accepts @name placeholders, which stand in for PostgreSQL's $1, $2 here.
    const named: SqlDialect = { ...sqliteDialect, placeholder: (n) => `@p${n}` };
    const node = parseQuery('env:(prod OR dev) -service:web-* @metrics.core_cpu_cores:[0 TO 2] OR profile-id:(p11 OR p10)');
    const { where, params } = queryToSql(node, { dialect: named });
    assert.match(where, /@p1\b.*@p2\b.*@p3\b.*@p4\b.*@p5\b.*@p6\b.*@p7\b.*@p8\b.*@p9\b.*@p10\b/);
    const bindings = Object.fromEntries(params.map((v, i) => [`p${i + 1}`, v]));
    const ids = db.prepare(`SELECT p.id FROM profiles p WHERE ${where} ORDER BY p.id`).pluck().all(bindings);
    assert.deepEqual(ids, idsByEvaluation(node));
    assert.deepEqual(ids, ['p05', 'p06', 'p07', 'p10', 'p11']);
  });

  it('uses profileIdColumn for the enclosing query, and refuses anything but an identifier', () => {
    const { where, params } = queryToSql(parseQuery('profile-id:p02 OR env:dev'), { profileIdColumn: 'profiles.id' });
    assert.deepEqual(
      db
        .prepare(`SELECT id FROM profiles WHERE ${where} ORDER BY id`)
        .pluck()
        .all(...params),
      ['p02', 'p05', 'p12'],
    );
    for (const column of ['id; DROP TABLE profiles', 'p.id)', '"p"."id"', '']) {
      assert.throws(() => queryToSql(parseQuery('a:b'), { profileIdColumn: column }), TypeError);
    }
    assert.throws(() => queryToSql(parseQuery('a:b'), { profileIdColumn: 't.id' }), /alias profiles as p/);
  });

  it('handles hand-built trees: empty and/or, match-all inside others', () => {
    const empty = (kind: 'and' | 'or'): QueryNode => ({ kind, children: [] });
    assert.deepEqual(idsBySql(empty('and')), FIXTURE_IDS);
    assert.deepEqual(idsBySql(empty('or')), []);
    assert.deepEqual(idsBySql({ kind: 'not', child: { kind: 'all' } }), []);
    assert.deepEqual(idsBySql({ kind: 'or', children: [{ kind: 'all' }, empty('or')] }), FIXTURE_IDS);
  });
});

describe('queryToSql and matchesQuery on random queries', () => {
  // Random strings over the syntax's own characters and the fixture's words: most are errors,
  // the rest are valid queries far stranger than anyone writes by hand.
  const pieces = [
    ' ',
    ' ',
    ' ',
    '(',
    ')',
    '-',
    'NOT ',
    ' AND ',
    ' OR ',
    ' OR ',
    '"',
    '*',
    '?',
    '\\',
    ':',
    'service:',
    'env:',
    'team:',
    'host:',
    'profile-id:',
    '@metrics.core_cpu_cores:',
    '@metrics.heap_delta_mb:',
    'web',
    '-api',
    'prod',
    'dev',
    'infra',
    'p0',
    '1',
    '.5',
    '>',
    '>=',
    '<',
    '[0 TO 3]',
    'é',
    '🔥',
    'service:web-api',
    'service:*er',
    'env:prod',
    'env:(dev OR staging)',
    'team:(core infra)',
    'team:infra',
    'host:"web 1"',
    'host:rack[?]*',
    'pgo:true',
    'version:1.?',
    '@metrics.core_cpu_cores:>1.5',
    '@metrics.heap_delta_mb:[-1 TO 0]',
    'profile-id:(p01 OR p04)',
    'region:*',
  ];

  it('gives the same profiles both ways for every query that parses', () => {
    let state = 0x9e3779b9;
    const random = (n: number): number => {
      // xorshift32: deterministic, so a failure reproduces.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    let valid = 0;
    for (let i = 0; i < 6000; i++) {
      let query = '';
      const length = 1 + random(6);
      for (let j = 0; j < length; j++) query += pieces[random(pieces.length)];
      let node: QueryNode;
      try {
        node = parseQuery(query);
      } catch (e) {
        assert.equal((e as Error).name, 'QuerySyntaxError', query);
        continue;
      }
      valid++;
      const expected = idsByEvaluation(node);
      assert.deepEqual(idsBySql(node), expected, query);
      assert.deepEqual(idsBySql(node, existsDialect), expected, query);
    }
    assert.ok(valid > 1000, `only ${valid} valid queries`);
  });
});
