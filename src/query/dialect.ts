import type { WildcardSegment } from './ast.js';

/**
 * What differs between SQL databases in the WHERE fragments `queryToSql` writes. Everything
 * else (table and column names, AND/OR/NOT, IN lists, comparisons) is common SQL.
 */
export interface SqlDialect {
  /** The placeholder for the parameter at `position` (1-based) in the params array. */
  placeholder(position: number): string;
  /**
   * A condition true when the text in `column` as a whole matches the pattern (`anyChars` any
   * run of characters, `oneChar` exactly one). `bind` adds a parameter and returns its placeholder.
   */
  wildcardCondition(column: string, segments: readonly WildcardSegment[], bind: (value: string) => string): string;
  /**
   * How "the profile has a matching row in profile_tags (or profile_metrics)" is written:
   * - `in-subquery`: `p.id IN (SELECT t.profile_id FROM profile_tags t WHERE ...)`; the
   *   subquery is not correlated, so the planner may read the (key, value) index once and look
   *   profiles up by id, or test membership row by row while scanning profiles;
   * - `exists`: `EXISTS (SELECT 1 FROM profile_tags t WHERE t.profile_id = p.id AND ...)`;
   *   what PostgreSQL plans best (as a semi-join or anti-join), and what SQLite can only run
   *   once per profile row;
   * - `exists-per-row` (PostgreSQL): the same EXISTS with `OFFSET 0` in the subquery, which PostgreSQL then
   *   keeps a lookup per row instead of a join or a hashed subplan: for a walk along an index
   *   that stops after a LIMIT, where reading every match of a broad term first would not.
   */
  readonly childRowTest: 'in-subquery' | 'exists' | 'exists-per-row';
  /**
   * A table `(key, value)` holding at least every distinct tag value (more is harmless), when
   * the store keeps one: a wildcard without a literal prefix (`host:*-17`) is then tested on the
   * distinct values of the key, and the tags looked up by the values that match, instead of
   * testing every tag row of the key.
   */
  readonly tagValuesTable?: string;
}

/**
 * SQLite: `?` placeholders, GLOB for wildcards (case-sensitive, whole value, counting characters
 * like matchesWildcard), and IN-subqueries. On 200,000 profiles (bench/query) IN-subqueries
 * returned all matches faster than EXISTS for every query, with a better worst case; EXISTS was
 * faster only for one page of newest profiles under broad terms (it walks a time index and stops
 * early). A store can choose per query with
 * `{ ...sqliteDialect, childRowTest: 'exists' }`.
 */
export const sqliteDialect: SqlDialect = {
  placeholder: () => '?',
  wildcardCondition: (column, segments, bind) => `${column} GLOB ${bind(toSqliteGlob(segments))}`,
  childRowTest: 'in-subquery',
};

/**
 * Returns the SQLite GLOB pattern for the segments: `*` and `?` for the wildcards, and the GLOB
 * metacharacters `*`, `?` and `[` in literal text written as the one-character classes `[*]`,
 * `[?]` and `[[]` (GLOB has no escape character; `]` outside a class is already literal). A
 * leading literal stays a plain prefix, which is what lets SQLite use the index.
 */
export function toSqliteGlob(segments: readonly WildcardSegment[]): string {
  let glob = '';
  for (const s of segments) {
    if (s.kind === 'anyChars') glob += '*';
    else if (s.kind === 'oneChar') glob += '?';
    else
      for (const c of s.text) {
        glob += c === '*' || c === '?' || c === '[' ? `[${c}]` : c;
      }
  }
  return glob;
}

/**
 * PostgreSQL: `$n` placeholders, LIKE for wildcards and EXISTS for child rows (planned as
 * semi-joins and anti-joins). LIKE rather than a `~` regular expression: with the store's
 * `COLLATE "C"` columns the planner turns a literal prefix (`LIKE 'web-%'`) into a btree range,
 * `_` counts characters in a UTF8 database as matchesWildcard does, and the pattern needs no
 * regular-expression escaping. The whole value must match, case-sensitive.
 */
export const postgresDialect: SqlDialect = {
  placeholder: (n) => `$${n}`,
  wildcardCondition: (column, segments, bind) => `${column} LIKE ${bind(toPostgresLike(segments))}`,
  childRowTest: 'exists',
};

/**
 * Returns the LIKE pattern for the segments: `%` and `_` for the wildcards, and `%`, `_` and the
 * escape character `\` (LIKE's default) in literal text escaped with `\`. A leading literal stays
 * a plain prefix, which is what lets PostgreSQL use the index.
 */
export function toPostgresLike(segments: readonly WildcardSegment[]): string {
  let like = '';
  for (const s of segments) {
    if (s.kind === 'anyChars') like += '%';
    else if (s.kind === 'oneChar') like += '_';
    else like += s.text.replace(/[%_\\]/g, (c) => `\\${c}`);
  }
  return like;
}
