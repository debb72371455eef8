import type { CallTreeDictionary } from './call-tree-dictionary.js';
import { type DiffTree, largestChanges } from './diff.js';
import type { FlameTree, FunctionTotalByName } from './flame-tree.js';
import { type LayoutInput, layoutMerged } from './merged-layout.js';
import type { PreparedForm } from './prepared-form.js';

/** One profile mapped into a CallTreeDictionary: its nodes with a non-zero value, and those values. */
export interface MappedProfile {
  /** Dictionary nodes, ascending (merging reads them in blocks of node numbers; any order gives the same sums, only slower). */
  ids: Int32Array;
  /** values[k * columns + c]: the self value of node ids[k] in value column c. */
  values: Float64Array;
  columns: number;
  /** True when every value is zero or above (the flame layout may then walk only the nodes it draws). */
  nonNegative: boolean;
}

/** Maps `form` into `dictionary` (creating its missing paths) and keeps its nodes with a non-zero value, by node number. */
export function mapProfile(dictionary: CallTreeDictionary, form: PreparedForm): MappedProfile {
  const global = dictionary.map(form);
  const V = form.sampleTypes.length;
  const self = form.self;
  const valued: number[] = [];
  let ascending = true;
  for (let i = 0; i < global.length; i++) {
    for (let c = 0; c < V; c++) {
      if (self[i * V + c] !== 0) {
        if (valued.length > 0 && global[valued[valued.length - 1]] > global[i]) ascending = false;
        valued.push(i);
        break;
      }
    }
  }
  // A profile mapped first is in node order already; later ones are mostly, which the sort is fast on.
  if (!ascending) valued.sort((a, b) => global[a] - global[b]);
  const ids = new Int32Array(valued.length);
  const values = new Float64Array(valued.length * V);
  let nonNegative = true;
  for (let k = 0; k < valued.length; k++) {
    const i = valued[k];
    ids[k] = global[i];
    for (let c = 0; c < V; c++) {
      const v = self[i * V + c];
      values[k * V + c] = v;
      // NaN counts as negative: comparisons with it break the layout's ordering too.
      if (!(v >= 0)) nonNegative = false;
    }
  }
  return { ids, values, columns: V, nonNegative };
}

/** One profile's value column to add. */
export interface MergeInput {
  profile: MappedProfile;
  column: number;
}

/**
 * The merged values of one or more sides (a flame graph has one, a diff two) over one dictionary:
 * per side, self and total per dictionary node, and which nodes any side reaches.
 */
export interface MergedCallTrees extends LayoutInput {
  self: Float64Array[];
  total: Float64Array[];
  /**
   * Per side, per function name of the dictionary: flat (self summed) and cum (totals of nodes
   * with no ancestor of the same name), summed while the totals were, when every value is zero
   * or above; null otherwise (functionTotals then sums them over the present nodes).
   */
  functions: Array<{ flat: Float64Array; cum: Float64Array }> | null;
}

/** Nodes per block of the merge's adds: 256 KB of float64 sums, which stays in a core's L2 cache. */
const MERGE_BLOCK = 1 << 15;

/**
 * Adds every side's profiles into dense arrays over the dictionary's nodes and sums totals by
 * one pass from the last node to the first (children come after parents), which also sums each
 * function's flat and cum values when no value is negative. The values are the raw profiles' own
 * integers, so sums are exact and equal the raw path's in any order.
 */
export function mergeCallTrees(dictionary: CallTreeDictionary, sides: readonly (readonly MergeInput[])[]): MergedCallTrees {
  const G = dictionary.size;
  const parent = dictionary.parent.data;
  const nameOf = dictionary.name.data;
  const first = dictionary.firstOfName;
  const self: Float64Array[] = [];
  const total: Float64Array[] = [];
  const present = new Uint8Array(G);
  present[0] = 1;
  let nodes = 1;
  const monotone = sides.every((inputs) => inputs.every((i) => i.profile.nonNegative));
  const functions: Array<{ flat: Float64Array; cum: Float64Array }> | null = monotone ? [] : null;
  for (const inputs of sides) {
    const s = new Float64Array(G);
    // Block by block of node numbers, every profile adds its nodes in the block (ids ascending,
    // each profile's cursor moves on), so the nodes profiles share are added while in the cache.
    const cursor = new Int32Array(inputs.length);
    for (let lo = 0; lo < G; lo += MERGE_BLOCK) {
      const hi = Math.min(G, lo + MERGE_BLOCK);
      for (let p = 0; p < inputs.length; p++) {
        const { profile, column } = inputs[p];
        const { ids, values, columns } = profile;
        let k = cursor[p];
        for (; k < ids.length && ids[k] < hi; k++) s[ids[k]] += values[k * columns + column];
        cursor[p] = k;
      }
    }
    // Every id is below G, so the last block took whatever was left.
    // t[g] holds the sum of g's children's totals until g is reached, then g's total.
    const t = new Float64Array(G);
    t[0] = s[0];
    if (functions !== null) {
      // With no negative value, a node of total 0 has self 0 and adds nothing to flat or cum.
      const flat = new Float64Array(dictionary.names.length);
      const cum = new Float64Array(dictionary.names.length);
      for (let g = G - 1; g > 0; g--) {
        const v = t[g] + s[g];
        if (v === 0) continue;
        t[g] = v;
        t[parent[g]] += v;
        if (present[g] === 0) {
          present[g] = 1;
          nodes++;
        }
        const name = nameOf[g];
        flat[name] += s[g];
        if (first[g]) cum[name] += v;
      }
      functions.push({ flat, cum });
    } else {
      for (let g = G - 1; g > 0; g--) {
        const v = t[g] + s[g];
        t[g] = v;
        if (v !== 0) {
          t[parent[g]] += v;
          if (present[g] === 0) {
            present[g] = 1;
            nodes++;
          }
        }
      }
    }
    self.push(s);
    total.push(t);
  }
  return { dictionary, size: G, self, total, present, nodes, monotone, functions };
}

/** Names used by the laid-out nodes, "total" first, and each node's index into them. */
function compactNames(dictionary: CallTreeDictionary, order: Int32Array): { names: string[]; name: Int32Array } {
  const index = new Int32Array(dictionary.names.length).fill(-1);
  const names: string[] = [];
  const name = new Int32Array(order.length);
  index[0] = 0;
  names.push(dictionary.names[0]);
  const nameOf = dictionary.name.data;
  for (let i = 0; i < order.length; i++) {
    const id = nameOf[order[i]];
    if (index[id] < 0) {
      index[id] = names.length;
      names.push(dictionary.names[id]);
    }
    name[i] = index[id];
  }
  return { names, name };
}

/** Per function name, flat (self summed) and cum (totals of nodes with no ancestor of the same name), as FlameTreeAccumulator.functions orders them. */
export function functionTotals(merged: MergedCallTrees, side: number): FunctionTotalByName[] {
  const { dictionary } = merged;
  const names = dictionary.names;
  let flat: Float64Array;
  let cum: Float64Array;
  if (merged.functions !== null) ({ flat, cum } = merged.functions[side]);
  else {
    const { present } = merged;
    const self = merged.self[side];
    const total = merged.total[side];
    flat = new Float64Array(names.length);
    cum = new Float64Array(names.length);
    const nameOf = dictionary.name.data;
    const first = dictionary.firstOfName;
    for (let g = 1; g < merged.size; g++) {
      if (!present[g]) continue;
      flat[nameOf[g]] += self[g];
      if (first[g]) cum[nameOf[g]] += total[g];
    }
  }
  const out: FunctionTotalByName[] = [];
  // Names interned after the merge (by a concurrent view) have no values here.
  const count = Math.min(flat.length, names.length);
  for (let i = 1; i < count; i++) {
    if (flat[i] !== 0 || cum[i] !== 0) out.push({ name: names[i], flat: flat[i], cum: cum[i] });
  }
  return out.sort((a, b) => b.flat - a.flat || b.cum - a.cum || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A merged flame graph: the tree pruned to at most maxNodes and the size of the full one. */
export interface MergedFlame {
  tree: FlameTree;
  /** Nodes of the full tree, the root included. */
  nodes: number;
  droppedNodes: number;
}

/** Returns side `side` of `merged` as the flame tree pruneFlameTree(accumulator.tree(), maxNodes) gives on the same profiles. */
export function mergedFlameTree(merged: MergedCallTrees, maxNodes: number, side = 0): MergedFlame {
  const total = merged.total[side];
  const self = merged.self[side];
  const laid = layoutMerged(merged, total, maxNodes);
  const { names, name } = compactNames(merged.dictionary, laid.order);
  const m = laid.order.length;
  const tree: FlameTree = {
    names,
    name,
    parent: laid.parent,
    depth: laid.depth,
    self: new Float64Array(m),
    total: new Float64Array(m),
    size: new Int32Array(m).fill(1),
  };
  for (let i = 0; i < m; i++) {
    tree.self[i] = self[laid.order[i]];
    tree.total[i] = total[laid.order[i]];
  }
  for (let i = m - 1; i > 0; i--) tree.size[tree.parent[i]] += tree.size[i];
  return { tree, nodes: merged.nodes, droppedNodes: laid.dropped };
}

/**
 * Returns the diff of sides 0 (before) and 1 (after) as diffTree gives it from a
 * FlameTreeAccumulator with the same profiles: totals scaled, pruned by the mean of the two
 * scaled sides, and the largest per-function changes of flat value.
 */
export function mergedDiffTree(
  merged: MergedCallTrees,
  scales: readonly [before: number, after: number],
  maxNodes: number,
  changeRows: number,
): DiffTree {
  const G = merged.size;
  const [b, a] = merged.total;
  const rank = new Float64Array(G);
  for (let g = 0; g < G; g++) if (merged.present[g]) rank[g] = (b[g] * scales[0] + a[g] * scales[1]) / 2;
  // A mean of totals shrinks from parent to child only with positive, finite scales.
  const positive = scales.every((k) => k > 0 && Number.isFinite(k));
  const laid = layoutMerged({ ...merged, monotone: merged.monotone && positive }, rank, maxNodes);
  const { names, name } = compactNames(merged.dictionary, laid.order);
  const scaleRows = (rows: FunctionTotalByName[], k: number) => rows.map((r) => ({ name: r.name, flat: r.flat * k, cum: r.cum * k }));
  return {
    nodes: merged.nodes,
    droppedNodes: laid.dropped,
    tree: {
      names,
      name: Array.from(name),
      depth: Array.from(laid.depth),
      before: Array.from(laid.order, (g) => b[g] * scales[0]),
      after: Array.from(laid.order, (g) => a[g] * scales[1]),
    },
    changes: largestChanges(scaleRows(functionTotals(merged, 0), scales[0]), scaleRows(functionTotals(merged, 1), scales[1]), changeRows),
  };
}
