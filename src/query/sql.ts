import type { MetricTermNode, QueryNode, TagTermNode, ValuePattern } from './ast.js';
import { type SqlDialect, sqliteDialect } from './dialect.js';

export interface QuerySqlOptions {
  /** The profiles id column of the enclosing query, as `table.column` or `column`; default `p.id`. */
  profileIdColumn?: string;
  /** Default: SQLite. */
  dialect?: SqlDialect;
}

/** A WHERE fragment and the values of its placeholders, in order. */
export interface QuerySql {
  where: string;
  params: Array<string | number>;
}

/**
 * Returns a WHERE fragment over the query tables the store creates (src/store/sqlite-query-schema.ts, and the PostgreSQL schema) that selects exactly the
 * profiles `matchesQuery` accepts, with the profiles table in scope under `profileIdColumn`.
 * Every value from the query is a parameter; the SQL text holds only fixed keywords, table names
 * and placeholders, so any query is safe to run. Exact values of one key OR-ed together share
 * one lookup (`t.key = ? AND t.value IN (?, ?)`), as do exact profile ids (`p.id IN (?, ?)`).
 */
export function queryToSql(node: QueryNode, options: QuerySqlOptions = {}): QuerySql {
  const idColumn = options.profileIdColumn ?? 'p.id';
  checkIdColumn(idColumn);
  const writer = new SqlWriter(idColumn, options.dialect ?? sqliteDialect);
  const where = writer.write(node);
  return { where, params: writer.params };
}

/**
 * Returns `SELECT t.profile_id FROM profile_tags t WHERE …` (or `m.… FROM profile_metrics m`,
 * named by `alias`): the rows one positive term reads through its index, one per matching tag
 * value or metric, so a profile appears once per matching value of a wildcard. `columns` are
 * the columns of the term's table to select (identifiers; default the profile id). For a store
 * that drives a search from one term (src/store/sqlite-search-plan.ts, pg-index.ts).
 */
export function termRowsSql(
  node: TagTermNode | MetricTermNode,
  dialect: SqlDialect = sqliteDialect,
  columns: readonly string[] = ['profile_id'],
): { select: string; params: Array<string | number>; alias: 't' | 'm' } {
  for (const c of columns) checkIdentifier('a term column', c);
  const writer = new SqlWriter('p.id', dialect);
  const alias = node.kind === 'tag' ? 't' : 'm';
  const selected = columns.map((c) => `${alias}.${c}`).join(', ');
  const select =
    node.kind === 'tag'
      ? `SELECT ${selected} FROM profile_tags t WHERE ${writer.tagConditions(node.key, node.value).join(' AND ')}`
      : `SELECT ${selected} FROM profile_metrics m WHERE ${writer.metricConditions(node).join(' AND ')}`;
  return { select, params: writer.params, alias };
}

/** The subqueries name their tables `t`, `m` and `v`; an enclosing query must not use those names. */
const RESERVED_ALIASES = new Set(['t', 'm', 'v']);

function checkIdColumn(column: string): void {
  // Caller code, not user input, but it is pasted into SQL: accept identifiers only.
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(column)) {
    throw new TypeError(`profileIdColumn must be an identifier such as p.id, got ${JSON.stringify(column)}`);
  }
  const dot = column.indexOf('.');
  if (dot > 0 && RESERVED_ALIASES.has(column.slice(0, dot))) {
    throw new TypeError(`profileIdColumn ${JSON.stringify(column)} uses the table name the query subqueries use; alias profiles as p`);
  }
}

/** The children of an OR with nested ORs spliced in: OR is associative. */
function flattenOr(children: readonly QueryNode[]): QueryNode[] {
  return children.flatMap((c) => (c.kind === 'or' && c.children.length > 0 ? flattenOr(c.children) : [c]));
}

function checkTableName(table: string): void {
  checkIdentifier('tagValuesTable', table);
}

function checkIdentifier(what: string, name: string): void {
  // Store code, not user input, but it is pasted into SQL.
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`${what} must be an identifier, got ${JSON.stringify(name)}`);
}

class SqlWriter {
  readonly params: Array<string | number> = [];

  constructor(
    private readonly idColumn: string,
    private readonly dialect: SqlDialect,
  ) {}

  write(node: QueryNode): string {
    switch (node.kind) {
      case 'all':
        return '1 = 1';
      case 'and':
        return node.children.length === 0 ? '1 = 1' : node.children.map((c) => this.operand(c)).join(' AND ');
      case 'or':
        return node.children.length === 0 ? '1 = 0' : this.writeOr(node.children);
      case 'not':
        if (node.child.kind === 'tag') return this.tagTest(node.child.key, node.child.value, true);
        if (node.child.kind === 'metric') return this.metricTest(node.child, true);
        return `NOT (${this.write(node.child)})`;
      case 'tag':
        return this.tagTest(node.key, node.value, false);
      case 'metric':
        return this.metricTest(node, false);
      case 'id':
        if (node.value.kind === 'exact') return `${this.idColumn} = ${this.bind(node.value.value)}`;
        return this.dialect.wildcardCondition(this.idColumn, node.value.segments, (v) => this.bind(v));
    }
  }

  /** A child of AND/OR: compound children need parentheses, since OR binds looser than AND. */
  private operand(node: QueryNode): string {
    const sql = this.write(node);
    return (node.kind === 'and' || node.kind === 'or') && node.children.length > 1 ? `(${sql})` : sql;
  }

  private writeOr(nested: readonly QueryNode[]): string {
    const flat = flattenOr(nested);
    if (this.dialect.childRowTest === 'exists' && flat.filter((c) => c.kind === 'tag').length >= 2) return this.writeOrOfTags(flat);
    const children = nested;
    // Exact values OR-ed together: one lookup per key (and one IN list for ids), written where
    // the first of them stood.
    const exactValuesByKey = new Map<string, Set<string>>();
    const exactIds = new Set<string>();
    for (const c of children) {
      if (c.kind === 'tag' && c.value.kind === 'exact') {
        let values = exactValuesByKey.get(c.key);
        if (values === undefined) {
          values = new Set();
          exactValuesByKey.set(c.key, values);
        }
        values.add(c.value.value);
      } else if (c.kind === 'id' && c.value.kind === 'exact') {
        exactIds.add(c.value.value);
      }
    }
    const parts: string[] = [];
    const written = new Set<string>();
    let idsWritten = false;
    for (const c of children) {
      if (c.kind === 'tag' && c.value.kind === 'exact') {
        if (written.has(c.key)) continue;
        written.add(c.key);
        parts.push(this.tagTest(c.key, [...exactValuesByKey.get(c.key)!], false));
      } else if (c.kind === 'id' && c.value.kind === 'exact') {
        if (idsWritten) continue;
        idsWritten = true;
        parts.push(exactIds.size === 1 ? this.write(c) : `${this.idColumn} IN (${this.bindList([...exactIds])})`);
      } else {
        parts.push(this.operand(c));
      }
    }
    return parts.join(' OR ');
  }

  /**
   * An OR whose tag terms become one EXISTS with their conditions OR-ed, written where the first
   * tag term stood: one semi-join PostgreSQL plans from the union of the terms' index ranges,
   * where an OR of EXISTS tests is a per-row test of every profile in the window.
   */
  private writeOrOfTags(children: readonly QueryNode[]): string {
    const parts: string[] = [];
    let tagsWritten = false;
    for (const c of children) {
      if (c.kind !== 'tag') {
        parts.push(this.operand(c));
        continue;
      }
      if (tagsWritten) continue;
      tagsWritten = true;
      const exactValuesByKey = new Map<string, string[]>();
      const alternatives: TagTermNode[] = [];
      for (const t of children) {
        if (t.kind !== 'tag') continue;
        if (t.value.kind === 'exact') {
          const values = exactValuesByKey.get(t.key);
          if (values !== undefined) {
            if (!values.includes(t.value.value)) values.push(t.value.value);
            continue;
          }
          exactValuesByKey.set(t.key, [t.value.value]);
        }
        alternatives.push(t);
      }
      // Placeholders are bound in text order: write each alternative's conditions in turn.
      const written = alternatives.map((t) => {
        const conditions =
          t.value.kind === 'exact'
            ? this.tagConditions(t.key, exactValuesByKey.get(t.key) as string[])
            : this.tagConditions(t.key, t.value);
        return `(${conditions.join(' AND ')})`;
      });
      parts.push(`EXISTS (SELECT 1 FROM profile_tags t WHERE t.profile_id = ${this.idColumn} AND (${written.join(' OR ')}))`);
    }
    return parts.join(' OR ');
  }

  /** The profile has a tag `key` with a value matching `value` (or equal to one of a list). */
  private tagTest(key: string, value: ValuePattern | string[], negated: boolean): string {
    return this.childRowTest('profile_tags', 't', this.tagConditions(key, value), negated);
  }

  /** The conditions on a profile_tags row `t` of a tag `key` whose value matches `value` (or is one of a list). */
  tagConditions(key: string, value: ValuePattern | string[]): string[] {
    const conditions = [`t.key = ${this.bind(key)}`];
    if (Array.isArray(value)) {
      conditions.push(value.length === 1 ? `t.value = ${this.bind(value[0])}` : `t.value IN (${this.bindList(value)})`);
    } else if (value.kind === 'exact') {
      conditions.push(`t.value = ${this.bind(value.value)}`);
    } else if (!(value.segments.length === 1 && value.segments[0].kind === 'anyChars')) {
      // `key:*` only asks that the tag exist.
      const table = this.dialect.tagValuesTable;
      if (table !== undefined && value.segments[0].kind !== 'literal') {
        // No literal prefix, so no range of the (key, value) index: match the key's distinct values instead.
        checkTableName(table);
        const keyParam = this.bind(key);
        const valueTest = this.dialect.wildcardCondition('v.value', value.segments, (v) => this.bind(v));
        conditions.push(`t.value IN (SELECT v.value FROM ${table} v WHERE v.key = ${keyParam} AND ${valueTest})`);
      } else {
        conditions.push(this.dialect.wildcardCondition('t.value', value.segments, (v) => this.bind(v)));
      }
    }
    return conditions;
  }

  private metricTest(node: MetricTermNode, negated: boolean): string {
    return this.childRowTest('profile_metrics', 'm', this.metricConditions(node), negated);
  }

  /** The conditions on a profile_metrics row `m` that passes the metric term. */
  metricConditions(node: MetricTermNode): string[] {
    const conditions = [`m.name = ${this.bind(node.name)}`];
    const { test } = node;
    if (test.kind === 'range') conditions.push(`m.value BETWEEN ${this.bind(test.min)} AND ${this.bind(test.max)}`);
    else conditions.push(`m.value ${test.op} ${this.bind(test.value)}`);
    return conditions;
  }

  private childRowTest(table: string, alias: string, conditions: string[], negated: boolean): string {
    if (this.dialect.childRowTest !== 'in-subquery') {
      const where = [`${alias}.profile_id = ${this.idColumn}`, ...conditions].join(' AND ');
      // OFFSET 0 keeps PostgreSQL from turning the EXISTS into a join or a hashed subplan.
      const fence = this.dialect.childRowTest === 'exists-per-row' ? ' OFFSET 0' : '';
      return `${negated ? 'NOT EXISTS' : 'EXISTS'} (SELECT 1 FROM ${table} ${alias} WHERE ${where}${fence})`;
    }
    // profile_id is NOT NULL, so NOT IN has no NULL surprise.
    return `${this.idColumn} ${negated ? 'NOT IN' : 'IN'} (SELECT ${alias}.profile_id FROM ${table} ${alias} WHERE ${conditions.join(' AND ')})`;
  }

  private bind(value: string | number): string {
    this.params.push(value);
    return this.dialect.placeholder(this.params.length);
  }

  private bindList(values: readonly string[]): string {
    return values.map((v) => this.bind(v)).join(', ');
  }
}
