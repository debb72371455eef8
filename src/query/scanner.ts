import type { ValuePattern, WildcardSegment } from './ast.js';
import { QuerySyntaxError } from './errors.js';

/**
 * The lexical half of the query parser: a position in the query text, the tokens whose extent
 * it decides (keys, bare and quoted values, numbers, operator words, whitespace), and the
 * errors that point at a column. Which characters form a token depends on where it is (a key
 * ends at ":", a value may contain ":"), so the grammar (parse.ts) calls these readers as it
 * goes instead of consuming a separate token stream.
 */
export class QueryScanner {
  protected pos = 0;

  constructor(protected readonly text: string) {}

  /** A quoted (exact) or bare (wildcards allowed) value; the caller checked it is not empty. */
  protected parseValuePattern(label: string): ValuePattern {
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
  protected parseQuoted(): string {
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

  /** A decimal number such as `1`, `-0.5`, `.25`, `1e3`; not hex, not Infinity, not NaN. */
  protected parseNumber(what: string, inRange: boolean): number {
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

  /** A value ends at whitespace, ")" or the end; `"a"b` or `>1(` are mistakes, not two tokens. */
  protected requireValueEnd(): void {
    if (this.atEnd() || this.peek() === ')' || isSpace(this.text.charCodeAt(this.pos))) return;
    throw this.expected(this.pos, 'whitespace or ")" after the value');
  }

  protected requireOperand(what: string): void {
    if (this.atEnd() || this.peek() === ')') throw this.expected(this.pos, what);
  }

  /** Operators are upper-case words followed by whitespace, a parenthesis or the end. */
  protected keywordAt(word: 'AND' | 'OR' | 'NOT'): boolean {
    if (!this.text.startsWith(word, this.pos)) return false;
    const after = this.pos + word.length;
    if (after >= this.text.length) return true;
    const c = this.text.charCodeAt(after);
    return isSpace(c) || c === 0x28 || c === 0x29;
  }

  protected readKeyRun(): string {
    const start = this.pos;
    while (this.pos < this.text.length && isKeyChar(this.text.charCodeAt(this.pos))) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** End of the run of characters from `from` up to whitespace, a parenthesis or a quote. */
  protected tokenEnd(from: number): number {
    let end = from;
    while (end < this.text.length) {
      const c = this.text[end];
      if (c === '(' || c === ')' || c === '"' || isSpace(c.charCodeAt(0))) break;
      end++;
    }
    return end;
  }

  protected skipSpace(): void {
    this.pos = this.skipSpaceFrom(this.pos);
  }

  protected skipSpaceFrom(from: number): number {
    while (from < this.text.length && isSpace(this.text.charCodeAt(from))) from++;
    return from;
  }

  protected peek(): string | undefined {
    return this.text[this.pos];
  }

  protected atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  /** What is at `offset`, for "found ..." in messages. */
  protected describe(offset: number): string {
    if (offset >= this.text.length) return 'end of query';
    const c = this.text[offset];
    if (c === '"') return "'\"'";
    if (c === '(' || c === ')') return `"${c}"`;
    if (isSpace(c.charCodeAt(0))) return 'whitespace';
    let token = this.text.slice(offset, this.tokenEnd(offset));
    if (token.length > 40) token = `${token.slice(0, 40)}…`;
    return JSON.stringify(token);
  }

  protected at(offset: number): string {
    return `at column ${columnAt(this.text, offset)}`;
  }

  protected expected(offset: number, what: string, note = ''): QuerySyntaxError {
    return this.error(offset, `expected ${what} ${this.at(offset)}, found ${this.describe(offset)}${note}`);
  }

  protected error(offset: number, message: string): QuerySyntaxError {
    return new QuerySyntaxError(message, offset, columnAt(this.text, offset));
  }
}

/** The 1-based column of `offset`, counting characters (code points), not UTF-16 units. */
export function columnAt(text: string, offset: number): number {
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

export function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** `[A-Za-z0-9_.\-/]` */
function isKeyChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e || c === 0x2d || c === 0x2f
  );
}

export function isKey(s: string): boolean {
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
