import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeProfiles } from '../pprof/merge.js';
import { valueIndex } from '../pprof/profile.js';
import { functionTotals } from '../pprof/stats.js';
import { fixtureProfile } from '../testing/profiles.js';
import { buildFlameTree, type FlameTree, FlameTreeAccumulator, pruneFlameTree } from './flame-tree.js';

const load = fixtureProfile;
const FIXTURES = ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-json.pprof', 'cpu-sort.pprof'];

function checkShape(t: FlameTree): void {
  for (let i = 1; i < t.name.length; i++) {
    assert.ok(t.parent[i] < i, 'parents come before children');
    assert.equal(t.depth[i], t.depth[t.parent[i]] + 1);
    const end = t.parent[i] + t.size[t.parent[i]];
    assert.ok(i + t.size[i] <= end, 'a subtree lies inside its parent’s range');
  }
  assert.equal(t.size[0], t.name.length);
}

/** The JSON workload's profile on side 0 and the sort workload's on side 1 of one accumulator, and both sides' trees. */
function jsonThenSort() {
  const json = load('cpu-json.pprof');
  const sort = load('cpu-sort.pprof');
  const acc = new FlameTreeAccumulator(2);
  acc.add(json, 1, 1, 0);
  acc.add(sort, 1, 1, 1);
  return { json, sort, acc, before: acc.tree(0), after: acc.tree(1) };
}

describe('flame tree', () => {
  for (const name of FIXTURES) {
    it(`preserves totals on the real profile ${name}`, () => {
      const p = load(name);
      const vi = valueIndex(p, 'cpu', 'nanoseconds');
      const t = buildFlameTree(p, vi);
      checkShape(t);
      let sum = 0;
      for (let i = 0; i < p.samples.count; i++) sum += p.samples.values[i * 2 + vi];
      assert.equal(t.total[0], sum);
      // total = self + children's totals, everywhere.
      const children = new Float64Array(t.name.length);
      for (let i = 1; i < t.name.length; i++) children[t.parent[i]] += t.total[i];
      for (let i = 0; i < t.name.length; i++) assert.ok(Math.abs(t.total[i] - (t.self[i] + children[i])) < 1e-6);
      // Self summed by function equals pprof's flat totals.
      const flat = new Map<string, number>();
      for (let i = 1; i < t.name.length; i++) flat.set(t.names[t.name[i]], (flat.get(t.names[t.name[i]]) ?? 0) + t.self[i]);
      for (const f of functionTotals(p, vi).flat) assert.equal(flat.get(f.name), f.flat, f.name);
    });
  }

  it('diff of a profile with itself is zero everywhere', () => {
    const p = load('cpu-small-1.pprof');
    const acc = new FlameTreeAccumulator(2);
    acc.add(p, 1, 1, 0);
    acc.add(p, 1, 1, 1);
    const before = acc.tree(0);
    const after = acc.tree(1);
    checkShape(after);
    assert.equal(after.name.length, buildFlameTree(p, 1).name.length);
    for (let i = 0; i < after.name.length; i++) assert.equal(after.total[i] - before.total[i], 0);
  });

  it('diff of two different workloads shows growth and shrinkage over the union of paths', () => {
    const { json, sort, before, after } = jsonThenSort();
    checkShape(after);
    assert.ok(after.name.length >= Math.max(buildFlameTree(json, 1).name.length, buildFlameTree(sort, 1).name.length));
    let grew = 0;
    let shrank = 0;
    for (let i = 1; i < after.name.length; i++) {
      if (after.total[i] > before.total[i]) grew++;
      if (after.total[i] < before.total[i]) shrank++;
    }
    assert.ok(grew > 0 && shrank > 0);
    assert.equal(after.total[0], buildFlameTree(sort, 1).total[0]);
    assert.equal(before.total[0], buildFlameTree(json, 1).total[0]);
  });

  it('accumulating several real profiles gives the flame tree of their pprof merge, node for node', () => {
    const profiles = ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-json.pprof'].map(load);
    const acc = new FlameTreeAccumulator();
    for (const p of profiles) acc.add(p, valueIndex(p, 'cpu', 'nanoseconds'));
    const merged = mergeProfiles(profiles);
    const expected = buildFlameTree(merged, valueIndex(merged, 'cpu', 'nanoseconds'));
    const got = acc.tree();
    checkShape(got);
    assert.equal(got.name.length, expected.name.length);
    for (let i = 0; i < got.name.length; i++) {
      assert.equal(got.names[got.name[i]], expected.names[expected.name[i]], `node ${i}`);
      assert.equal(got.depth[i], expected.depth[i]);
      assert.equal(got.total[i], expected.total[i]);
      assert.equal(got.self[i], expected.self[i]);
    }
    assert.equal(acc.grandTotal(), expected.total[0]);
  });

  it('function totals by name equal pprof-style flat and cumulative totals, recursion counted once', () => {
    const p = load('cpu-sort.pprof'); // recursive quicksort: a function repeats on one stack
    const vi = valueIndex(p, 'cpu', 'nanoseconds');
    const acc = new FlameTreeAccumulator();
    acc.add(p, vi);
    const got = new Map(acc.functions().map((f) => [f.name, f]));
    const expected = functionTotals(p, vi);
    for (const f of expected.flat) if (f.flat !== 0) assert.equal(got.get(f.name)?.flat, f.flat, f.name);
    for (const f of expected.cum) assert.equal(got.get(f.name)?.cum, f.cum, f.name);
    const rows = acc.functions();
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].flat >= rows[i].flat, 'sorted by flat');
  });

  it('scales added values, and refuses a value column the profile lacks', () => {
    const p = load('cpu-small-1.pprof');
    const acc = new FlameTreeAccumulator();
    acc.add(p, 1, 0.5);
    assert.equal(acc.grandTotal(), buildFlameTree(p, 1).total[0] * 0.5);
    assert.throws(() => acc.add(p, 2), /value column 2 out of range/);
  });

  it('prunes to the largest nodes, keeping a connected tree with unchanged totals', () => {
    const t = buildFlameTree(load('cpu-json.pprof'), 1);
    assert.equal(pruneFlameTree(t, t.name.length).tree, t, 'small enough: unchanged');
    const { tree: p, dropped, kept } = pruneFlameTree(t, 200);
    assert.ok(kept);
    for (let i = 0; i < p.name.length; i++) assert.equal(t.total[kept[i]], p.total[i]);
    checkShape(p);
    assert.ok(p.name.length <= 200 && p.name.length >= 150, `${p.name.length} nodes kept`);
    assert.equal(dropped, t.name.length - p.name.length);
    assert.equal(p.total[0], t.total[0]);
    // Every kept node is a node of the full tree (same path, same total), and nothing kept is
    // smaller than anything dropped.
    const full = new Map<string, number>();
    const path = (tree: FlameTree, i: number): string => (i === 0 ? '' : `${path(tree, tree.parent[i])}/${tree.names[tree.name[i]]}`);
    for (let i = 0; i < t.name.length; i++) full.set(path(t, i), t.total[i]);
    let smallestKept = Number.POSITIVE_INFINITY;
    for (let i = 0; i < p.name.length; i++) {
      assert.equal(full.get(path(p, i)), p.total[i]);
      smallestKept = Math.min(smallestKept, p.total[i]);
    }
    const keptPaths = new Set(Array.from({ length: p.name.length }, (_, i) => path(p, i)));
    for (const [k, v] of full) if (!keptPaths.has(k)) assert.ok(v <= smallestKept, `${k} (${v}) dropped`);
  });

  it('keeps two sides in one tree: each side equals its own flame tree, and the node order is shared', () => {
    const { json, sort, acc, before, after } = jsonThenSort();
    assert.deepEqual(before.name, after.name);
    assert.equal(acc.grandTotal(0), buildFlameTree(json, 1).total[0]);
    assert.equal(acc.grandTotal(1), buildFlameTree(sort, 1).total[0]);
    // Dropping the zero nodes of one side gives that side's own tree.
    const alone = buildFlameTree(sort, 1);
    const nonZero = after.total.filter((v) => v !== 0);
    assert.equal(nonZero.length, alone.name.length);
    assert.deepEqual(Array.from(nonZero), Array.from(alone.total));
    assert.throws(() => acc.add(json, 1, 1, 2), /side 2 out of range/);
  });
});
