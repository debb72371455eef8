import type { CallTreeDictionary } from './call-tree-dictionary.js';
import { type DiffTree, largestChanges } from './diff.js';
import type { FlameTree, FunctionTotalByName } from './flame-tree.js';
import type { PreparedForm } from './prepared-form.js';

/** One profile mapped into a CallTreeDictionary: its nodes with a non-zero value, and those values. */
export interface MappedProfile {
  /** Dictionary nodes. */
  ids: Int32Array;
  /** values[k * columns + c]: the self value of node ids[k] in value column c. */
  values: Float64Array;
  columns: number;
}

/** Maps `form` into `dictionary` (creating its missing paths) and keeps its nodes with a non-zero value. */
export function mapProfile(dictionary: CallTreeDictionary, form: PreparedForm): MappedProfile {
  const global = dictionary.map(form);
  const V = form.sampleTypes.length;
  const self = form.self;
  let valued = 0;
  for (let i = 0; i < global.length; i++) {
    for (let c = 0; c < V; c++) {
      if (self[i * V + c] !== 0) {
        valued++;
        break;
      }
    }
  }
  const ids = new Int32Array(valued);
  const values = new Float64Array(valued * V);
  let k = 0;
  for (let i = 0; i < global.length; i++) {
    let any = false;
    for (let c = 0; c < V; c++) if (self[i * V + c] !== 0) any = true;
    if (!any) continue;
    ids[k] = global[i];
    for (let c = 0; c < V; c++) values[k * V + c] = self[i * V + c];
    k++;
  }
  return { ids, values, columns: V };
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
export interface MergedCallTrees {
  dictionary: CallTreeDictionary;
  self: Float64Array[];
  total: Float64Array[];
  /** 1 for the root and every node with a non-zero total on some side: the nodes of the tree drawn. */
  present: Uint8Array;
  /** Number of present nodes, the root included. */
  nodes: number;
}

/**
 * Adds every side's profiles into dense arrays over the dictionary's nodes and sums totals by
 * one pass from the last node to the first (children come after parents). The values are the
 * raw profiles' own integers, so sums are exact and equal the raw path's in any order.
 */
export function mergeCallTrees(dictionary: CallTreeDictionary, sides: readonly (readonly MergeInput[])[]): MergedCallTrees {
  const G = dictionary.size;
  const parent = dictionary.parent.data;
  const self: Float64Array[] = [];
  const total: Float64Array[] = [];
  const present = new Uint8Array(G);
  present[0] = 1;
  for (const inputs of sides) {
    const s = new Float64Array(G);
    for (const { profile, column } of inputs) {
      const { ids, values, columns } = profile;
      for (let k = 0; k < ids.length; k++) s[ids[k]] += values[k * columns + column];
    }
    const t = s.slice();
    for (let g = G - 1; g > 0; g--) {
      if (t[g] !== 0) {
        t[parent[g]] += t[g];
        present[g] = 1;
      }
    }
    self.push(s);
    total.push(t);
  }
  let nodes = 0;
  for (let g = 0; g < G; g++) nodes += present[g];
  return { dictionary, self, total, present, nodes };
}

/** The k-th smallest (0-based) of `values`; reorders them. Three-way partitioning, so many equal values cost no more than few. */
function kthSmallest(values: Float64Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const a = values[lo];
    const b = values[(lo + hi) >>> 1];
    const c = values[hi];
    const pivot = Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    let lt = lo;
    let gt = hi;
    let i = lo;
    while (i <= gt) {
      const v = values[i];
      if (v < pivot) {
        values[i] = values[lt];
        values[lt++] = v;
        i++;
      } else if (v > pivot) {
        values[i] = values[gt];
        values[gt--] = v;
      } else i++;
    }
    if (k < lt) hi = lt - 1;
    else if (k > gt) lo = gt + 1;
    else return pivot;
  }
  return values[lo];
}

/** The drawn tree's nodes as dictionary nodes in depth-first order (children by name), with parent positions and depths. */
interface Layout {
  order: Int32Array;
  parent: Int32Array;
  depth: Int32Array;
  /** Present nodes left out to keep at most maxNodes. */
  dropped: number;
}

/**
 * Lays out the present nodes depth-first with children by name, keeping at most `maxNodes` with
 * exactly pruneFlameTree's rule on the full tree: the cut is the maxNodes-th largest rank; nodes
 * above it are kept, nodes at it in depth-first order while room is left, never a node of rank 0
 * or below or one whose parent was not kept. Only nodes at or above the cut are ever sorted or
 * walked, so a 2.8 M-node union pruned to 50,000 lays out about 50,000 nodes.
 */
function layout(merged: MergedCallTrees, rank: Float64Array, maxNodes: number): Layout {
  const { dictionary, present, nodes: n } = merged;
  const G = dictionary.size;
  const parentOf = dictionary.parent.data;
  const nameOf = dictionary.name.data;
  const names = dictionary.names;
  const prune = n > maxNodes;
  let threshold = Number.NEGATIVE_INFINITY;
  let tiesLeft = Number.POSITIVE_INFINITY;
  if (prune) {
    const ranks = new Float64Array(n);
    let at = 0;
    for (let g = 0; g < G; g++) if (present[g]) ranks[at++] = rank[g];
    const keep = Math.max(1, maxNodes);
    threshold = kthSmallest(ranks, n - keep);
    let above = 0;
    for (let g = 0; g < G; g++) if (present[g] && rank[g] > threshold) above++;
    tiesLeft = keep - above;
  }
  // Candidates: present, at or above the cut, above zero when pruning (the root always).
  const isCandidate = (g: number): boolean => present[g] === 1 && (!prune || (rank[g] >= threshold && rank[g] > 0));
  const childStart = new Int32Array(G + 1);
  let candidates = 1;
  for (let g = 1; g < G; g++) {
    if (isCandidate(g)) {
      childStart[parentOf[g] + 1]++;
      candidates++;
    }
  }
  for (let g = 0; g < G; g++) childStart[g + 1] += childStart[g];
  const kids = new Int32Array(candidates);
  const fill = childStart.slice(0, G);
  for (let g = 1; g < G; g++) if (isCandidate(g)) kids[fill[parentOf[g]]++] = g;
  const byName = (a: number, b: number): number => {
    const x = names[nameOf[a]];
    const y = names[nameOf[b]];
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const order: number[] = [];
  const parentPos: number[] = [];
  const depth: number[] = [];
  const stack: number[] = [0, -1];
  while (stack.length > 0) {
    const from = stack.pop() as number;
    const g = stack.pop() as number;
    if (g !== 0 && rank[g] === threshold) {
      if (tiesLeft <= 0) continue;
      tiesLeft--;
    }
    const at = order.length;
    order.push(g);
    parentPos.push(from);
    depth.push(from < 0 ? 0 : depth[from] + 1);
    const first = childStart[g];
    const end = childStart[g + 1];
    if (end - first > 1) kids.subarray(first, end).sort(byName);
    // Pushed in reverse so the first child by name is visited first.
    for (let k = end - 1; k >= first; k--) stack.push(kids[k], at);
  }
  return { order: Int32Array.from(order), parent: Int32Array.from(parentPos), depth: Int32Array.from(depth), dropped: n - order.length };
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
  const { dictionary, present } = merged;
  const self = merged.self[side];
  const total = merged.total[side];
  const flat = new Float64Array(dictionary.names.length);
  const cum = new Float64Array(dictionary.names.length);
  const nameOf = dictionary.name.data;
  const first = dictionary.firstOfName;
  for (let g = 1; g < dictionary.size; g++) {
    if (!present[g]) continue;
    flat[nameOf[g]] += self[g];
    if (first[g]) cum[nameOf[g]] += total[g];
  }
  const out: FunctionTotalByName[] = [];
  for (let i = 1; i < flat.length; i++) {
    if (flat[i] !== 0 || cum[i] !== 0) out.push({ name: dictionary.names[i], flat: flat[i], cum: cum[i] });
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
  const laid = layout(merged, total, maxNodes);
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
  const G = merged.dictionary.size;
  const [b, a] = merged.total;
  const rank = new Float64Array(G);
  for (let g = 0; g < G; g++) if (merged.present[g]) rank[g] = (b[g] * scales[0] + a[g] * scales[1]) / 2;
  const laid = layout(merged, rank, maxNodes);
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
