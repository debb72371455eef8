import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SequenceInterner } from './sequence-interner.js';

const seq = (...words: number[]): Uint32Array => Uint32Array.from(words);
const intern = (i: SequenceInterner, words: number[]): number => i.intern(seq(...words), 0, words.length);

describe('SequenceInterner', () => {
  it('gives the same id to the same sequence and dense ids from 0 in order of first sight', () => {
    const i = new SequenceInterner();
    assert.equal(intern(i, [1, 2, 3]), 0);
    assert.equal(intern(i, [4, 5]), 1);
    assert.equal(intern(i, [1, 2, 3]), 0);
    assert.equal(intern(i, [6]), 2);
    assert.equal(intern(i, [4, 5]), 1);
    assert.equal(i.count, 3);
  });

  it('tells apart prefixes, longer sequences, other orders and other values', () => {
    const i = new SequenceInterner();
    const variants = [
      [1, 2, 3],
      [1, 2],
      [1, 2, 3, 0],
      [1, 2, 3, 4],
      [3, 2, 1],
      [2, 1, 3],
      [1, 2, 4],
      [0, 1, 2, 3],
      [1],
      [0],
      [0, 0],
      [0xffffffff, 2, 3],
    ];
    const ids = variants.map((v) => intern(i, v));
    assert.deepEqual(
      ids,
      variants.map((_, k) => k),
    );
    assert.deepEqual(
      variants.map((v) => intern(i, v)),
      ids,
      'each one again gets its own id back',
    );
    assert.equal(i.count, variants.length);
  });

  it('handles the empty sequence', () => {
    const i = new SequenceInterner();
    assert.equal(intern(i, []), 0);
    assert.equal(intern(i, [0]), 1, 'not the same as [0]');
    assert.equal(intern(i, []), 0);
    assert.equal(i.intern(seq(7, 8, 9), 2, 2), 0, 'an empty range of a longer array is the empty sequence');
    assert.equal(i.count, 2);
  });

  it('reads only seq[start..end)', () => {
    const i = new SequenceInterner();
    const a = seq(9, 9, 1, 2, 3, 9);
    const b = seq(1, 2, 3);
    assert.equal(i.intern(a, 2, 5), 0);
    assert.equal(i.intern(b, 0, 3), 0);
    assert.equal(i.intern(a, 1, 5), 1);
    // The interner copies the words: changing the caller's array afterwards changes nothing.
    a.fill(0);
    assert.equal(i.intern(b, 0, 3), 0);
    assert.equal(i.intern(seq(9, 1, 2, 3), 0, 4), 1);
  });

  it('keeps every id through many rehashes with 100k sequences', () => {
    const i = new SequenceInterner(4, 4);
    const n = 100_000;
    const words = new Uint32Array(3);
    // Sequence k is [m], [m, 1] or [m, 2, x] for m = floor(k / 3): all distinct, and each
    // group of three shares its first word (one is a prefix of the next).
    const make = (k: number): number => {
      const len = 1 + (k % 3);
      words[0] = Math.floor(k / 3);
      words[1] = k % 3;
      words[2] = Math.imul(k, 0x9e3779b1) >>> 0;
      return len;
    };
    for (let k = 0; k < n; k++) {
      const len = make(k);
      assert.equal(i.intern(words, 0, len), k);
    }
    assert.equal(i.count, n);
    for (let k = n - 1; k >= 0; k--) {
      const len = make(k);
      const id = i.intern(words, 0, len);
      if (id !== k) assert.fail(`sequence ${k} came back as ${id}`);
    }
    assert.equal(i.count, n, 'no new ids on the second pass');
  });

  it('grows past its expected size without losing sequences', () => {
    const i = new SequenceInterner(1, 1);
    const long = new Uint32Array(10_000).map((_, k) => k);
    assert.equal(i.intern(long, 0, long.length), 0);
    assert.equal(i.intern(long, 0, long.length - 1), 1);
    for (let k = 0; k < 1000; k++) assert.equal(intern(i, [k, k]), k + 2);
    assert.equal(i.intern(long.slice(), 0, long.length), 0);
    assert.equal(i.intern(long, 0, long.length - 1), 1);
  });
});
