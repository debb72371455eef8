import { GrowableFloat64, GrowableInt32 } from './growable.js';
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
  const acc = new FlameTreeAccumulator();
  acc.add(p, vi);
  return acc.tree();
}

/** One function's totals over the samples added to a FlameTreeAccumulator. */
export interface FunctionTotalByName {
  name: string;
  /** Value of samples whose leaf frame is this function. */
  flat: number;
  /** Value of samples with this function anywhere on the stack, counted once per sample. */
  cum: number;
}

/** Node keys pack (parent node, name index) into one exact double: names stay below 2^21. */
const NAME_SPACE = 2 ** 21;

/**
 * Adds the samples of any number of profiles into one flame tree and one table of function
 * totals, with functions matched by name across profiles (so profiles of different builds or
 * hosts aggregate without a pprof merge). The sample loop allocates nothing per sample.
 */
export class FlameTreeAccumulator {
  private readonly names: string[] = ['total'];
  private readonly nameIndex = new Map<string, number>([['total', 0]]);
  /** (parent << 21 | name) → node. */
  private readonly childOf = new Map<number, number>();
  private readonly nodeName = new GrowableInt32();
  private readonly nodeParent = new GrowableInt32();
  private readonly self = new GrowableFloat64();
  private readonly total = new GrowableFloat64();
  private flat = new Float64Array(64);
  private cum = new Float64Array(64);
  /** Per name: the last sample that counted it in `cum`, so recursion counts once. */
  private seenIn = new Int32Array(64).fill(-1);
  private sampleSerial = 0;
  private readonly frames = new GrowableInt32(256);

  constructor() {
    this.nodeName.push(0);
    this.nodeParent.push(-1);
    this.self.push(0);
    this.total.push(0);
  }

  /** Adds the samples of `p`, value column `vi`, each multiplied by `scale`. */
  add(p: Profile, vi: number, scale = 1): void {
    const V = p.sampleTypes.length >> 1;
    if (vi < 0 || vi >= V) throw new RangeError(`value column ${vi} out of range: the profile has ${V}`);
    const s = p.samples;
    const locs = p.locations;
    const fnName = new Int32Array(p.functions.count);
    for (let f = 0; f < p.functions.count; f++) fnName[f] = this.intern(p.strings[p.functions.name[f]]);
    const unknown = this.intern('?');
    const frames = this.frames;
    const childOf = this.childOf;
    for (let i = 0; i < s.count; i++) {
      const w = s.values[i * V + vi] * scale;
      if (w === 0) continue;
      frames.length = 0;
      for (let j = s.locStart[i]; j < s.locStart[i + 1]; j++) {
        const loc = s.locs[j];
        for (let l = locs.lineStart[loc]; l < locs.lineStart[loc + 1]; l++) {
          const f = locs.lineFunction[l];
          frames.push(f < 0 ? unknown : fnName[f]);
        }
      }
      const serial = this.sampleSerial++;
      let node = 0;
      this.total.data[0] += w;
      for (let k = frames.length - 1; k >= 0; k--) {
        const name = frames.data[k];
        const key = node * NAME_SPACE + name;
        let child = childOf.get(key);
        if (child === undefined) {
          child = this.nodeName.length;
          this.nodeName.push(name);
          this.nodeParent.push(node);
          this.self.push(0);
          this.total.push(0);
          childOf.set(key, child);
        }
        this.total.data[child] += w;
        node = child;
        if (this.seenIn[name] !== serial) {
          this.seenIn[name] = serial;
          this.cum[name] += w;
        }
      }
      this.self.data[node] += w;
      if (frames.length > 0) this.flat[frames.data[0]] += w;
    }
  }

  /** Returns the tree of everything added, depth-first with children by name. */
  tree(): FlameTree {
    const n = this.nodeName.length;
    const names = this.names;
    const nodeName = this.nodeName.data;
    const nodeParent = this.nodeParent.data;
    // Children grouped by parent (counting sort), then each group by name.
    const firstChild = new Int32Array(n + 1);
    for (let i = 1; i < n; i++) firstChild[nodeParent[i] + 1]++;
    for (let i = 0; i < n; i++) firstChild[i + 1] += firstChild[i];
    const kids = new Int32Array(Math.max(0, n - 1));
    const fill = firstChild.slice(0, n);
    for (let i = 1; i < n; i++) kids[fill[nodeParent[i]]++] = i;
    const byName = (a: number, b: number): number => {
      const x = names[nodeName[a]];
      const y = names[nodeName[b]];
      return x < y ? -1 : x > y ? 1 : 0;
    };
    for (let i = 0; i < n; i++) {
      if (firstChild[i + 1] - firstChild[i] > 1) kids.subarray(firstChild[i], firstChild[i + 1]).sort(byName);
    }
    const tree = allocateTree(names.slice(), n);
    const position = new Int32Array(n);
    const stack: number[] = [0];
    let at = 0;
    while (stack.length > 0) {
      const node = stack.pop() as number;
      const i = at++;
      position[node] = i;
      tree.name[i] = nodeName[node];
      tree.parent[i] = node === 0 ? -1 : position[nodeParent[node]];
      tree.depth[i] = node === 0 ? 0 : tree.depth[tree.parent[i]] + 1;
      tree.self[i] = this.self.data[node];
      tree.total[i] = this.total.data[node];
      // Pushed in reverse so the first child by name is visited first.
      for (let k = firstChild[node + 1] - 1; k >= firstChild[node]; k--) stack.push(kids[k]);
    }
    sumSubtreeSizes(tree);
    return tree;
  }

  /** Returns every function with a non-zero total, by flat value descending, then cum, then name. */
  functions(): FunctionTotalByName[] {
    const out: FunctionTotalByName[] = [];
    for (let i = 1; i < this.names.length; i++) {
      if (this.flat[i] !== 0 || this.cum[i] !== 0) out.push({ name: this.names[i], flat: this.flat[i], cum: this.cum[i] });
    }
    return out.sort((a, b) => b.flat - a.flat || b.cum - a.cum || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Root total: the sum of every value added. */
  get grandTotal(): number {
    return this.total.data[0];
  }

  private intern(name: string): number {
    let i = this.nameIndex.get(name);
    if (i === undefined) {
      i = this.names.length;
      if (i >= NAME_SPACE) throw new RangeError(`more than ${NAME_SPACE} distinct function names`);
      this.names.push(name);
      this.nameIndex.set(name, i);
      if (i >= this.flat.length) {
        const grow = (a: Float64Array): Float64Array<ArrayBuffer> => {
          const b = new Float64Array(a.length * 2);
          b.set(a);
          return b;
        };
        this.flat = grow(this.flat);
        this.cum = grow(this.cum);
        const seen = new Int32Array(this.seenIn.length * 2).fill(-1);
        seen.set(this.seenIn);
        this.seenIn = seen;
      }
    }
    return i;
  }
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
