import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FlameJson } from '../../api/types.js';
import type { FlameTree } from '../../flame/flame-tree.js';
import { flameJsonText, flameTreeJsonText } from './flame-json-text.js';

// The text must be byte for byte what JSON.stringify writes for the plain-array answer, for any
// double a tree can hold, so a client (and the answer cache) cannot tell the two apart.

const awkward = [
  0,
  -0,
  1,
  1,
  1,
  1e9,
  1e9,
  0.1,
  1 / 3,
  2 ** 53 + 2,
  1e21,
  1.5e-7,
  -4,
  Number.NaN,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -Infinity,
  5e-324,
];

function tree(values: number[]): FlameTree {
  const n = values.length;
  return {
    names: ['total', 'main.main', 'say "hi"\n\\', 'π/ünïcode\u2028'],
    name: Int32Array.from({ length: n }, (_, i) => i % 4),
    parent: Int32Array.from({ length: n }, (_, i) => i - 1),
    depth: Int32Array.from({ length: n }, (_, i) => i),
    self: Float64Array.from(values),
    total: Float64Array.from(values).reverse(),
    size: new Int32Array(n).fill(1),
  };
}

function plain(t: FlameTree) {
  return { names: t.names, name: Array.from(t.name), depth: Array.from(t.depth), self: Array.from(t.self), total: Array.from(t.total) };
}

describe('flame answer JSON text', () => {
  it('a tree with every awkward double (NaN, ±Infinity, -0, huge, tiny, repeated) is what JSON.stringify writes', () => {
    const t = tree(awkward);
    assert.equal(flameTreeJsonText(t), JSON.stringify(plain(t)));
  });

  it('an empty tree and a one-node tree', () => {
    for (const values of [[], [7]]) {
      const t = tree(values);
      assert.equal(flameTreeJsonText(t), JSON.stringify(plain(t)));
    }
  });

  it('the whole answer has FlameJson field order and the same text', () => {
    const t = tree(awkward.slice(0, 6));
    const answer: Omit<FlameJson, 'tree'> = {
      profiles: 2,
      profileIds: ['a', 'b'],
      seconds: 60.5,
      sampleTypes: [{ key: 'cpu.pprof:cpu', attachment: 'cpu.pprof', type: 'cpu', unit: 'nanoseconds' }],
      sampleType: 'cpu.pprof:cpu',
      unit: 'nanoseconds',
      mainModule: null,
      total: 1e9,
      nodes: 10,
      droppedNodes: 4,
      top: [{ name: 'main.main', flat: 1, cum: 2 }],
      skipped: [{ id: 'c', reason: 'raw data deleted by retention' }],
    };
    const expected: FlameJson = { ...answer, tree: plain(t) };
    const { top, skipped, ...head } = answer;
    const ordered = { ...head, tree: plain(t), top, skipped };
    assert.equal(flameJsonText(answer, t), JSON.stringify(ordered));
    assert.deepEqual(JSON.parse(flameJsonText(answer, t)), JSON.parse(JSON.stringify(expected)));
    assert.deepEqual(Object.keys(JSON.parse(flameJsonText(answer, t))), [
      'profiles',
      'profileIds',
      'seconds',
      'sampleTypes',
      'sampleType',
      'unit',
      'mainModule',
      'total',
      'nodes',
      'droppedNodes',
      'tree',
      'top',
      'skipped',
    ]);
  });
});
