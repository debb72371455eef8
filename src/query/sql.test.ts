import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { QueryNode } from './ast.js';
import { type SqlDialect, sqliteDialect } from './dialect.js';
import { matchesQuery } from './evaluate.js';
import { FIXTURE_IDS, FIXTURE_PROFILES, loadProfiles } from './fixture-profiles.testing.js';
import { MAX_QUERY_LENGTH, parseQuery } from './parse.js';
import { caseName, profileIdsQuery, randomQueries, VALID_QUERIES } from './query-cases.testing.js';
import { queryToSql } from './sql.js';

const db = new Database(':memory:');
loadProfiles(db);

const existsDialect: SqlDialect = { ...sqliteDialect, childRowTest: 'exists' };

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
  it('gives the same profiles both ways for every query that parses', () => {
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
      assert.deepEqual(idsBySql(node), expected, query);
      assert.deepEqual(idsBySql(node, existsDialect), expected, query);
    }
    assert.ok(valid > 1000, `only ${valid} valid queries`);
  });
});
