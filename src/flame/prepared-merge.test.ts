import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Profile } from '../pprof/profile.js';
import { fixtureProfile } from '../testing/profiles.js';
import { CallTreeDictionary } from './call-tree-dictionary.js';
import { diffTree } from './diff.js';
import { type FlameTree, FlameTreeAccumulator, type FunctionTotalByName, pruneFlameTree } from './flame-tree.js';
import { decodePreparedForm, encodePreparedForm } from './prepared-form.js';
import { functionTotals, type MergeInput, mapProfile, mergeCallTrees, mergedDiffTree, mergedFlameTree } from './prepared-merge.js';

// The prepared path must draw exactly what decoding the raw profiles draws: the same nodes in
// the same order with the same names, depths, self and total values, the same pruning, and the
// same per-function totals. Profiles are real Go programs' (e2e/testdata), one with labels.

const CPU = ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof', 'cpu-json.pprof', 'cpu-sort.pprof'].map((name) => ({
  name,
  p: fixtureProfile(name),
}));
const heap = fixtureProfile('heap.pprof');

/** A tree as comparable rows: name (as a string), parent position, depth, self, total, size. */
function rows(t: FlameTree): Array<[string, number, number, number, number, number]> {
  return Array.from(t.name, (n, i) => [t.names[n], t.parent[i], t.depth[i], t.self[i], t.total[i], t.size[i]]);
}

/** A dictionary that already holds other profiles' paths, so merging must leave out nodes the selection does not reach. */
function usedDictionary(): CallTreeDictionary {
  const d = new CallTreeDictionary(1 << 22);
  mapProfile(d, decodePreparedForm(encodePreparedForm(heap)));
  mapProfile(d, decodePreparedForm(encodePreparedForm(CPU[4].p)));
  return d;
}

function prepared(d: CallTreeDictionary, p: Profile, column: number): MergeInput {
  return { profile: mapProfile(d, decodePreparedForm(encodePreparedForm(p))), column };
}

function compareFlame(inputs: ReadonlyArray<{ p: Profile; column: number }>, maxNodes: number): void {
  const acc = new FlameTreeAccumulator();
  for (const { p, column } of inputs) acc.add(p, column);
  const full = acc.tree();
  const raw = pruneFlameTree(full, maxNodes);
  const d = usedDictionary();
  const merged = mergeCallTrees(d, [inputs.map(({ p, column }) => prepared(d, p, column))]);
  const flame = mergedFlameTree(merged, maxNodes);
  assert.equal(flame.nodes, full.name.length, 'nodes of the full tree');
  assert.equal(flame.droppedNodes, raw.dropped, 'dropped nodes');
  assert.deepEqual(rows(flame.tree), rows(raw.tree));
  assert.equal(merged.total[0][0], acc.grandTotal());
  assert.deepEqual(functionTotals(merged, 0), acc.functions());
}

describe('prepared merge equals the raw path', () => {
  for (const { name, p } of CPU) {
    it(`one profile, ${name}, every value column, whole and pruned`, () => {
      for (const column of [0, 1]) for (const maxNodes of [1_000_000, 500, 37, 1]) compareFlame([{ p, column }], maxNodes);
    });
  }

  it('a heap profile with labels, each of its four value columns', () => {
    for (let column = 0; column < 4; column++) for (const maxNodes of [1_000_000, 10]) compareFlame([{ p: heap, column }], maxNodes);
  });

  it('an aggregate of every CPU profile, each added several times, whole and pruned (ties at the cut included)', () => {
    const inputs = [...CPU, ...CPU, CPU[0], CPU[1]].map(({ p }) => ({ p, column: 1 }));
    for (const maxNodes of [1_000_000, 5000, 2000, 300, 64, 2]) compareFlame(inputs, maxNodes);
  });

  it('a pruned aggregate really drops nodes and really ties at the cut', () => {
    const acc = new FlameTreeAccumulator();
    for (const { p } of CPU) acc.add(p, 1);
    const full = acc.tree();
    const pruned = pruneFlameTree(full, 300);
    assert.ok(pruned.dropped > 0);
    // Several nodes share the smallest kept total, so the tie rule decides which are kept.
    const cut = Math.min(...pruned.tree.total);
    assert.ok(full.total.filter((t) => t === cut).length > pruned.tree.total.filter((t) => t === cut).length);
  });

  for (const normalize of [
    [1, 1],
    [1 / 30, 1 / 10],
    [1 / 3, 1 / 2],
  ] as const) {
    it(`a diff of two selections, scales ${normalize.map((x) => x.toFixed(3)).join(' and ')}, whole and pruned`, () => {
      const before = [CPU[0], CPU[1], CPU[3]];
      const after = [CPU[2], CPU[4], CPU[0]];
      for (const maxNodes of [1_000_000, 400, 50]) {
        const acc = new FlameTreeAccumulator(2);
        for (const { p } of before) acc.add(p, 1, 1, 0);
        for (const { p } of after) acc.add(p, 1, 1, 1);
        const raw = diffTree(acc, normalize, maxNodes, 200);
        const d = usedDictionary();
        const merged = mergeCallTrees(d, [before.map(({ p }) => prepared(d, p, 1)), after.map(({ p }) => prepared(d, p, 1))]);
        const diff = mergedDiffTree(merged, normalize, maxNodes, 200);
        assert.equal(diff.nodes, raw.nodes);
        assert.equal(diff.droppedNodes, raw.droppedNodes);
        const named = (t: typeof raw.tree) => t.name.map((n, i) => [t.names[n], t.depth[i], t.before[i], t.after[i]]);
        assert.deepEqual(named(diff.tree), named(raw.tree));
        assert.deepEqual(diff.changes, raw.changes);
        for (const side of [0, 1]) assert.equal(merged.total[side][0], acc.grandTotal(side));
      }
    });
  }

  it('a profile with recursion counts a function once per sample in cum', () => {
    // cpu-sort recurses (quicksort): cum of the recursive function must not exceed the root total.
    const d = new CallTreeDictionary(1 << 20);
    const merged = mergeCallTrees(d, [[prepared(d, CPU[4].p, 1)]]);
    const rowsByName = new Map<string, FunctionTotalByName>(functionTotals(merged, 0).map((f) => [f.name, f]));
    const recursive = [...d.firstOfName.subarray(0, d.size)].filter((f, g) => g > 0 && f === 0).length;
    assert.ok(recursive > 0, 'the fixture has recursive paths');
    for (const f of rowsByName.values()) assert.ok(f.cum <= merged.total[0][0]);
  });
});
