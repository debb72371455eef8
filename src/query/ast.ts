/**
 * The parsed form of a search query. `parseQuery` builds it, `matchesQuery` evaluates it in
 * memory and `queryToSql` turns it into a WHERE fragment; those two must agree on every tree.
 *
 * Trees that `parseQuery` returns are normalised: `and`/`or` have at least two children and no
 * child of the same kind (nested groups are flattened), and `all` only appears as the whole
 * tree of an empty query. Hand-built trees need not follow this; every consumer accepts any tree
 * (an `and` without children matches everything, an `or` without children nothing).
 */
export type QueryNode = MatchAllNode | AndNode | OrNode | NotNode | TagTermNode | IdTermNode | MetricTermNode;

/** Matches every profile (the empty query). */
export interface MatchAllNode {
  readonly kind: 'all';
}

/** Matches when every child matches (`a b`, `a AND b`). */
export interface AndNode {
  readonly kind: 'and';
  readonly children: readonly QueryNode[];
}

/** Matches when at least one child matches (`a OR b`). */
export interface OrNode {
  readonly kind: 'or';
  readonly children: readonly QueryNode[];
}

/** Matches when the child does not (`-a`, `NOT a`). */
export interface NotNode {
  readonly kind: 'not';
  readonly child: QueryNode;
}

/**
 * `key:value`: matches when at least one of the profile's values for `key` matches `value`.
 * Keys and values are compared exactly (case-sensitive, no trimming); a profile without the key
 * never matches (so `-key:value` matches it).
 */
export interface TagTermNode {
  readonly kind: 'tag';
  readonly key: string;
  readonly value: ValuePattern;
}

/** `profile-id:value`: matches the profile's own id, which is not a tag. */
export interface IdTermNode {
  readonly kind: 'id';
  readonly value: ValuePattern;
}

/**
 * `@metrics.<name>:<test>`: matches when the profile has the metric and its value passes the
 * test. A profile without the metric never matches (so `-@metrics.x:>1` matches it).
 */
export interface MetricTermNode {
  readonly kind: 'metric';
  readonly name: string;
  readonly test: MetricTest;
}

/** A value to compare with: one exact string, or a pattern with wildcards. */
export type ValuePattern = ExactValue | WildcardValue;

export interface ExactValue {
  readonly kind: 'exact';
  readonly value: string;
}

/**
 * A wildcard pattern that must match the whole value. Segments are normalised: no two adjacent
 * literals, no two adjacent `anyChars`, no empty literal, and at least one non-literal segment
 * (a pattern without wildcards is an `ExactValue`).
 */
export interface WildcardValue {
  readonly kind: 'wildcard';
  readonly segments: readonly WildcardSegment[];
}

/** Literal text, `*` (any run of characters, possibly empty) or `?` (exactly one character). */
export type WildcardSegment =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'anyChars' }
  | { readonly kind: 'oneChar' };

/** A numeric test: a comparison with one number, or an inclusive range `[min TO max]`. */
export type MetricTest =
  | { readonly kind: 'compare'; readonly op: ComparisonOperator; readonly value: number }
  | { readonly kind: 'range'; readonly min: number; readonly max: number };

export type ComparisonOperator = '=' | '>' | '>=' | '<' | '<=';
