import type { QueryNode } from '../query/ast.js';

/**
 * Whether a query probably matches a large share of profiles, judged from its shape alone: an
 * AND (or a single term) of match-all, negations, exact tag values and metric tests. Stores call
 * it only once they know no term is selective (SQLite counts the terms; PostgreSQL has
 * statistics), and then count such a query along the time window, which stops after the cap;
 * a wildcard or an OR may match few profiles, and a walk would then read the whole window.
 */
export function likelyDense(tree: QueryNode): boolean {
  const children = tree.kind === 'and' ? tree.children : [tree];
  return children.every(
    (c) => c.kind === 'all' || c.kind === 'not' || c.kind === 'metric' || (c.kind === 'tag' && c.value.kind === 'exact'),
  );
}
