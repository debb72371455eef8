import type { CallTreeDictionary } from './call-tree-dictionary.js';

/**
 * The nodes of a merged call tree to draw, chosen and ordered as pruneFlameTree chooses and
 * orders them on the full tree: depth-first, children by name, at most `maxNodes`.
 */
export interface Layout {
  /** Dictionary nodes in depth-first order (children by name); the root first. */
  order: Int32Array;
  /** Per laid-out node, its parent's position in `order` (-1 for the root). */
  parent: Int32Array;
  depth: Int32Array;
  /** Present nodes left out to keep at most maxNodes. */
  dropped: number;
}

/** What a layout reads of a merge: the dictionary as it was when merged, and which nodes the view reaches. */
export interface LayoutInput {
  dictionary: CallTreeDictionary;
  /** Dictionary nodes when merged; nodes mapped since (by a concurrent view) are not part of the view. */
  size: number;
  /** 1 for the root and every node of the view's tree. */
  present: Uint8Array;
  /** Number of present nodes, the root included. */
  nodes: number;
  /**
   * True when no node's rank exceeds its parent's (every merged value is zero or above, so every
   * total and every positive combination of totals shrinks from parent to child).
   */
  monotone: boolean;
}

/**
 * Lays out the present nodes of `merged` depth-first with children by name, keeping at most
 * `maxNodes` by exactly pruneFlameTree's rule on the full tree: the cut is the maxNodes-th
 * largest rank (over every present node, the root included); nodes above it are kept, nodes at
 * it in depth-first order while room is left, never a node of rank 0 or below or one whose
 * parent was not kept.
 *
 * The walk follows the dictionary's child lists from the root, so it costs what the nodes drawn
 * and their children cost, not the dictionary. The cut is found by quickselect over the ranks of
 * the present nodes; when ranks shrink from parent to child (`monotone`) and far fewer nodes are
 * kept than present, by a best-first walk from the root instead, which touches only the nodes
 * kept and their children.
 */
export function layoutMerged(merged: LayoutInput, rank: Float64Array, maxNodes: number): Layout {
  const keep = Math.max(1, maxNodes);
  if (merged.nodes <= maxNodes) return walk(merged, rank, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, false, merged.nodes);
  const cut =
    merged.monotone && merged.nodes > BEST_FIRST_RATIO * keep ? cutByBestFirst(merged, rank, keep) : cutByQuickselect(merged, rank, keep);
  return walk(merged, rank, cut.threshold, keep - cut.above, true, keep);
}

/**
 * Present nodes per node kept above which the best-first cut is used: a heap step costs tens of
 * times a quickselect step (measured on the bench/ui aggregate, 2.8 M present nodes and 50,000
 * kept, the two cost the same), so it pays only when far fewer nodes are kept than ranked.
 */
const BEST_FIRST_RATIO = 64;

/** The pruning cut: the keep-th largest rank and how many present nodes rank above it. */
interface Cut {
  threshold: number;
  above: number;
}

/**
 * The cut when no child outranks its parent: nodes leave a max-heap in non-increasing rank
 * order starting from the root, each letting its children in, so the keep-th to leave holds the
 * keep-th largest rank, and every node above it has left before it (its ancestors rank at least
 * as high, so one of them was always waiting in the heap). Only nodes of rank above 0 enter: when
 * fewer than `keep` do, the cut is 0, which keeps exactly them, as pruneFlameTree does.
 */
export function cutByBestFirst(merged: LayoutInput, rank: Float64Array, keep: number): Cut {
  const { dictionary, present, size } = merged;
  const firstChild = dictionary.firstChild.data;
  const nextSibling = dictionary.nextSibling.data;
  let heapNode = new Int32Array(Math.min(1024, size));
  let heapRank = new Float64Array(heapNode.length);
  let length = 0;
  const push = (g: number, r: number): void => {
    if (length === heapNode.length) {
      const grownNode = new Int32Array(length * 2);
      grownNode.set(heapNode);
      heapNode = grownNode;
      const grownRank = new Float64Array(length * 2);
      grownRank.set(heapRank);
      heapRank = grownRank;
    }
    let at = length++;
    while (at > 0) {
      const up = (at - 1) >> 1;
      if (heapRank[up] >= r) break;
      heapNode[at] = heapNode[up];
      heapRank[at] = heapRank[up];
      at = up;
    }
    heapNode[at] = g;
    heapRank[at] = r;
  };
  const pop = (): number => {
    const top = heapNode[0];
    const lastNode = heapNode[--length];
    const lastRank = heapRank[length];
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= length) break;
      if (child + 1 < length && heapRank[child + 1] > heapRank[child]) child++;
      if (heapRank[child] <= lastRank) break;
      heapNode[at] = heapNode[child];
      heapRank[at] = heapRank[child];
      at = child;
    }
    heapNode[at] = lastNode;
    heapRank[at] = lastRank;
    return top;
  };
  // The root always counts as one of the present nodes, whatever its rank.
  let left = 0;
  let threshold = 0;
  let above = 0;
  let last = Number.NaN;
  const visit = (g: number): void => {
    for (let c = firstChild[g]; c >= 0; c = nextSibling[c]) {
      if (c < size && present[c] === 1 && rank[c] > 0) push(c, rank[c]);
    }
  };
  if (rank[0] > 0) push(0, rank[0]);
  else {
    // A root of rank 0 or below is the smallest present rank only when no node ranks above 0.
    left = 1;
    last = rank[0];
    visit(0);
  }
  while (left < keep && length > 0) {
    const r = heapRank[0];
    const g = pop();
    left++;
    if (r !== last) {
      above = left - 1;
      last = r;
    }
    threshold = r;
    visit(g);
  }
  if (left < keep) return { threshold: 0, above: left };
  return { threshold, above };
}

/** The k-th smallest (0-based) of `values`; reorders them. Three-way partitioning, so many equal values cost no more than few. */
export function kthSmallest(values: Float64Array, k: number): number {
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

/** The cut for any ranks: quickselect over the ranks of every present node. */
export function cutByQuickselect(merged: LayoutInput, rank: Float64Array, keep: number): Cut {
  const { present, size, nodes } = merged;
  const ranks = new Float64Array(nodes);
  let at = 0;
  for (let g = 0; g < size; g++) if (present[g]) ranks[at++] = rank[g];
  const threshold = kthSmallest(ranks, nodes - keep);
  let above = 0;
  for (let g = 0; g < size; g++) if (present[g] && rank[g] > threshold) above++;
  return { threshold, above };
}

/**
 * The depth-first walk from the root through the dictionary's child lists: a child is a
 * candidate when present (and, when pruning, ranked at or above the threshold and above 0);
 * candidates at the threshold are kept while `tiesLeft` lasts; children are visited by name.
 */
function walk(merged: LayoutInput, rank: Float64Array, threshold: number, tiesLeft: number, prune: boolean, capacity: number): Layout {
  const { dictionary, present, size } = merged;
  const firstChild = dictionary.firstChild.data;
  const nextSibling = dictionary.nextSibling.data;
  const nameOf = dictionary.name.data;
  const names = dictionary.names;
  const byName = (a: number, b: number): number => {
    const x = names[nameOf[a]];
    const y = names[nameOf[b]];
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const order = new Int32Array(capacity);
  const parentPos = new Int32Array(capacity);
  const depth = new Int32Array(capacity);
  let count = 0;
  const stack: number[] = [0, -1];
  const children: number[] = [];
  while (stack.length > 0) {
    const from = stack.pop() as number;
    const g = stack.pop() as number;
    if (g !== 0 && rank[g] === threshold) {
      if (tiesLeft <= 0) continue;
      tiesLeft--;
    }
    const at = count++;
    order[at] = g;
    parentPos[at] = from;
    depth[at] = from < 0 ? 0 : depth[from] + 1;
    children.length = 0;
    for (let c = firstChild[g]; c >= 0; c = nextSibling[c]) {
      // When pruning, a rank above 0 implies present (absent nodes rank 0), which saves a read.
      if (c < size && (prune ? rank[c] >= threshold && rank[c] > 0 : present[c] === 1)) children.push(c);
    }
    if (children.length > 1) children.sort(byName);
    // Pushed in reverse so the first child by name is visited first.
    for (let k = children.length - 1; k >= 0; k--) stack.push(children[k], at);
  }
  return {
    order: order.subarray(0, count),
    parent: parentPos.subarray(0, count),
    depth: depth.subarray(0, count),
    dropped: merged.nodes - count,
  };
}
