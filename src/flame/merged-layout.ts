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
   * True when every merged value is zero or above (no NaN): every rank is then a number, and none
   * exceeds its parent's, so a node of rank above 0 is present.
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
 * and their children cost, not the dictionary. The cut is found in one pass over the present
 * nodes with a heap of the `keep` largest ranks; when some value is negative or NaN (not
 * `monotone`), by quickselect over all present ranks, which needs no order among them.
 */
export function layoutMerged(merged: LayoutInput, rank: Float64Array, maxNodes: number): Layout {
  const keep = Math.max(1, maxNodes);
  if (merged.nodes <= maxNodes) return walk(merged, rank, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, false, merged.nodes);
  const cut = merged.monotone ? cutByTopHeap(merged, rank, keep) : cutByQuickselect(merged, rank, keep);
  return walk(merged, rank, cut.threshold, keep - cut.above, true, keep);
}

/** The pruning cut: the keep-th largest rank and how many present nodes rank above it. */
interface Cut {
  threshold: number;
  above: number;
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

/**
 * The cut by one pass over the present nodes keeping the `keep` largest ranks in a min-heap: a
 * rank not above the heap's least is passed over with one compare, which most are once the heap
 * holds large ones. The least kept is the keep-th largest (equal ranks count each time), and the
 * nodes ranking above it are exactly those of the heap that do. For ranks without NaN, and
 * `keep` at most the present nodes (the caller prunes only then).
 */
export function cutByTopHeap(merged: LayoutInput, rank: Float64Array, keep: number): Cut {
  const { present, size } = merged;
  const heap = new Float64Array(keep);
  let length = 0;
  for (let g = 0; g < size; g++) {
    if (present[g] === 0) continue;
    const r = rank[g];
    if (length < keep) {
      let at = length++;
      while (at > 0) {
        const up = (at - 1) >> 1;
        if (heap[up] <= r) break;
        heap[at] = heap[up];
        at = up;
      }
      heap[at] = r;
    } else if (r > heap[0]) {
      let at = 0;
      for (;;) {
        let child = 2 * at + 1;
        if (child >= keep) break;
        if (child + 1 < keep && heap[child + 1] < heap[child]) child++;
        if (heap[child] >= r) break;
        heap[at] = heap[child];
        at = child;
      }
      heap[at] = r;
    }
  }
  const threshold = heap[0];
  let above = 0;
  for (let i = 0; i < length; i++) if (heap[i] > threshold) above++;
  return { threshold, above };
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
  // Siblings have distinct names, so their name ranks differ and the order is total.
  const nameRank = dictionary.nameOrder();
  const byName = (a: number, b: number): number => nameRank[nameOf[a]] - nameRank[nameOf[b]];
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
