import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { WildcardSegment } from './ast.js';
import { postgresDialect, toPostgresLike, toSqliteGlob } from './dialect.js';
import { matchesWildcard } from './wildcard.js';

describe('toSqliteGlob', () => {
  it('keeps wildcards and escapes GLOB metacharacters in literal text', () => {
    const segments: WildcardSegment[] = [
      { kind: 'literal', text: 'a[1]*?' },
      { kind: 'anyChars' },
      { kind: 'oneChar' },
      { kind: 'literal', text: '^]\\' },
    ];
    assert.equal(toSqliteGlob(segments), 'a[[]1][*][?]*?^]\\');
  });

  it('agrees with matchesWildcard when SQLite runs it', () => {
    // Random patterns and values over characters that matter to GLOB, including non-ASCII.
    const db = new Database(':memory:');
    const glob = db.prepare('SELECT ? GLOB ?').pluck();
    const chars = ['a', 'b', '[', ']', '*', '?', '^', '-', '\\', 'é', '🔥'];
    let state = 7;
    const random = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return (state >>> 8) % n;
    };
    const text = (length: number): string => Array.from({ length }, () => chars[random(chars.length)]).join('');
    for (let i = 0; i < 3000; i++) {
      const segments: WildcardSegment[] = [];
      for (let j = random(4); j >= 0; j--) {
        const r = random(4);
        if (r === 0) segments.push({ kind: 'anyChars' });
        else if (r === 1) segments.push({ kind: 'oneChar' });
        else segments.push({ kind: 'literal', text: text(1 + random(2)) });
      }
      const value = text(random(6));
      const expected = matchesWildcard(segments, value);
      assert.equal(glob.get(value, toSqliteGlob(segments)) === 1, expected, `${JSON.stringify(segments)} vs ${JSON.stringify(value)}`);
    }
  });
});

describe('toPostgresLike', () => {
  it('keeps wildcards and escapes LIKE metacharacters and the escape character in literal text', () => {
    const segments: WildcardSegment[] = [
      { kind: 'literal', text: 'a%b_c\\' },
      { kind: 'anyChars' },
      { kind: 'oneChar' },
      { kind: 'literal', text: '*?[' },
    ];
    assert.equal(toPostgresLike(segments), 'a\\%b\\_c\\\\%_*?[');
  });

  it('writes numbered placeholders and a LIKE condition (agreement with PostgreSQL is in src/store/pg-query.test.ts)', () => {
    const params: string[] = [];
    const bind = (v: string): string => {
      params.push(v);
      return postgresDialect.placeholder(params.length);
    };
    assert.equal(
      postgresDialect.wildcardCondition('t.value', [{ kind: 'literal', text: 'web-' }, { kind: 'anyChars' }], bind),
      't.value LIKE $1',
    );
    assert.deepEqual(params, ['web-%']);
    assert.equal(postgresDialect.childRowTest, 'exists');
  });
});
