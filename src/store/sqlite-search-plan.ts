import type { MetricTermNode, QueryNode, TagTermNode } from '../query/ast.js';

/** A positive term whose matching rows profile_tags or profile_metrics lists through an index (a wildcard: once per matching value). */
export type DrivingTerm = TagTermNode | MetricTermNode;

/**
 * How SQLite finds the profiles of a query (see planSearch):
 * - `term`: from the rows of one selective term, each profile looked up by id and the rest of
 *   the query tested on it;
 * - `intersect`: from the intersection of several broad exact tag terms, each a list already
 *   ordered by profile id (a merge, no temporary index), when no term alone is selective;
 * - `window`: along the time window (the start index), testing the query on each profile.
 */
export type SearchPlan =
  | { kind: 'term'; term: DrivingTerm; rows: number; rest: QueryNode }
  | { kind: 'intersect'; terms: readonly TagTermNode[]; rest: QueryNode }
  | { kind: 'window' };

/** A term with at most this many rows (in all time) drives the search. */
export const DRIVING_TERM_ROWS = 20_000;
/** The terms are counted up to this many rows first. */
const FIRST_COUNT_LIMIT = 2000;

/**
 * Chooses how to run `tree`. Only the terms of a top-level AND (or the query itself) can drive:
 * a positive tag term or a metric term. `countRows(term, atMost)` counts the term's rows up to
 * `atMost` (through an index, so about `atMost` steps); the smallest
 * under `drivingRows` drives. Without one, two or more exact tag terms are intersected; the
 * rest runs along the window. Every plan selects exactly the profiles of `tree`: the driving
 * rows are a superset of the matches, and `rest` is tested on each.
 */
export function planSearch(
  tree: QueryNode,
  countRows: (term: DrivingTerm, atMost: number) => number,
  drivingRows = DRIVING_TERM_ROWS,
): SearchPlan {
  const children = tree.kind === 'and' ? tree.children : [tree];
  const candidates = children.filter((c): c is DrivingTerm => c.kind === 'tag' || c.kind === 'metric');
  if (candidates.length === 0) return { kind: 'window' };
  let best: DrivingTerm | null = null;
  let bestRows = Number.POSITIVE_INFINITY;
  // A small limit first: a selective term is then found without counting a broad one far.
  for (const limit of new Set([Math.min(FIRST_COUNT_LIMIT, drivingRows), drivingRows])) {
    for (const c of candidates) {
      const rows = countRows(c, limit + 1);
      if (rows <= limit && rows < bestRows) {
        best = c;
        bestRows = rows;
      }
    }
    if (best !== null) break;
  }
  if (best !== null) {
    const chosen = best;
    return { kind: 'term', term: chosen, rows: bestRows, rest: andOf(children.filter((c) => c !== chosen)) };
  }
  const tags = candidates.filter((c): c is TagTermNode => c.kind === 'tag' && c.value.kind === 'exact');
  if (tags.length >= 2) {
    const chosen = new Set<QueryNode>(tags);
    return { kind: 'intersect', terms: tags, rest: andOf(children.filter((c) => !chosen.has(c))) };
  }
  return { kind: 'window' };
}

function andOf(children: readonly QueryNode[]): QueryNode {
  if (children.length === 0) return { kind: 'all' };
  return children.length === 1 ? children[0] : { kind: 'and', children };
}
