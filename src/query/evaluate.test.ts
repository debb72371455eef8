import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QueryNode } from './ast.js';
import { matchesQuery, type QueryProfile } from './evaluate.js';
import { parseQuery } from './parse.js';

const record: QueryProfile = {
  id: 'abc-123',
  tags: { service: ['api'], team: ['core', 'infra'], empty: [] },
  metrics: { cpu: 1.5, neg: -2 },
};
const map: QueryProfile = { ...record, tags: new Map(Object.entries(record.tags)) };

function matches(query: string, profile: QueryProfile = record): boolean {
  const node = parseQuery(query);
  const result = matchesQuery(node, profile);
  assert.equal(matchesQuery(node, profile === record ? map : profile), result, `Map and record disagree on ${query}`);
  return result;
}

describe('matchesQuery', () => {
  it('matches a tag when any of its values matches', () => {
    assert.equal(matches('team:core'), true);
    assert.equal(matches('team:infra'), true);
    assert.equal(matches('team:(core infra)'), true);
    assert.equal(matches('team:data'), false);
    assert.equal(matches('-team:core'), false);
    assert.equal(matches('team:*ra'), true);
  });

  it('treats a missing tag, or a tag without values, as not matching', () => {
    assert.equal(matches('region:*'), false);
    assert.equal(matches('-region:*'), true);
    assert.equal(matches('empty:*'), false);
  });

  it('compares exactly: case, whitespace', () => {
    assert.equal(matches('service:API'), false);
    assert.equal(matches('service:"api "'), false);
  });

  it('ignores properties inherited by records', () => {
    for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      assert.equal(matches(`${key}:*`), false, key);
      assert.equal(matches(`@metrics.${key}:>0`), false, key);
    }
  });

  it('tests metrics the profile has, and is false for those it lacks', () => {
    assert.equal(matches('@metrics.cpu:1.5'), true);
    assert.equal(matches('@metrics.cpu:[1.5 TO 1.5]'), true);
    assert.equal(matches('@metrics.neg:<-1'), true);
    assert.equal(matches('@metrics.neg:>=-2'), true);
    assert.equal(matches('@metrics.neg:>-2'), false);
    assert.equal(matches('@metrics.missing:<0'), false);
    assert.equal(matches('-@metrics.missing:<0'), true);
  });

  it('matches the profile id, not a tag of that name', () => {
    assert.equal(matches('profile-id:abc-123'), true);
    assert.equal(matches('profile-id:abc-*'), true);
    assert.equal(matches('profile-id:ABC-123'), false);
    assert.equal(matches('profile-id:x', { ...record, tags: { 'profile-id': ['x'] } }), false);
  });

  it('accepts hand-built trees: empty and/or, match-all', () => {
    const tree = (kind: 'and' | 'or'): QueryNode => ({ kind, children: [] });
    assert.equal(matchesQuery(tree('and'), record), true);
    assert.equal(matchesQuery(tree('or'), record), false);
    assert.equal(matchesQuery({ kind: 'not', child: { kind: 'all' } }, record), false);
  });
});
