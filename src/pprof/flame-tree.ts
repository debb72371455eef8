import type { Profile } from './profile.js';

/**
 * A call tree ready to draw as a flame graph: node 0 is the root ("total"); every other node
 * is a function called from its parent's function along some stack. Nodes are in depth-first
 * order with children sorted by name, so a node's subtree is the contiguous range
 * [i, i + size[i]) and a renderer needs one pass and no recursion.
 */
export interface FlameTree {
  /** Function names; nodes refer to them by index. names[0] is "total". */
  names: string[];
  name: Int32Array;
  parent: Int32Array;
  depth: Int32Array;
  /** Value of samples whose leaf frame is this node. */
  self: Float64Array;
  /** Value of all samples through this node (self plus descendants). */
  total: Float64Array;
  /** Number of nodes in this node's subtree, itself included. */
  size: Int32Array;
}

/**
 * Returns the flame tree of value column `vi`: each sample's stack, root first with inlined
 * frames expanded, becomes a path from the root; equal paths share nodes and add up. Totals are
 * preserved: the root's total is the sum of the column, and every node's total is its self
 * value plus its children's totals.
 */
export function buildFlameTree(p: Profile, vi: number): FlameTree {
  const V = p.sampleTypes.length >> 1;
  const s = p.samples;
  const locs = p.locations;
  // Children of a node, keyed by name index: a Map per node is fine at flame-graph sizes
  // (tens of thousands of nodes); the sample loop itself allocates nothing.
  const names: string[] = ['total'];
  const nameIndex = new Map<string, number>([['total', 0]]);
  const fnName = new Int32Array(p.functions.count);
  for (let f = 0; f < p.functions.count; f++) {
    const n = p.strings[p.functions.name[f]];
    let i = nameIndex.get(n);
    if (i === undefined) {
      i = names.length;
      names.push(n);
      nameIndex.set(n, i);
    }
    fnName[f] = i;
  }
  const unknown = names.length;
  names.push('?');
  const children: Array<Map<number, number>> = [new Map()];
  const nodeName: number[] = [0];
  const nodeParent: number[] = [-1];
  const selfValue: number[] = [0];
  const totalValue: number[] = [0];
  const frames: number[] = [];
  for (let i = 0; i < s.count; i++) {
    const w = s.values[i * V + vi];
    if (w === 0) continue;
    frames.length = 0;
    for (let j = s.locStart[i]; j < s.locStart[i + 1]; j++) {
      const loc = s.locs[j];
      for (let l = locs.lineStart[loc]; l < locs.lineStart[loc + 1]; l++) {
        const f = locs.lineFunction[l];
        frames.push(f < 0 ? unknown : fnName[f]);
      }
    }
    let node = 0;
    totalValue[0] += w;
    for (let k = frames.length - 1; k >= 0; k--) {
      const map = children[node];
      let child = map.get(frames[k]);
      if (child === undefined) {
        child = nodeName.length;
        nodeName.push(frames[k]);
        nodeParent.push(node);
        selfValue.push(0);
        totalValue.push(0);
        children.push(new Map());
        map.set(frames[k], child);
      }
      totalValue[child] += w;
      node = child;
    }
    selfValue[node] += w;
  }
  // Lay the nodes out depth-first, children by name.
  const n = nodeName.length;
  const order = new Int32Array(n);
  const depthOf = new Int32Array(n);
  const stack: number[] = [0];
  let at = 0;
  while (stack.length > 0) {
    const node = stack.pop() as number;
    order[at++] = node;
    const kids = [...children[node].values()].sort((a, b) => (names[nodeName[a]] < names[nodeName[b]] ? 1 : -1));
    for (const k of kids) {
      depthOf[k] = depthOf[node] + 1;
      stack.push(k);
    }
  }
  const position = new Int32Array(n);
  for (let i = 0; i < n; i++) position[order[i]] = i;
  const tree = allocateTree(names, n);
  for (let i = 0; i < n; i++) {
    const node = order[i];
    tree.name[i] = nodeName[node];
    tree.parent[i] = node === 0 ? -1 : position[nodeParent[node]];
    tree.depth[i] = depthOf[node];
    tree.self[i] = selfValue[node];
    tree.total[i] = totalValue[node];
  }
  sumSubtreeSizes(tree);
  return tree;
}

/** A diff of two flame trees over the union of their paths. */
export interface FlameDiff {
  /** The union tree in depth-first order; self and total are the comparison's ("after"). */
  tree: FlameTree;
  /** The base's ("before") total of every node of `tree`, times `scale`. */
  baseTotal: Float64Array;
  /** Scale applied to the base (e.g. ratio of durations or profile counts). */
  scale: number;
}

/** Returns the path of every node: ancestor names joined by U+0000, which sorts below any name. */
function nodePaths(t: FlameTree): string[] {
  const paths: string[] = new Array(t.name.length);
  paths[0] = '';
  for (let i = 1; i < t.name.length; i++) paths[i] = `${paths[t.parent[i]]}\u0000${t.names[t.name[i]]}`;
  return paths;
}

/**
 * Returns the diff of two flame trees over the union of their paths: the tree holds the
 * comparison's values, `baseTotal` the base's totals times `scale` (1 compares raw values;
 * durationAfter / durationBefore compares per second). A path present on one side only has 0 on
 * the other, so both growth and shrinkage show. The diff of a tree with itself is zero everywhere.
 */
export function diffFlameTrees(before: FlameTree, after: FlameTree, scale = 1): FlameDiff {
  const union = new Map<string, { self: number; total: number; base: number; name: string }>();
  const add = (t: FlameTree, isAfter: boolean): void => {
    const paths = nodePaths(t);
    for (let i = 0; i < paths.length; i++) {
      let e = union.get(paths[i]);
      if (!e) {
        e = { self: 0, total: 0, base: 0, name: t.names[t.name[i]] };
        union.set(paths[i], e);
      }
      if (isAfter) {
        e.self = t.self[i];
        e.total = t.total[i];
      } else {
        e.base = t.total[i] * scale;
      }
    }
  };
  add(after, true);
  add(before, false);
  // Sorted paths are a depth-first order with children by name, as buildFlameTree lays out.
  const paths = [...union.keys()].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const n = paths.length;
  const index = new Map<string, number>();
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  const tree = allocateTree(names, n);
  const baseTotal = new Float64Array(n);
  paths.forEach((path, i) => {
    const e = union.get(path) as { self: number; total: number; base: number; name: string };
    let ni = nameIndex.get(e.name);
    if (ni === undefined) {
      ni = names.length;
      names.push(e.name);
      nameIndex.set(e.name, ni);
    }
    index.set(path, i);
    tree.name[i] = ni;
    const cut = path.lastIndexOf('\u0000');
    tree.parent[i] = i === 0 ? -1 : (index.get(path.slice(0, cut)) as number);
    tree.depth[i] = i === 0 ? 0 : tree.depth[tree.parent[i]] + 1;
    tree.self[i] = e.self;
    tree.total[i] = e.total;
    baseTotal[i] = e.base;
  });
  sumSubtreeSizes(tree);
  return { tree, baseTotal, scale };
}

/** Returns a tree of n zeroed nodes (sizes 1) over `names`. */
function allocateTree(names: string[], n: number): FlameTree {
  return {
    names,
    name: new Int32Array(n),
    parent: new Int32Array(n),
    depth: new Int32Array(n),
    self: new Float64Array(n),
    total: new Float64Array(n),
    size: new Int32Array(n).fill(1),
  };
}

/** Sets every node's subtree size; nodes must be in depth-first order (parents first). */
function sumSubtreeSizes(tree: FlameTree): void {
  for (let i = tree.size.length - 1; i > 0; i--) tree.size[tree.parent[i]] += tree.size[i];
}
