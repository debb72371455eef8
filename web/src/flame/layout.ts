import type { TreeJson } from '../api.js';

/**
 * A flame tree laid out for drawing: each node's left edge (in value units from the root's left
 * edge), width, parent and subtree end. Built once per tree in one pass; nodes arrive
 * depth-first from the server, so a node's subtree is [i, end[i]).
 */
export interface FlameLayout {
  names: string[];
  name: Int32Array;
  depth: Int32Array;
  parent: Int32Array;
  end: Int32Array;
  x: Float64Array;
  width: Float64Array;
  /** Self value (plain trees) or 0. */
  self: Float64Array;
  /** Diff trees: each side's normalised total; null for plain trees. */
  before: Float64Array | null;
  after: Float64Array | null;
  maxDepth: number;
}

/**
 * Returns the layout of `tree`. A plain tree is as wide as its totals; a diff tree as the mean of
 * its two sides, which keeps children inside their parent (a mean of sums is the sum of means).
 * `weights` replaces the widths (used by the function filter).
 */
export function layoutTree(tree: TreeJson, weights?: Float64Array): FlameLayout {
  const n = tree.name.length;
  const depth = Int32Array.from(tree.depth);
  const parent = new Int32Array(n).fill(-1);
  const end = new Int32Array(n);
  const width = new Float64Array(n);
  const x = new Float64Array(n);
  const before = tree.before ? Float64Array.from(tree.before) : null;
  const after = tree.after ? Float64Array.from(tree.after) : null;
  for (let i = 0; i < n; i++) {
    width[i] = weights ? weights[i] : before && after ? (before[i] + after[i]) / 2 : (tree.total?.[i] ?? 0);
  }
  // Parents and subtree ends from depths, with a stack of open ancestors.
  const stack: number[] = [];
  let maxDepth = 0;
  for (let i = 0; i < n; i++) {
    while (stack.length > 0 && depth[stack[stack.length - 1]] >= depth[i]) end[stack.pop() as number] = i;
    parent[i] = stack.length > 0 ? stack[stack.length - 1] : -1;
    stack.push(i);
    if (depth[i] > maxDepth) maxDepth = depth[i];
  }
  for (const i of stack) end[i] = n;
  // x: each child starts where its previous sibling ended.
  const next = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = parent[i];
    x[i] = p < 0 ? 0 : next[p];
    if (p >= 0) next[p] += width[i];
    next[i] = x[i];
  }
  return {
    names: tree.names,
    name: Int32Array.from(tree.name),
    depth,
    parent,
    end,
    x,
    width,
    self: tree.self ? Float64Array.from(tree.self) : new Float64Array(n),
    before,
    after,
    maxDepth,
  };
}

/**
 * Returns widths that keep only the stacks through function `fn`: a node named `fn` (and
 * everything under it) keeps its full value; an ancestor keeps the sum of what it leads to; all
 * else is zero. This is pprof's "focus" on a function, computed from the tree alone.
 */
export function focusWeights(layout: FlameLayout, fn: string): Float64Array {
  const n = layout.name.length;
  const out = new Float64Array(n);
  const target = layout.names.indexOf(fn);
  if (target < 0) return out;
  for (let i = 0; i < n; ) {
    if (layout.name[i] === target) {
      for (let j = i; j < layout.end[i]; j++) out[j] = layout.width[j];
      // Credit the ancestors once for this whole subtree.
      for (let p = layout.parent[i]; p >= 0; p = layout.parent[p]) out[p] += layout.width[i];
      i = layout.end[i];
    } else {
      i++;
    }
  }
  return out;
}
