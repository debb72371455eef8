import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedLru } from './bounded-lru.js';

describe('BoundedLru', () => {
  const lru = (maxEntries: number, maxBytes: number) => new BoundedLru<string>(maxEntries, maxBytes, (s) => s.length);

  it('evicts the least recently used past the entry bound, a read counting as a use', () => {
    const c = lru(2, 100);
    c.set('a', 'x');
    c.set('b', 'y');
    assert.equal(c.get('a'), 'x');
    c.set('c', 'z');
    assert.deepEqual([c.get('a'), c.get('b'), c.get('c'), c.size, c.bytes], ['x', undefined, 'z', 2, 2]);
  });

  it('evicts as many as the byte bound needs, and keeps a replaced value counted once', () => {
    const c = lru(10, 6);
    c.set('a', 'aa');
    c.set('b', 'bb');
    c.set('a', 'aaa');
    assert.equal(c.bytes, 5);
    c.set('c', 'cccc');
    assert.deepEqual([c.get('a'), c.get('b'), c.get('c'), c.bytes], [undefined, undefined, 'cccc', 4]);
  });

  it('does not keep a value larger than the byte bound, and drops the older value under its key', () => {
    const c = lru(10, 3);
    c.set('a', 'aa');
    c.set('b', 'b');
    c.set('a', 'toolong');
    assert.deepEqual([c.get('a'), c.get('b'), c.size, c.bytes], [undefined, 'b', 1, 1]);
  });
});
