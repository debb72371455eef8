import { type FlameTreeAccumulator, type FunctionTotalByName, pruneFlameTree } from './flame-tree.js';

/** One row of the largest per-function changes between two sides. */
export interface FunctionChange {
  name: string;
  before: number;
  after: number;
  delta: number;
}

/** A two-sided flame tree ready to draw: each side's totals scaled, pruned to at most maxNodes frames. */
export interface DiffTree {
  /** Frames in the full tree, before pruning. */
  nodes: number;
  /** How many of the smallest frames pruning left out. */
  droppedNodes: number;
  tree: { names: string[]; name: number[]; depth: number[]; before: number[]; after: number[] };
  /** The largest per-function changes of flat value, largest first. */
  changes: FunctionChange[];
}

/** Per-function flat values of two sides, joined by name, with the largest changes first (ties by name). */
export function largestChanges(
  before: readonly FunctionTotalByName[],
  after: readonly FunctionTotalByName[],
  limit: number,
): FunctionChange[] {
  const joined = new Map<string, FunctionChange>();
  for (const f of before) joined.set(f.name, { name: f.name, before: f.flat, after: 0, delta: -f.flat });
  for (const f of after) {
    const row = joined.get(f.name) ?? { name: f.name, before: 0, after: 0, delta: 0 };
    row.after = f.flat;
    row.delta = row.after - row.before;
    joined.set(f.name, row);
  }
  return [...joined.values()]
    .filter((r) => r.delta !== 0)
    .sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || (a.name < b.name ? -1 : 1))
    .slice(0, limit);
}

/**
 * Returns the diff of sides 0 (before) and 1 (after) of `accumulator`, each side's values
 * multiplied by its scale (1/seconds, 1/profiles or 1). Both sides share one tree, so every path
 * has its before and after value however small; pruning ranks frames by the mean of the two
 * sides, which is the width the UI draws, and keeps at most `maxNodes`.
 */
export function diffTree(
  accumulator: FlameTreeAccumulator,
  scales: readonly [before: number, after: number],
  maxNodes: number,
  changeRows: number,
): DiffTree {
  const beforeTree = accumulator.tree(0);
  const afterTree = accumulator.tree(1);
  const n = beforeTree.name.length;
  const beforeTotal = beforeTree.total.map((v) => v * scales[0]);
  const afterTotal = afterTree.total.map((v) => v * scales[1]);
  const rank = new Float64Array(n);
  for (let i = 0; i < n; i++) rank[i] = (beforeTotal[i] + afterTotal[i]) / 2;
  const pruned = pruneFlameTree(beforeTree, maxNodes, rank);
  const pick = (values: Float64Array): number[] => (pruned.kept === null ? Array.from(values) : Array.from(pruned.kept, (i) => values[i]));
  const scaleRows = (rows: FunctionTotalByName[], k: number) => rows.map((r) => ({ name: r.name, flat: r.flat * k, cum: r.cum * k }));
  return {
    nodes: n,
    droppedNodes: pruned.dropped,
    tree: {
      names: pruned.tree.names,
      name: Array.from(pruned.tree.name),
      depth: Array.from(pruned.tree.depth),
      before: pick(beforeTotal),
      after: pick(afterTotal),
    },
    changes: largestChanges(scaleRows(accumulator.functions(0), scales[0]), scaleRows(accumulator.functions(1), scales[1]), changeRows),
  };
}
