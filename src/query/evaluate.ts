import type { MetricTest, QueryNode, ValuePattern } from './ast.js';
import { matchesWildcard } from './wildcard.js';

/** What a query can see of a profile. A tag may have several values (two `team:` tags). */
export interface QueryProfile {
  readonly id: string;
  readonly tags: ReadonlyMap<string, readonly string[]> | Readonly<Record<string, readonly string[]>>;
  readonly metrics: Readonly<Record<string, number>>;
}

/**
 * Returns whether `profile` matches the query: the reference semantics that `queryToSql` must
 * reproduce. A tag term matches when any of the key's values matches; a term on a tag or metric
 * the profile lacks is false (and its negation true). Only own properties of `tags` and `metrics`
 * records count, so `constructor:x` never matches an inherited property.
 */
export function matchesQuery(node: QueryNode, profile: QueryProfile): boolean {
  switch (node.kind) {
    case 'all':
      return true;
    case 'and':
      return node.children.every((c) => matchesQuery(c, profile));
    case 'or':
      return node.children.some((c) => matchesQuery(c, profile));
    case 'not':
      return !matchesQuery(node.child, profile);
    case 'tag': {
      const values = tagValues(profile.tags, node.key);
      return values?.some((v) => matchesValue(node.value, v)) ?? false;
    }
    case 'id':
      return matchesValue(node.value, profile.id);
    case 'metric': {
      const { metrics } = profile;
      if (!Object.hasOwn(metrics, node.name)) return false;
      const value = metrics[node.name];
      return typeof value === 'number' && passesTest(node.test, value);
    }
  }
}

/** Returns whether `value` matches the pattern exactly (case-sensitive) or by wildcards. */
export function matchesValue(pattern: ValuePattern, value: string): boolean {
  return pattern.kind === 'exact' ? pattern.value === value : matchesWildcard(pattern.segments, value);
}

function passesTest(test: MetricTest, value: number): boolean {
  if (test.kind === 'range') return value >= test.min && value <= test.max;
  switch (test.op) {
    case '=':
      return value === test.value;
    case '>':
      return value > test.value;
    case '>=':
      return value >= test.value;
    case '<':
      return value < test.value;
    case '<=':
      return value <= test.value;
  }
}

function tagValues(tags: QueryProfile['tags'], key: string): readonly string[] | undefined {
  if (tags instanceof Map) return tags.get(key);
  const record = tags as Readonly<Record<string, readonly string[]>>;
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
