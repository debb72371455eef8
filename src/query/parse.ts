import type { ComparisonOperator, MetricTest, QueryNode } from './ast.js';
import { QuerySyntaxError } from './errors.js';
import { columnAt, isKey, isSpace, QueryScanner } from './scanner.js';

/** Longest query accepted, in UTF-16 code units; longer ones are rejected before parsing. */
export const MAX_QUERY_LENGTH = 4096;

/** Deepest nesting accepted; every parenthesis and every negation (`-`, `NOT`) is one level. */
export const MAX_QUERY_DEPTH = 64;

/** The key that matches the profile's id instead of a tag. */
export const PROFILE_ID_KEY = 'profile-id';

const METRICS_PREFIX = 'metrics.';

/**
 * Returns the tree of a search query in Datadog's syntax (see README.md in this folder for the
 * grammar), or throws a QuerySyntaxError that points at the first thing that is wrong. An empty
 * or blank query gives `{ kind: 'all' }`. Parsing is one left-to-right pass without
 * backtracking, so its time is linear in the query's length, and recursion is bounded by
 * MAX_QUERY_DEPTH.
 */
export function parseQuery(text: string): QueryNode {
  if (text.length > MAX_QUERY_LENGTH) {
    const column = columnAt(text, MAX_QUERY_LENGTH);
    throw new QuerySyntaxError(
      `query too long at column ${column}: expected at most ${MAX_QUERY_LENGTH} characters, found ${text.length}`,
      MAX_QUERY_LENGTH,
      column,
    );
  }
  return new QueryParser(text).parseQuery();
}

/** Builds a leaf (tag, id or metric term) from the value at the current position. */
type LeafParser = () => QueryNode;

/**
 * Recursive descent over the characters themselves, reading each token with the scanner's
 * readers as the grammar reaches it (see QueryScanner for why there is no token stream).
 */
class QueryParser extends QueryScanner {
  private depth = 0;

  parseQuery(): QueryNode {
    this.skipSpace();
    if (this.atEnd()) return { kind: 'all' };
    const node = this.parseOr();
    // parseOr only stops at the end or at a ")" that no "(" opened.
    if (!this.atEnd()) throw this.expected(this.pos, 'end of query', ' (no "(" to close)');
    return node;
  }

  // or = and { "OR" and }
  private parseOr(): QueryNode {
    return this.parseOrOf(() => this.parseAnd(), 'a term');
  }

  // and = unary { [ "AND" ] unary }
  private parseAnd(): QueryNode {
    return this.parseAndOf(() => this.parseUnary(), 'a term');
  }

  /** `operand { "OR" operand }`; `what` names an operand in the error when one is missing. */
  private parseOrOf(operand: () => QueryNode, what: string): QueryNode {
    const children = [operand()];
    for (;;) {
      this.skipSpace();
      if (!this.keywordAt('OR')) break;
      this.pos += 2;
      this.skipSpace();
      this.requireOperand(`${what} after OR`);
      children.push(operand());
    }
    return makeOr(children);
  }

  /** `operand { [ "AND" ] operand }`: juxtaposition is AND; stops before OR, ")" or the end. */
  private parseAndOf(operand: () => QueryNode, what: string): QueryNode {
    const children = [operand()];
    for (;;) {
      this.skipSpace();
      if (this.atEnd() || this.peek() === ')' || this.keywordAt('OR')) break;
      if (this.keywordAt('AND')) {
        this.pos += 3;
        this.skipSpace();
        this.requireOperand(`${what} after AND`);
      }
      children.push(operand());
    }
    return makeAnd(children);
  }

  // unary = ( "-" | "NOT" ) unary | primary
  private parseUnary(): QueryNode {
    const start = this.pos;
    if (this.peek() === '-') {
      this.pos++;
      if (this.atEnd() || isSpace(this.text.charCodeAt(this.pos))) throw this.expected(this.pos, 'a term right after "-"');
      return this.negation(start, () => this.parseUnary());
    }
    if (this.keywordAt('NOT')) {
      this.pos += 3;
      this.skipSpace();
      this.requireOperand('a term after NOT');
      return this.negation(start, () => this.parseUnary());
    }
    return this.parsePrimary();
  }

  // primary = "(" or ")" | "@metrics." name ":" values | key ":" values
  private parsePrimary(): QueryNode {
    const start = this.pos;
    const c = this.peek();
    if (c === '(') {
      this.enterNesting(start);
      this.pos++;
      this.skipSpace();
      const node = this.parseOr();
      this.closeParenthesis(start);
      return node;
    }
    if (c === '@') return this.parseMetricTerm();
    if (c === '"') {
      throw this.error(
        start,
        `expected key:value ${this.at(start)}, found a quoted value; free-text search is not supported, write key:"value"`,
      );
    }
    if (c === ':') throw this.error(start, `missing key before ":" ${this.at(start)}; write key:value`);
    if (this.atEnd() || c === ')') throw this.expected(start, 'a term');

    const key = this.readKeyRun();
    if (key !== '' && this.peek() === ':') {
      this.pos++;
      return this.parseKeyTerm(key);
    }
    // Not a term: say why as precisely as we can.
    const end = this.tokenEnd(start);
    if (this.text.slice(this.pos, end).includes(':')) {
      throw this.error(
        this.pos,
        `invalid character ${JSON.stringify(String.fromCodePoint(this.text.codePointAt(this.pos)!))} in key ${this.at(this.pos)}; keys are made of letters, digits and _ . - /`,
      );
    }
    const word = this.text.slice(start, end);
    if (word === 'AND' || word === 'OR' || word === 'NOT') throw this.expected(start, 'a term');
    if (word === 'and' || word === 'or' || word === 'not') {
      throw this.error(
        start,
        `expected key:value ${this.at(start)}, found "${word}"; operators are written in capitals (${word.toUpperCase()})`,
      );
    }
    throw this.error(
      start,
      `expected key:value ${this.at(start)}, found ${this.describe(start)}; free-text search is not supported, write a tag such as service:${isKey(word) ? word : 'name'}`,
    );
  }

  /** After `key:`: a tag term, or an id term for `profile-id`. */
  private parseKeyTerm(key: string): QueryNode {
    if (key === PROFILE_ID_KEY) return this.parseValues(key, () => ({ kind: 'id', value: this.parseValuePattern(key) }));
    return this.parseValues(key, () => ({ kind: 'tag', key, value: this.parseValuePattern(key) }));
  }

  /** After `@`: only `@metrics.<name>:` exists. */
  private parseMetricTerm(): QueryNode {
    const start = this.pos;
    this.pos++;
    const name = this.readKeyRun();
    if (name === '') throw this.expected(this.pos, 'an attribute name after "@"');
    const attribute = `@${name}`;
    if (!name.startsWith(METRICS_PREFIX)) {
      throw this.error(start, `unknown attribute "${attribute}" ${this.at(start)}; the only attributes are @metrics.<name>`);
    }
    const metric = name.slice(METRICS_PREFIX.length);
    if (metric === '') throw this.expected(this.pos, 'a metric name after "@metrics."');
    if (this.peek() !== ':') throw this.expected(this.pos, `":" after "${attribute}"`);
    this.pos++;
    return this.parseValues(attribute, () => ({ kind: 'metric', name: metric, test: this.parseMetricTest() }));
  }

  // values = leaf | "(" group-or ")"
  private parseValues(label: string, leaf: LeafParser): QueryNode {
    const c = this.peek();
    if (c === '(') return this.parseValueGroup(label, leaf);
    if (this.atEnd() || c === ')' || isSpace(this.text.charCodeAt(this.pos))) {
      let hint = '';
      if (!this.atEnd() && c !== ')') {
        const next = this.skipSpaceFrom(this.pos);
        if (next < this.text.length && this.text[next] !== ')') hint = `; write ${label}:value with no space after ":"`;
      }
      throw this.error(this.pos, `empty value for "${label}" ${this.at(this.pos)}${hint}`);
    }
    return leaf();
  }

  private parseValueGroup(label: string, leaf: LeafParser): QueryNode {
    const open = this.pos;
    this.enterNesting(open);
    this.pos++;
    this.skipSpace();
    const node = this.parseGroupOr(label, leaf);
    this.closeParenthesis(open);
    return node;
  }

  // group-or = group-and { "OR" group-and }
  private parseGroupOr(label: string, leaf: LeafParser): QueryNode {
    return this.parseOrOf(() => this.parseGroupAnd(label, leaf), `a value for "${label}"`);
  }

  // group-and = group-unary { [ "AND" ] group-unary }
  private parseGroupAnd(label: string, leaf: LeafParser): QueryNode {
    return this.parseAndOf(() => this.parseGroupUnary(label, leaf), `a value for "${label}"`);
  }

  // group-unary = "NOT" group-unary | "(" group-or ")" | leaf
  private parseGroupUnary(label: string, leaf: LeafParser): QueryNode {
    const start = this.pos;
    if (this.keywordAt('NOT')) {
      this.pos += 3;
      this.skipSpace();
      this.requireOperand(`a value for "${label}" after NOT`);
      return this.negation(start, () => this.parseGroupUnary(label, leaf));
    }
    if (this.peek() === '(') return this.parseValueGroup(label, leaf);
    if (this.atEnd() || this.peek() === ')') throw this.expected(start, `a value for "${label}"`);
    if (this.keywordAt('AND') || this.keywordAt('OR')) {
      throw this.expected(
        start,
        `a value for "${label}"`,
        `; quote it ("${this.text.slice(start, this.tokenEnd(start))}") to search for the word`,
      );
    }
    return leaf();
  }

  // metric-test = [ ">" | ">=" | "<" | "<=" ] number | "[" number "TO" number "]"
  private parseMetricTest(): MetricTest {
    if (this.peek() === '[') return this.parseRange();
    let op: ComparisonOperator = '=';
    for (const candidate of ['>=', '<=', '>', '<'] as const) {
      if (this.text.startsWith(candidate, this.pos)) {
        op = candidate;
        this.pos += candidate.length;
        break;
      }
    }
    const value = this.parseNumber(op === '=' ? 'a number' : `a number after "${op}"`, false);
    this.requireValueEnd();
    return { kind: 'compare', op, value };
  }

  private parseRange(): MetricTest {
    const open = this.pos;
    this.pos++;
    this.skipSpace();
    const min = this.parseNumber('a number after "["', true);
    const beforeTo = this.pos;
    this.skipSpace();
    const afterTo = this.text[this.pos + 2];
    if (
      this.pos === beforeTo ||
      !this.text.startsWith('TO', this.pos) ||
      (afterTo !== ']' && !isSpace(this.text.charCodeAt(this.pos + 2)))
    ) {
      throw this.expected(this.pos, '" TO "', ' (ranges are written [min TO max])');
    }
    this.pos += 2;
    this.skipSpace();
    const max = this.parseNumber('a number after "TO"', true);
    this.skipSpace();
    if (this.peek() !== ']') throw this.expected(this.pos, '"]"', ` (to close "[" ${this.at(open)})`);
    this.pos++;
    if (min > max) throw this.error(open, `empty range ${this.at(open)}: the lower bound ${min} is greater than the upper bound ${max}`);
    this.requireValueEnd();
    return { kind: 'range', min, max };
  }

  private negation(start: number, parseChild: () => QueryNode): QueryNode {
    this.enterNesting(start);
    const child = parseChild();
    this.depth--;
    return { kind: 'not', child };
  }

  private enterNesting(at: number): void {
    if (++this.depth > MAX_QUERY_DEPTH) {
      throw this.error(
        at,
        `query nested too deeply ${this.at(at)}: expected at most ${MAX_QUERY_DEPTH} levels of parentheses and negations`,
      );
    }
  }

  private closeParenthesis(open: number): void {
    this.skipSpace();
    if (this.peek() !== ')') throw this.expected(this.pos, '")"', ` (to close "(" ${this.at(open)})`);
    this.pos++;
    this.depth--;
  }
}

function makeAnd(children: QueryNode[]): QueryNode {
  if (children.length === 1) return children[0];
  return { kind: 'and', children: children.flatMap((c) => (c.kind === 'and' ? c.children : [c])) };
}

function makeOr(children: QueryNode[]): QueryNode {
  if (children.length === 1) return children[0];
  return { kind: 'or', children: children.flatMap((c) => (c.kind === 'or' ? c.children : [c])) };
}
