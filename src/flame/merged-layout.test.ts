import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallTreeDictionary } from './call-tree-dictionary.js';
import { type FlameTree, pruneFlameTree } from './flame-tree.js';
import { cutByQuickselect, cutByTopHeap } from './merged-layout.js';
import { functionTotals, type MergedCallTrees, type MergeInput, mergeCallTrees, mergedFlameTree } from './prepared-merge.js';

// The heap's cut and the child-list walk must choose and order exactly the nodes
// pruneFlameTree chooses on the full tree, ties at the cut included. The trees here are random
// with few distinct values, so many nodes share the cut's rank.

/** A deterministic generator (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A dictionary of `size` random paths over `names` function names, recursion included, and one profile valuing some of its nodes. */
function randomView(seed: number, size: number, names: number, values: readonly number[]): { d: CallTreeDictionary; input: MergeInput } {
  const next = random(seed);
  const d = new CallTreeDictionary(1 << 20);
  const nameIds = Array.from({ length: names }, (_, i) => d.intern(`fn${String(i).padStart(3, '0')}`));
  while (d.size < size) d.childOf(Math.floor(next() * d.size), nameIds[Math.floor(next() * names)]);
  const ids: number[] = [];
  const vals: number[] = [];
  for (let g = 1; g < d.size; g++) {
    if (next() < 0.5) continue;
    ids.push(g);
    vals.push(values[Math.floor(next() * values.length)]);
  }
  return {
    d,
    input: {
      profile: { ids: Int32Array.from(ids), values: Float64Array.from(vals), columns: 1, nonNegative: vals.every((v) => v >= 0) },
      column: 0,
    },
  };
}

function rows(t: FlameTree): Array<[string, number, number, number, number, number]> {
  return Array.from(t.name, (n, i) => [t.names[n], t.parent[i], t.depth[i], t.self[i], t.total[i], t.size[i]]);
}

/** Checks mergedFlameTree(merged, maxNodes) against pruneFlameTree on the whole laid-out tree. */
function checkAgainstPrune(merged: MergedCallTrees, maxNodes: number): void {
  const whole = mergedFlameTree(merged, Number.MAX_SAFE_INTEGER);
  const expected = pruneFlameTree(whole.tree, maxNodes);
  const got = mergedFlameTree(merged, maxNodes);
  assert.deepEqual(rows(got.tree), rows(expected.tree), `maxNodes ${maxNodes}`);
  if (whole.droppedNodes === 0) assert.equal(got.droppedNodes, expected.dropped, `dropped at maxNodes ${maxNodes}`);
}

describe('merged layout', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`random tree ${seed}: the heap's cut equals quickselect's and the layout equals pruneFlameTree, ties at every cut`, () => {
      const { d, input } = randomView(seed, 3000, 40, [1, 1, 2, 3, 10]);
      const merged = mergeCallTrees(d, [[input]]);
      assert.ok(merged.monotone);
      const rank = merged.total[0];
      for (const keep of [1, 2, 3, 10, 57, 300, 1000, merged.nodes - 1, merged.nodes]) {
        assert.deepEqual(cutByTopHeap(merged, rank, keep), cutByQuickselect(merged, rank, keep), `keep ${keep}`);
        checkAgainstPrune(merged, keep);
      }
      // The cut really falls on a tie: several nodes share the smallest kept total.
      const pruned = mergedFlameTree(merged, 300);
      const cut = Math.min(...pruned.tree.total);
      assert.ok(rank.filter((t, g) => merged.present[g] === 1 && t === cut).length > pruned.tree.total.filter((t) => t === cut).length);
    });
  }

  it('negative values fall back to ranking every node, with the same rule', () => {
    const { d, input } = randomView(7, 2000, 30, [5, 3, -2, 1, 0.5]);
    const merged = mergeCallTrees(d, [[input]]);
    assert.equal(merged.monotone, false);
    assert.equal(merged.functions, null);
    // Some child outranks its parent: the fallback really sees ranks no heap-of-totals shortcut may assume.
    const total = merged.total[0];
    const parent = d.parent.data;
    assert.ok(Array.from({ length: d.size }, (_, g) => g).some((g) => g > 0 && parent[g] > 0 && total[g] > total[parent[g]]));
    for (const keep of [1, 5, 100, 700]) checkAgainstPrune(merged, keep);
  });

  it('function totals summed in the merge equal those summed over the present nodes', () => {
    const { d, input } = randomView(11, 4000, 25, [1, 2, 7]);
    const merged = mergeCallTrees(d, [[input]]);
    assert.ok(merged.functions !== null);
    assert.deepEqual(functionTotals(merged, 0), functionTotals({ ...merged, functions: null }, 0));
  });

  it('nodes and names a concurrent view adds after the merge are not part of it', () => {
    const { d, input } = randomView(5, 500, 10, [1, 4]);
    const merged = mergeCallTrees(d, [[input]]);
    const before = mergedFlameTree(merged, 100);
    const top = functionTotals(merged, 0);
    // New children under the root and under a drawn node, with a new name.
    const late = d.intern('zz-late');
    d.childOf(0, late);
    d.childOf(before.tree.name.length > 1 ? 1 : 0, late);
    assert.deepEqual(rows(mergedFlameTree(merged, 100).tree), rows(before.tree));
    assert.deepEqual(functionTotals(merged, 0), top);
  });
});
