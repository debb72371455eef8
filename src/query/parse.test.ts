import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QueryNode } from './ast.js';
import { QuerySyntaxError } from './errors.js';
import { MAX_QUERY_DEPTH, MAX_QUERY_LENGTH, parseQuery } from './parse.js';

/**
 * Invalid queries: where the error points (1-based column) and part of its message. Valid
 * queries, with the profiles they match, are in sql.test.ts.
 */
const INVALID_QUERIES: ReadonlyArray<{ query: string; column: number; message: string }> = [
  // Parentheses.
  { query: '(service:a OR service:b', column: 24, message: 'expected ")" at column 24, found end of query (to close "(" at column 1)' },
  { query: '((env:dev)', column: 11, message: 'expected ")" at column 11, found end of query' },
  { query: 'service:a)', column: 10, message: 'expected end of query at column 10, found ")" (no "(" to close)' },
  { query: '(env:dev))', column: 10, message: 'found ")"' },
  { query: '()', column: 2, message: 'expected a term at column 2, found ")"' },
  // Operators without operands.
  { query: 'env:dev OR', column: 11, message: 'expected a term after OR at column 11, found end of query' },
  { query: 'env:dev OR )', column: 12, message: 'expected a term after OR at column 12, found ")"' },
  { query: 'OR env:dev', column: 1, message: 'expected a term at column 1, found "OR"' },
  { query: 'env:dev AND', column: 12, message: 'expected a term after AND at column 12, found end of query' },
  { query: 'env:dev AND OR env:prod', column: 13, message: 'expected a term at column 13, found "OR"' },
  { query: 'NOT', column: 4, message: 'expected a term after NOT at column 4, found end of query' },
  { query: '- pgo:true', column: 2, message: 'expected a term right after "-" at column 2, found whitespace' },
  { query: 'env:dev -', column: 10, message: 'expected a term right after "-" at column 10, found end of query' },
  // Keys and values.
  { query: 'service:', column: 9, message: 'empty value for "service" at column 9' },
  { query: 'service: web', column: 9, message: 'empty value for "service" at column 9; write service:value with no space after ":"' },
  { query: '(service:)', column: 10, message: 'empty value for "service" at column 10' },
  { query: ':web', column: 1, message: 'missing key before ":" at column 1' },
  { query: 'env:dev :web', column: 9, message: 'missing key before ":" at column 9' },
  {
    query: 'web',
    column: 1,
    message: 'expected key:value at column 1, found "web"; free-text search is not supported, write a tag such as service:web',
  },
  { query: 'env:dev web-api*', column: 9, message: 'expected key:value at column 9, found "web-api*"' },
  {
    query: '"web api"',
    column: 1,
    message: `expected key:value at column 1, found a quoted value; free-text search is not supported, write key:"value"`,
  },
  { query: 'env:dev or env:prod', column: 9, message: 'found "or"; operators are written in capitals (OR)' },
  { query: 'serv!ce:web', column: 5, message: 'invalid character "!" in key at column 5' },
  { query: 'version:1.0(beta)', column: 12, message: 'unexpected "(" in the value of "version" at column 12; quote the whole value' },
  { query: 'host:web"1"', column: 9, message: `unexpected '"' in the value of "host" at column 9` },
  { query: 'host:web\\', column: 10, message: 'expected a character after "\\" at column 10, found end of query' },
  // Quoted values.
  { query: 'host:"web 1', column: 12, message: `expected '"' at column 12, found end of query (to close the quote at column 6)` },
  { query: 'host:"web\\', column: 11, message: `expected '"' at column 11, found end of query` },
  { query: 'path:"C:\\tmp"', column: 9, message: 'unknown escape "\\t" in a quoted value at column 9; only \\" and \\\\ are allowed' },
  { query: 'host:"web"1', column: 11, message: 'expected whitespace or ")" after the value at column 11, found "1"' },
  // Value groups.
  { query: 'team:(core OR )', column: 15, message: 'expected a value for "team" after OR at column 15, found ")"' },
  { query: 'team:()', column: 7, message: 'expected a value for "team" at column 7, found ")"' },
  { query: 'team:(core', column: 11, message: 'expected ")" at column 11, found end of query (to close "(" at column 6)' },
  { query: 'team:(core OR (infra)', column: 22, message: 'expected ")" at column 22' },
  { query: 'team:(OR)', column: 7, message: 'expected a value for "team" at column 7, found "OR"; quote it ("OR") to search for the word' },
  { query: 'team:(core NOT)', column: 15, message: 'expected a value for "team" after NOT at column 15, found ")"' },
  // Attributes and numbers.
  { query: '@foo:bar', column: 1, message: 'unknown attribute "@foo" at column 1; the only attributes are @metrics.<name>' },
  { query: 'env:prod -@host.name:x', column: 11, message: 'unknown attribute "@host.name" at column 11' },
  { query: '@metrics:1', column: 1, message: 'unknown attribute "@metrics" at column 1' },
  { query: '@metrics.:1', column: 10, message: 'expected a metric name after "@metrics." at column 10, found ":1"' },
  { query: '@ metrics.x:1', column: 2, message: 'expected an attribute name after "@" at column 2, found whitespace' },
  {
    query: '@metrics.core_cpu_cores',
    column: 24,
    message: 'expected ":" after "@metrics.core_cpu_cores" at column 24, found end of query',
  },
  { query: '@metrics.core_cpu_cores:', column: 25, message: 'empty value for "@metrics.core_cpu_cores" at column 25' },
  { query: 'service:web-api @metrics.cpu:>abc', column: 31, message: '"abc" is not a number at column 31' },
  { query: '@metrics.core_cpu_cores:>', column: 26, message: 'expected a number after ">" at column 26, found end of query' },
  { query: '@metrics.core_cpu_cores:1..5', column: 25, message: '"1..5" is not a number at column 25' },
  { query: '@metrics.core_cpu_cores:0x10', column: 25, message: '"0x10" is not a number' },
  { query: '@metrics.core_cpu_cores:Infinity', column: 25, message: '"Infinity" is not a number' },
  { query: '@metrics.core_cpu_cores:1e999', column: 25, message: '1e999 is out of range at column 25' },
  { query: '@metrics.core_cpu_cores:"1.5"', column: 25, message: `expected a number at column 25, found '"'; numbers are not quoted` },
  { query: '@metrics.core_cpu_cores:1.5(', column: 28, message: 'expected whitespace or ")" after the value at column 28, found "("' },
  { query: '@metrics.x:[5 TO 1]', column: 12, message: 'empty range at column 12: the lower bound 5 is greater than the upper bound 1' },
  { query: '@metrics.x:[1 TO 5', column: 19, message: 'expected "]" at column 19, found end of query (to close "[" at column 12)' },
  { query: '@metrics.x:[1 5]', column: 15, message: 'expected " TO " at column 15, found "5]" (ranges are written [min TO max])' },
  { query: '@metrics.x:[1 TO ]', column: 18, message: 'expected a number after "TO" at column 18, found "]"' },
  { query: '@metrics.x:[]', column: 13, message: 'expected a number after "[" at column 13, found "]"' },
  // Limits.
  {
    query: `env:${'x'.repeat(MAX_QUERY_LENGTH)}`,
    column: MAX_QUERY_LENGTH + 1,
    message: 'query too long at column 4097: expected at most 4096 characters, found 4100',
  },
  {
    query: `${'('.repeat(MAX_QUERY_DEPTH + 1)}env:dev${')'.repeat(MAX_QUERY_DEPTH + 1)}`,
    column: MAX_QUERY_DEPTH + 1,
    message: 'query nested too deeply at column 65: expected at most 64 levels of parentheses and negations',
  },
  {
    query: `${'NOT '.repeat(MAX_QUERY_DEPTH + 1)}env:dev`,
    column: 4 * MAX_QUERY_DEPTH + 1,
    message: 'query nested too deeply at column 257',
  },
  { query: `-(${'-('.repeat(40)}env:dev${'))'.repeat(40)})`, column: 65, message: 'query nested too deeply at column 65' },
  {
    query: `team:${'('.repeat(MAX_QUERY_DEPTH + 1)}core${')'.repeat(MAX_QUERY_DEPTH + 1)}`,
    column: 70,
    message: 'query nested too deeply',
  },
  // Columns count characters, not UTF-16 units.
  { query: 'emoji:🔥🔥 web', column: 10, message: 'expected key:value at column 10, found "web"' },
];

describe('parseQuery rejects invalid queries', () => {
  it('has a large enough table', () => assert.ok(INVALID_QUERIES.length >= 40));
  for (const { query, column, message } of INVALID_QUERIES) {
    it(query.length > 80 ? `${query.slice(0, 50)}… (${query.length} characters)` : JSON.stringify(query), () => {
      assert.throws(
        () => parseQuery(query),
        (e: unknown) => {
          assert.ok(e instanceof QuerySyntaxError, String(e));
          assert.equal(e.name, 'QuerySyntaxError');
          assert.equal(e.column, column, e.message);
          assert.ok(e.message.includes(message), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(message)}`);
          assert.ok(e.message.includes(`column ${column}`), e.message);
          // offset indexes the string; column counts the characters before it.
          assert.equal([...query.slice(0, e.offset)].length + 1, e.column);
          return true;
        },
      );
    });
  }
});

const tag = (key: string, value: string): QueryNode => ({ kind: 'tag', key, value: { kind: 'exact', value } });
const not = (child: QueryNode): QueryNode => ({ kind: 'not', child });
const and = (...children: QueryNode[]): QueryNode => ({ kind: 'and', children });
const or = (...children: QueryNode[]): QueryNode => ({ kind: 'or', children });

describe('parseQuery', () => {
  it('gives match-all for an empty or blank query', () => {
    assert.deepEqual(parseQuery(''), { kind: 'all' });
    assert.deepEqual(parseQuery(' \t\r\n'), { kind: 'all' });
  });

  it('binds NOT tighter than AND, and AND tighter than OR', () => {
    assert.deepEqual(parseQuery('-a:1 OR b:2'), or(not(tag('a', '1')), tag('b', '2')));
    assert.deepEqual(parseQuery('a:1 b:2 OR c:3'), or(and(tag('a', '1'), tag('b', '2')), tag('c', '3')));
    assert.deepEqual(parseQuery('a:1 OR b:2 AND c:3'), or(tag('a', '1'), and(tag('b', '2'), tag('c', '3'))));
    assert.deepEqual(parseQuery('NOT a:1 b:2'), and(not(tag('a', '1')), tag('b', '2')));
    assert.deepEqual(parseQuery('NOT (a:1 b:2)'), not(and(tag('a', '1'), tag('b', '2'))));
    assert.deepEqual(parseQuery('NOT NOT a:1'), not(not(tag('a', '1'))));
  });

  it('flattens nested groups of the same operator', () => {
    assert.deepEqual(parseQuery('(a:1 b:2) AND (c:3 (d:4))'), and(tag('a', '1'), tag('b', '2'), tag('c', '3'), tag('d', '4')));
    assert.deepEqual(parseQuery('a:1 OR (b:2 OR c:3)'), or(tag('a', '1'), tag('b', '2'), tag('c', '3')));
  });

  it('applies a value group to its key', () => {
    assert.deepEqual(parseQuery('v:(1 OR 2 3)'), or(tag('v', '1'), and(tag('v', '2'), tag('v', '3'))));
    assert.deepEqual(parseQuery('v:(NOT (1 OR "2 3"))'), not(or(tag('v', '1'), tag('v', '2 3'))));
    assert.deepEqual(
      parseQuery('profile-id:(a OR b)'),
      or({ kind: 'id', value: { kind: 'exact', value: 'a' } }, { kind: 'id', value: { kind: 'exact', value: 'b' } }),
    );
    assert.deepEqual(
      parseQuery('@metrics.m:(>1 AND <=2)'),
      and(
        { kind: 'metric', name: 'm', test: { kind: 'compare', op: '>', value: 1 } },
        { kind: 'metric', name: 'm', test: { kind: 'compare', op: '<=', value: 2 } },
      ),
    );
  });

  it('reads wildcards from bare values only, normalised', () => {
    assert.deepEqual(parseQuery('h:**a?b*'), {
      kind: 'tag',
      key: 'h',
      value: {
        kind: 'wildcard',
        segments: [
          { kind: 'anyChars' },
          { kind: 'literal', text: 'a' },
          { kind: 'oneChar' },
          { kind: 'literal', text: 'b' },
          { kind: 'anyChars' },
        ],
      },
    });
    assert.deepEqual(parseQuery('h:"a*?"'), tag('h', 'a*?'));
    assert.deepEqual(parseQuery('h:a\\*\\?\\\\'), tag('h', 'a*?\\'));
    assert.deepEqual(parseQuery('h:a\\ b\\(c\\)\\"'), tag('h', 'a b(c)"'));
  });

  it('keeps every character of a value that is not a delimiter', () => {
    assert.deepEqual(
      parseQuery('image:nginx:1.25 url:https://x/y?z=1'),
      and(tag('image', 'nginx:1.25'), {
        kind: 'tag',
        key: 'url',
        value: {
          kind: 'wildcard',
          segments: [{ kind: 'literal', text: 'https://x/y' }, { kind: 'oneChar' }, { kind: 'literal', text: 'z=1' }],
        },
      }),
    );
    assert.deepEqual(parseQuery('offset:-1 k:NOT k:OR'), and(tag('offset', '-1'), tag('k', 'NOT'), tag('k', 'OR')));
    assert.deepEqual(parseQuery('h:""'), tag('h', ''));
    assert.deepEqual(parseQuery('h:"é 🔥 \\\\ \\""'), tag('h', 'é 🔥 \\ "'));
  });

  it('treats operator words followed by ":" as keys', () => {
    assert.deepEqual(parseQuery('OR:1 AND:2 NOT:3'), and(tag('OR', '1'), tag('AND', '2'), tag('NOT', '3')));
    assert.deepEqual(parseQuery('NOT(a:1)OR(b:2)'), or(not(tag('a', '1')), tag('b', '2')));
  });

  it('reads decimal numbers, signs and exponents', () => {
    const value = (q: string): unknown => (parseQuery(`@metrics.m:${q}`) as { test: unknown }).test;
    assert.deepEqual(value('-0.5'), { kind: 'compare', op: '=', value: -0.5 });
    assert.deepEqual(value('>=.25'), { kind: 'compare', op: '>=', value: 0.25 });
    assert.deepEqual(value('<+3'), { kind: 'compare', op: '<', value: 3 });
    assert.deepEqual(value('>1E3'), { kind: 'compare', op: '>', value: 1000 });
    assert.deepEqual(value('[ -1.5 TO 2e-1 ]'), { kind: 'range', min: -1.5, max: 0.2 });
    assert.deepEqual(value('[2 TO 2]'), { kind: 'range', min: 2, max: 2 });
    for (const bad of ['1.', '-', '+.', '1e', '1e+', '--1', '1_000', 'NaN', '١']) {
      assert.throws(() => parseQuery(`@metrics.m:${bad}`), /is not a number/, bad);
    }
  });

  it('accepts queries at exactly the length and depth limits', () => {
    assert.doesNotThrow(() => parseQuery(`env:${'x'.repeat(MAX_QUERY_LENGTH - 4)}`));
    assert.doesNotThrow(() => parseQuery(`${'('.repeat(MAX_QUERY_DEPTH)}a:b${')'.repeat(MAX_QUERY_DEPTH)}`));
    assert.doesNotThrow(() => parseQuery(`${'-'.repeat(MAX_QUERY_DEPTH)}a:b`));
  });

  it('keeps long flat queries flat', () => {
    // 500 terms OR-ed: one node with 500 children, not 500 levels.
    const query = Array.from({ length: 500 }, (_, i) => `k:${i % 10}`).join(' OR ');
    const node = parseQuery(query);
    assert.ok(node.kind === 'or');
    assert.equal(node.children.length, 500);
  });

  it('throws only QuerySyntaxError, for any input', () => {
    const alphabet = [
      '(',
      ')',
      '"',
      '\\',
      ':',
      '-',
      '*',
      '?',
      '[',
      ']',
      '@',
      ' ',
      'a',
      'OR',
      'AND',
      'NOT',
      'TO',
      '>',
      '=',
      '1',
      '.',
      'é',
      '\ud83d',
      '\n',
    ];
    let state = 12345;
    for (let i = 0; i < 20000; i++) {
      let query = '';
      for (let j = (i % 12) + 1; j > 0; j--) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        query += alphabet[state % alphabet.length];
      }
      try {
        parseQuery(query);
      } catch (e) {
        if (!(e instanceof QuerySyntaxError)) throw new Error(`${JSON.stringify(query)} threw ${e}`);
        assert.ok(e.offset >= 0 && e.offset <= query.length, query);
        assert.ok(e.column >= 1, query);
      }
    }
  });
});
