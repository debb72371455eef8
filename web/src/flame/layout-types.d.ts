// The layout's shape on its own, without code, so the Node tests of the web transforms can use
// the type without compiling the browser modules.

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
