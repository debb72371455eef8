import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CachedPgoBuild, PgoBuildCache } from './build-cache.js';

function build(size: number, id = 'a'): CachedPgoBuild {
  return { bytes: Buffer.alloc(size, 1), ids: [id], samples: 1, renamed: [] };
}

const inputs = {
  profiles: [
    { id: 'b', pgoBlobKey: 'b/pgo' },
    { id: 'a', pgoBlobKey: 'a/pgo' },
  ],
  noInline: new Set(['x', 'y']),
  maxDecompressedBytes: 1000,
};

describe('PgoBuildCache', () => {
  it('keys a build by its profiles and options whatever their order, and by nothing less', () => {
    const key = PgoBuildCache.key(inputs);
    assert.equal(PgoBuildCache.key({ ...inputs, profiles: [...inputs.profiles].reverse(), noInline: new Set(['y', 'x']) }), key);
    for (const other of [
      { ...inputs, profiles: inputs.profiles.slice(1) },
      {
        ...inputs,
        profiles: [
          { id: 'b', pgoBlobKey: 'b/pgo' },
          { id: 'a', pgoBlobKey: 'a/other' },
        ],
      },
      { ...inputs, profiles: [...inputs.profiles, { id: 'c', pgoBlobKey: null }] },
      { ...inputs, noInline: new Set(['x']) },
      { ...inputs, maxDecompressedBytes: 999 },
    ]) {
      assert.notEqual(PgoBuildCache.key(other), key);
    }
    // No separator games: ids and names that would join to the same text stay apart.
    assert.notEqual(
      PgoBuildCache.key({ ...inputs, noInline: new Set(['x,y']) }),
      PgoBuildCache.key({ ...inputs, noInline: new Set(['x', 'y']) }),
    );
  });

  it('keeps at most maxEntries builds, dropping the least recently used', () => {
    const cache = new PgoBuildCache(2, 1000);
    cache.set('a', build(1, 'a'));
    cache.set('b', build(1, 'b'));
    assert.equal(cache.get('a')?.ids[0], 'a'); // a is now the most recently used
    cache.set('c', build(1, 'c'));
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a')?.ids[0], 'a');
    assert.equal(cache.get('c')?.ids[0], 'c');
    assert.deepEqual(cache.size, { entries: 2, bytes: 2 });
  });

  it('keeps at most maxBytes of files, and never one larger than that', () => {
    const cache = new PgoBuildCache(100, 10);
    cache.set('a', build(4));
    cache.set('b', build(4));
    cache.set('c', build(4));
    assert.equal(cache.get('a'), undefined);
    assert.deepEqual(cache.size, { entries: 2, bytes: 8 });
    cache.set('huge', build(11));
    assert.equal(cache.get('huge'), undefined);
    assert.deepEqual(cache.size, { entries: 2, bytes: 8 });
    // Replacing an entry counts its bytes once.
    cache.set('b', build(2));
    assert.deepEqual(cache.size, { entries: 2, bytes: 6 });
  });
});
