import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { WildcardSegment } from './ast.js';
import { toSqliteGlob } from './dialect.js';
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
