import type { ComparisonOperator, MetricTest, QueryNode, ValuePattern, WildcardSegment } from './ast.js';
import { QuerySyntaxError } from './errors.js';

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
 * Recursive descent over the characters themselves: which characters form a token depends on
 * where it is (a key ends at ":", a value may contain ":"), so there is no separate token stream.
 */
class QueryParser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

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
    const children = [this.parseAnd()];
    for (;;) {
      this.skipSpace();
      if (!this.keywordAt('OR')) break;
      this.pos += 2;
      this.skipSpace();
      this.requireOperand('a term after OR');
      children.push(this.parseAnd());
    }
    return makeOr(children);
  }

  // and = unary { [ "AND" ] unary }
  private parseAnd(): QueryNode {
    const children = [this.parseUnary()];
    for (;;) {
      this.skipSpace();
      if (this.atEnd() || this.peek() === ')' || this.keywordAt('OR')) break;
      if (this.keywordAt('AND')) {
        this.pos += 3;
        this.skipSpace();
        this.requireOperand('a term after AND');
      }
      children.push(this.parseUnary());
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
    const children = [this.parseGroupAnd(label, leaf)];
    for (;;) {
      this.skipSpace();
      if (!this.keywordAt('OR')) break;
      this.pos += 2;
      this.skipSpace();
      this.requireOperand(`a value for "${label}" after OR`);
      children.push(this.parseGroupAnd(label, leaf));
    }
    return makeOr(children);
  }

  // group-and = group-unary { [ "AND" ] group-unary }
  private parseGroupAnd(label: string, leaf: LeafParser): QueryNode {
    const children = [this.parseGroupUnary(label, leaf)];
    for (;;) {
      this.skipSpace();
      if (this.atEnd() || this.peek() === ')' || this.keywordAt('OR')) break;
      if (this.keywordAt('AND')) {
        this.pos += 3;
        this.skipSpace();
        this.requireOperand(`a value for "${label}" after AND`);
      }
      children.push(this.parseGroupUnary(label, leaf));
    }
    return makeAnd(children);
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

  /** A quoted (exact) or bare (wildcards allowed) value; the caller checked it is not empty. */
  private parseValuePattern(label: string): ValuePattern {
    if (this.peek() === '"') {
      const value = this.parseQuoted();
      this.requireValueEnd();
      return { kind: 'exact', value };
    }
    const segments: WildcardSegment[] = [];
    let literal = '';
    let hasWildcard = false;
    const flush = (): void => {
      if (literal !== '') segments.push({ kind: 'literal', text: literal });
      literal = '';
    };
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === ')' || isSpace(c.charCodeAt(0))) break;
      if (c === '(' || c === '"') {
        throw this.error(
          this.pos,
          `unexpected ${c === '"' ? "'\"'" : '"("'} in the value of "${label}" ${this.at(this.pos)}; quote the whole value or escape the character with \\`,
        );
      }
      if (c === '\\') {
        if (this.pos + 1 >= this.text.length) throw this.expected(this.pos + 1, 'a character after "\\"');
        literal += this.text[this.pos + 1];
        this.pos += 2;
        continue;
      }
      if (c === '*') {
        flush();
        if (segments.at(-1)?.kind !== 'anyChars') segments.push({ kind: 'anyChars' });
        hasWildcard = true;
      } else if (c === '?') {
        flush();
        segments.push({ kind: 'oneChar' });
        hasWildcard = true;
      } else {
        literal += c;
      }
      this.pos++;
    }
    if (!hasWildcard) return { kind: 'exact', value: literal };
    flush();
    return { kind: 'wildcard', segments };
  }

  /** `"..."` with `\"` and `\\` as the only escapes; the result is literal text. */
  private parseQuoted(): string {
    const open = this.pos;
    this.pos++;
    let value = '';
    let from = this.pos;
    for (;;) {
      if (this.atEnd()) throw this.expected(this.pos, "'\"'", ` (to close the quote ${this.at(open)})`);
      const c = this.text[this.pos];
      if (c === '"') break;
      if (c === '\\') {
        const next = this.text[this.pos + 1];
        if (next === undefined) throw this.expected(this.pos + 1, "'\"'", ` (to close the quote ${this.at(open)})`);
        if (next !== '"' && next !== '\\') {
          throw this.error(
            this.pos,
            `unknown escape "\\${next}" in a quoted value ${this.at(this.pos)}; only \\" and \\\\ are allowed (write \\\\ for a backslash)`,
          );
        }
        value += this.text.slice(from, this.pos) + next;
        this.pos += 2;
        from = this.pos;
        continue;
      }
      this.pos++;
    }
    value += this.text.slice(from, this.pos);
    this.pos++;
    return value;
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

  /** A decimal number such as `1`, `-0.5`, `.25`, `1e3`; not hex, not Infinity, not NaN. */
  private parseNumber(what: string, inRange: boolean): number {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === '(' || c === ')' || isSpace(c.charCodeAt(0)) || (inRange && c === ']')) break;
      this.pos++;
    }
    const token = this.text.slice(start, this.pos);
    if (token === '') throw this.expected(start, what);
    if (token.startsWith('"')) throw this.expected(start, what, '; numbers are not quoted');
    if (!isDecimalNumber(token)) throw this.error(start, `${JSON.stringify(token)} is not a number ${this.at(start)}`);
    const value = Number(token);
    if (!Number.isFinite(value)) throw this.error(start, `${token} is out of range ${this.at(start)}`);
    return value;
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

  /** A value ends at whitespace, ")" or the end; `"a"b` or `>1(` are mistakes, not two tokens. */
  private requireValueEnd(): void {
    if (this.atEnd() || this.peek() === ')' || isSpace(this.text.charCodeAt(this.pos))) return;
    throw this.expected(this.pos, 'whitespace or ")" after the value');
  }

  private requireOperand(what: string): void {
    if (this.atEnd() || this.peek() === ')') throw this.expected(this.pos, what);
  }

  /** Operators are upper-case words followed by whitespace, a parenthesis or the end. */
  private keywordAt(word: 'AND' | 'OR' | 'NOT'): boolean {
    if (!this.text.startsWith(word, this.pos)) return false;
    const after = this.pos + word.length;
    if (after >= this.text.length) return true;
    const c = this.text.charCodeAt(after);
    return isSpace(c) || c === 0x28 || c === 0x29;
  }

  private readKeyRun(): string {
    const start = this.pos;
    while (this.pos < this.text.length && isKeyChar(this.text.charCodeAt(this.pos))) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** End of the run of characters from `from` up to whitespace, a parenthesis or a quote. */
  private tokenEnd(from: number): number {
    let end = from;
    while (end < this.text.length) {
      const c = this.text[end];
      if (c === '(' || c === ')' || c === '"' || isSpace(c.charCodeAt(0))) break;
      end++;
    }
    return end;
  }

  private skipSpace(): void {
    this.pos = this.skipSpaceFrom(this.pos);
  }

  private skipSpaceFrom(from: number): number {
    while (from < this.text.length && isSpace(this.text.charCodeAt(from))) from++;
    return from;
  }

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  /** What is at `offset`, for "found ..." in messages. */
  private describe(offset: number): string {
    if (offset >= this.text.length) return 'end of query';
    const c = this.text[offset];
    if (c === '"') return "'\"'";
    if (c === '(' || c === ')') return `"${c}"`;
    if (isSpace(c.charCodeAt(0))) return 'whitespace';
    let token = this.text.slice(offset, this.tokenEnd(offset));
    if (token.length > 40) token = `${token.slice(0, 40)}…`;
    return JSON.stringify(token);
  }

  private at(offset: number): string {
    return `at column ${columnAt(this.text, offset)}`;
  }

  private expected(offset: number, what: string, note = ''): QuerySyntaxError {
    return this.error(offset, `expected ${what} ${this.at(offset)}, found ${this.describe(offset)}${note}`);
  }

  private error(offset: number, message: string): QuerySyntaxError {
    return new QuerySyntaxError(message, offset, columnAt(this.text, offset));
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

/** The 1-based column of `offset`, counting characters (code points), not UTF-16 units. */
function columnAt(text: string, offset: number): number {
  let column = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A high surrogate followed by a low one is one character.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < offset) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    column++;
  }
  return column + Math.max(0, offset - text.length);
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** `[A-Za-z0-9_.\-/]` */
function isKeyChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e || c === 0x2d || c === 0x2f
  );
}

function isKey(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isKeyChar(s.charCodeAt(i))) return false;
  return s !== '';
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** `[+-]? ( digits [ "." digits ] | "." digits ) [ [eE] [+-]? digits ]`, scanned by hand. */
function isDecimalNumber(s: string): boolean {
  let i = 0;
  const n = s.length;
  if (s[i] === '+' || s[i] === '-') i++;
  const intStart = i;
  while (i < n && isDigit(s.charCodeAt(i))) i++;
  let digits = i - intStart;
  if (s[i] === '.') {
    i++;
    const fracStart = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    if (i === fracStart) return false;
    digits += i - fracStart;
  }
  if (digits === 0) return false;
  if (s[i] === 'e' || s[i] === 'E') {
    i++;
    if (s[i] === '+' || s[i] === '-') i++;
    const expStart = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    if (i === expStart) return false;
  }
  return i === n;
}
