import { GrowableFloat64, GrowableInt32 } from '../pprof/growable.js';
import type { Profile } from '../pprof/profile.js';
import { CallTreeDictionary } from './call-tree-dictionary.js';

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

/** Most distinct function names one accumulator takes. */
const MAX_NAMES = 2 ** 24;

/**
 * Adds the samples of any number of profiles into one flame tree and one table of function
 * totals, with functions matched by name across profiles (so profiles of different builds or
 * hosts aggregate without a pprof merge). The sample loop allocates nothing per sample.
 */
export class FlameTreeAccumulator {
  /** The tree's shape: every distinct call path by function names, and the names' ids. */
  private readonly paths = new CallTreeDictionary(Number.MAX_SAFE_INTEGER, false);
  /** Per side (e.g. before and after of a diff): self and total of every node, flat and cum of every name. */
  private readonly self: GrowableFloat64[] = [];
  private readonly total: GrowableFloat64[] = [];
  private flat: Float64Array[] = [];
  private cum: Float64Array[] = [];
  /** Per name: the last sample that counted it in `cum`, so recursion counts once. */
  private seenIn = new Int32Array(64).fill(-1);
  private sampleSerial = 0;
  private layoutCache: { shape: Omit<FlameTree, 'self' | 'total'>; order: Int32Array } | null = null;
  private readonly frames = new GrowableInt32(256);

  /** `sides` value sets share one tree: 1 for a flame graph, 2 for a diff. */
  constructor(readonly sides = 1) {
    for (let k = 0; k < sides; k++) {
      this.self.push(new GrowableFloat64());
      this.total.push(new GrowableFloat64());
      this.flat.push(new Float64Array(64));
      this.cum.push(new Float64Array(64));
    }
    for (let k = 0; k < sides; k++) {
      this.self[k].push(0);
      this.total[k].push(0);
    }
  }

  /** Adds the samples of `p`, value column `vi`, each multiplied by `scale`, to side `side`. */
  add(p: Profile, vi: number, scale = 1, side = 0): void {
    const V = p.sampleTypes.length >> 1;
    if (vi < 0 || vi >= V) throw new RangeError(`value column ${vi} out of range: the profile has ${V}`);
    if (!(side >= 0 && side < this.sides)) throw new RangeError(`side ${side} out of range: the accumulator has ${this.sides}`);
    const total = this.total[side];
    const self = this.self[side];
    const s = p.samples;
    const locs = p.locations;
    const fnName = new Int32Array(p.functions.count);
    for (let f = 0; f < p.functions.count; f++) fnName[f] = this.intern(p.strings[p.functions.name[f]]);
    const unknown = this.intern('?');
    const frames = this.frames;
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
      total.data[0] += w;
      for (let k = frames.length - 1; k >= 0; k--) {
        const name = frames.data[k];
        const child = this.childOf(node, name);
        total.data[child] += w;
        node = child;
        if (this.seenIn[name] !== serial) {
          this.seenIn[name] = serial;
          this.cum[side][name] += w;
        }
      }
      self.data[node] += w;
      if (frames.length > 0) this.flat[side][frames.data[0]] += w;
    }
  }

  /** Returns the child of `parent` named `name`, creating it (with zero values on every side). */
  private childOf(parent: number, name: number): number {
    const child = this.paths.childOf(parent, name);
    if (child === this.self[0].length) {
      for (let k = 0; k < this.sides; k++) {
        this.self[k].push(0);
        this.total[k].push(0);
      }
    }
    return child;
  }

  /** Returns the tree of everything added to `side`, depth-first with children by name; every side gives the same node order. */
  tree(side = 0): FlameTree {
    const { shape, order } = this.layout();
    const self = this.self[side].data;
    const total = this.total[side].data;
    const n = order.length;
    const out: FlameTree = { ...shape, self: new Float64Array(n), total: new Float64Array(n) };
    for (let i = 0; i < n; i++) {
      out.self[i] = self[order[i]];
      out.total[i] = total[order[i]];
    }
    return out;
  }

  /**
   * The depth-first order of the nodes (children by name) and the tree's shape in that order.
   * It depends only on which nodes exist, which only grows, so it is computed once per node count
   * and shared by every side's tree (their name, parent, depth and size arrays are the same).
   */
  private layout(): { shape: Omit<FlameTree, 'self' | 'total'>; order: Int32Array } {
    const n = this.paths.size;
    if (this.layoutCache !== null && this.layoutCache.order.length === n) return this.layoutCache;
    const names = this.paths.names;
    const nodeName = this.paths.name.data;
    const nodeParent = this.paths.parent.data;
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
    const { self: _self, total: _total, ...shape } = allocateTree(names.slice(), n);
    const order = new Int32Array(n);
    const position = new Int32Array(n);
    const stack: number[] = [0];
    let at = 0;
    while (stack.length > 0) {
      const node = stack.pop() as number;
      const i = at++;
      order[i] = node;
      position[node] = i;
      shape.name[i] = nodeName[node];
      shape.parent[i] = node === 0 ? -1 : position[nodeParent[node]];
      shape.depth[i] = node === 0 ? 0 : shape.depth[shape.parent[i]] + 1;
      // Pushed in reverse so the first child by name is visited first.
      for (let k = firstChild[node + 1] - 1; k >= firstChild[node]; k--) stack.push(kids[k]);
    }
    sumSubtreeSizes(shape);
    this.layoutCache = { shape, order };
    return this.layoutCache;
  }

  /** Returns every function with a non-zero total, by flat value descending, then cum, then name. */
  functions(side = 0): FunctionTotalByName[] {
    const out: FunctionTotalByName[] = [];
    const flat = this.flat[side];
    const cum = this.cum[side];
    const names = this.paths.names;
    for (let i = 1; i < names.length; i++) {
      if (flat[i] !== 0 || cum[i] !== 0) out.push({ name: names[i], flat: flat[i], cum: cum[i] });
    }
    return out.sort((a, b) => b.flat - a.flat || b.cum - a.cum || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Root total: the sum of every value added to `side`. */
  grandTotal(side = 0): number {
    return this.total[side].data[0];
  }

  private intern(name: string): number {
    const i = this.paths.intern(name);
    if (i >= MAX_NAMES) throw new RangeError(`more than ${MAX_NAMES} distinct function names`);
    if (i >= this.seenIn.length) {
      const grow = (a: Float64Array): Float64Array<ArrayBuffer> => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.flat = this.flat.map(grow);
      this.cum = this.cum.map(grow);
      const seen = new Int32Array(this.seenIn.length * 2).fill(-1);
      seen.set(this.seenIn);
      this.seenIn = seen;
    }
    return i;
  }
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
function sumSubtreeSizes(tree: Pick<FlameTree, 'size' | 'parent'>): void {
  for (let i = tree.size.length - 1; i > 0; i--) tree.size[tree.parent[i]] += tree.size[i];
}

/**
 * Returns `tree` without its smallest nodes, keeping at most `maxNodes`: those with the largest
 * `rank` (default: their totals; among equal ranks at the cut, the first in depth-first order),
 * and `kept`, the original index of every node kept. The rank must not grow from parent to child
 * (totals never do), so what is kept is still a tree with the same root, order and values; a
 * kept node's dropped children show as the part of its width no child covers. Returns `tree`
 * itself when it is small enough.
 */
export function pruneFlameTree(
  tree: FlameTree,
  maxNodes: number,
  rank: Float64Array = tree.total,
): { tree: FlameTree; dropped: number; kept: Int32Array | null } {
  const n = tree.name.length;
  if (n <= maxNodes) return { tree, dropped: 0, kept: null };
  const sorted = rank.slice().sort();
  const threshold = sorted[n - Math.max(1, maxNodes)];
  let above = 0;
  for (let i = 0; i < n; i++) if (rank[i] > threshold) above++;
  let tiesLeft = Math.max(1, maxNodes) - above;
  const position = new Int32Array(n).fill(-1);
  let count = 0;
  for (let i = 0; i < n; i++) {
    // Depth-first order: a node is kept only under a kept parent, so the result stays connected.
    if (i > 0 && (rank[i] < threshold || rank[i] <= 0 || position[tree.parent[i]] < 0)) continue;
    if (i > 0 && rank[i] === threshold) {
      if (tiesLeft <= 0) continue;
      tiesLeft--;
    }
    position[i] = count++;
  }
  const out = allocateTree(tree.names, count);
  const kept = new Int32Array(count);
  for (let i = 0; i < n; i++) {
    const at = position[i];
    if (at < 0) continue;
    kept[at] = i;
    out.name[at] = tree.name[i];
    out.parent[at] = i === 0 ? -1 : position[tree.parent[i]];
    out.depth[at] = tree.depth[i];
    out.self[at] = tree.self[i];
    out.total[at] = tree.total[i];
  }
  sumSubtreeSizes(out);
  return { tree: out, dropped: n - count, kept };
}
