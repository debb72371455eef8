import type { TreeJson } from '../api.js';
import type { FlameLayout } from './layout-types.js';

export type { FlameLayout };

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

/** Two 32-bit hashes of `s` continued from `a`/`b` (FNV-1a and a multiply-xorshift), for path keys. */
function hashOn(a: number, b: number, s: string): [number, number] {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  // A separator, so "a;bc" and "ab;c" differ.
  return [Math.imul(a ^ 0x3b, 0x01000193) >>> 0, Math.imul(b ^ 0x3b, 0x5bd1e995) >>> 0];
}

/** Returns the key of one frame (as frameKeys would), walking only its ancestors. */
export function frameKey(layout: FlameLayout, node: number): string {
  if (node <= 0 || node >= layout.name.length) return '';
  const path: number[] = [];
  for (let i = node; layout.parent[i] >= 0; i = layout.parent[i]) path.push(i);
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let k = path.length - 1; k >= 0; k--) [a, b] = hashOn(a, b, layout.names[layout.name[path[k]]]);
  return a.toString(36) + b.toString(36).padStart(7, '0');
}

/**
 * Returns a short key for every frame: a 64-bit hash of its path of function names from the
 * root, in base 36. Unlike a node index, the key names the same frame after new profiles
 * arrive, after the server prunes differently, or in another sample type, so it is what the URL
 * keeps for the zoom. Two frames share a key only by a 1-in-2^64 accident.
 */
export function frameKeys(layout: FlameLayout): string[] {
  const n = layout.name.length;
  const ha = new Uint32Array(n);
  const hb = new Uint32Array(n);
  const keys: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const p = layout.parent[i];
    const [a, b] = p < 0 ? [0x811c9dc5, 0x9747b28c] : hashOn(ha[p], hb[p], layout.names[layout.name[i]]);
    ha[i] = a;
    hb[i] = b;
    keys[i] = p < 0 ? '' : a.toString(36) + b.toString(36).padStart(7, '0');
  }
  return keys;
}
