import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WildcardSegment } from './ast.js';
import { matchesWildcard } from './wildcard.js';

/** Segments from the query syntax: `*` and `?` are wildcards, everything else literal. */
function pattern(text: string): WildcardSegment[] {
  const segments: WildcardSegment[] = [];
  for (const c of text) {
    const last = segments.at(-1);
    if (c === '*') segments.push({ kind: 'anyChars' });
    else if (c === '?') segments.push({ kind: 'oneChar' });
    else if (last?.kind === 'literal') segments[segments.length - 1] = { kind: 'literal', text: last.text + c };
    else segments.push({ kind: 'literal', text: c });
  }
  return segments;
}

describe('matchesWildcard', () => {
  const cases: Array<[string, string, boolean]> = [
    ['web-*', 'web-api', true],
    ['web-*', 'web-', true],
    ['web-*', 'web', false],
    ['web-*', 'Web-api', false],
    ['*-prod', 'eu-prod', true],
    ['*-prod', 'eu-prod-1', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['a*b*c', 'acbc', true],
    ['?', '', false],
    ['?', 'é', true],
    ['?', '🔥', true],
    ['??', '🔥', false],
    ['caf?', 'café', true],
    ['*', '', true],
    ['*?', '', false],
    ['h?st-*-?', 'host-eu-1', true],
    ['h?st-*-?', 'host-eu-12', false],
    ['*a', 'aaaa', true],
    ['*aa*a', 'aaa', true],
    ['*aa*a', 'aa', false],
  ];
  for (const [p, value, expected] of cases) {
    it(`${p} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(value)}`, () => {
      assert.equal(matchesWildcard(pattern(p), value), expected);
    });
  }

  it('takes polynomial time on patterns that make naive backtracking exponential', () => {
    const value = 'a'.repeat(4000);
    assert.equal(matchesWildcard(pattern(`${'*a'.repeat(30)}*b`), value), false);
    assert.equal(matchesWildcard(pattern(`${'*a'.repeat(30)}*`), value), true);
  });
});
