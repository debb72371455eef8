import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';

/** Most problems listed in one error: enough to fix a file in one pass, bounded for a hostile one. */
const MAX_PROBLEMS = 20;

/** A YAML or JSON file that cannot be used, with every problem found as `file:line:column: field: what is wrong`. */
export class ConfigFileError extends Error {
  override readonly name = 'ConfigFileError';
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(problems.length === 1 ? problems[0] : `${file}: ${problems.length} problems:\n  ${problems.join('\n  ')}`);
  }
}

/** Deepest nesting read: a config or target file needs a handful of levels. */
const MAX_DEPTH = 32;
/** Widest indentation read, in columns. */
const MAX_INDENT = 256;

/**
 * Returns where and why `text` nests deeper than any config needs, or null. Checked before the
 * YAML parser sees the text: it recurses per level, and a file of 100,000 "[" exhausts its stack
 * or the process's memory. Flow brackets outside quotes count one level each; a block line counts
 * its indentation and its leading "- " markers.
 */
export function nestingProblem(text: string): { line: number; col: number; message: string } | null {
  let depth = 0;
  let quote: string | null = null;
  let line = 1;
  let lineStart = 0;
  let atLineStart = true;
  let dashes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      line++;
      lineStart = i + 1;
      atLineStart = true;
      dashes = 0;
      if (quote === "'") quote = null;
      continue;
    }
    if (atLineStart) {
      if (c === ' ') {
        if (i - lineStart >= MAX_INDENT) return { line, col: i - lineStart + 1, message: `is indented more than ${MAX_INDENT} columns` };
        continue;
      }
      if (c === '-' && (text[i + 1] === ' ' || text[i + 1] === '\n')) {
        if (++dashes > MAX_DEPTH) return { line, col: i - lineStart + 1, message: `nests lists more than ${MAX_DEPTH} deep` };
        i++;
        continue;
      }
      atLineStart = false;
    }
    if (quote !== null) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"') i++;
      continue;
    }
    if (c === '#' && (i === lineStart || text[i - 1] === ' ' || text[i - 1] === '\t')) {
      const end = text.indexOf('\n', i);
      i = (end < 0 ? text.length : end) - 1;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') {
      if (++depth > MAX_DEPTH) return { line, col: i - lineStart + 1, message: `nests [ and { more than ${MAX_DEPTH} deep` };
    } else if (c === ']' || c === '}') depth = Math.max(0, depth - 1);
  }
  return null;
}

/** Returns the edit distance of two short strings (for "did you mean"). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/** Returns `text` JSON-quoted and cut to 80 characters, to name a value in a message without echoing all of it. */
export function quote(text: string): string {
  return text.length <= 80 ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, 80))}…`;
}

/**
 * Reads a parsed YAML document field by field, collecting problems with their line and column
 * instead of stopping at the first. Every scalar is read from its source text (the document is
 * parsed with the failsafe schema), so `version: 1.10` stays "1.10" and nothing is guessed.
 * Aliases are refused: a config has no use for them and they are how a small file expands into a
 * huge one.
 */
export class YamlReader {
  private readonly problems: string[] = [];
  /** Keys written without a value (`scrape_interval:`): fields() hands them out in place of the value, so problems point at the key. */
  private readonly keyNodes = new WeakSet<Node>();
  private constructor(
    readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  /** Parses `text`; syntax errors are recorded (see finish) and the root is null when there is nothing to read. */
  static parse(text: string, file: string): { reader: YamlReader; root: Node | null } {
    const lines = new LineCounter();
    const reader = new YamlReader(file, lines);
    const tooDeep = nestingProblem(text);
    if (tooDeep !== null) {
      reader.record(`${file}:${tooDeep.line}:${tooDeep.col}: ${tooDeep.message}; no config needs that`);
      return { reader, root: null };
    }
    const doc = parseDocument(text, { lineCounter: lines, schema: 'failsafe', uniqueKeys: true, prettyErrors: false });
    for (const err of doc.errors) {
      const { line, col } = lines.linePos(err.pos[0]);
      reader.record(`${file}:${line}:${col}: ${err.message.split('\n')[0]}`);
    }
    return { reader, root: doc.errors.length > 0 ? null : ((doc.contents as Node | null) ?? null) };
  }

  private record(problem: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(problem);
    else if (this.problems.length === MAX_PROBLEMS) this.problems.push('(more problems not shown)');
  }

  /** `file:line:column` of a node (its key's position when the node is a missing value). */
  where(node: Node | null | undefined): string {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = this.lines.linePos(offset);
    return `${this.file}:${line}:${col}`;
  }

  /** Records a problem at `node`, naming the field `path`. */
  fail(node: Node | null | undefined, path: string, message: string): void {
    this.record(`${this.where(node)}: ${path}: ${message}`);
  }

  /** True when something was recorded. */
  get failed(): boolean {
    return this.problems.length > 0;
  }

  /** Throws ConfigFileError listing every problem recorded, if any. */
  finish(): void {
    if (this.problems.length > 0) throw new ConfigFileError(this.file, this.problems);
  }

  /** True for a missing value: no node, or a plain empty, `~` or `null` scalar. */
  isNull(node: Node | null | undefined): node is null | undefined {
    if (node === null || node === undefined || this.keyNodes.has(node)) return true;
    if (!isScalar(node) || node.type !== 'PLAIN') return false;
    return node.value === '' || node.value === '~' || /^(null|Null|NULL)$/.test(String(node.value));
  }

  private refuseAlias(node: Node, path: string): boolean {
    if (!isAlias(node)) return false;
    this.fail(node, path, 'YAML aliases (*name) are not supported here: write the value out');
    return true;
  }

  /**
   * Returns the fields of a mapping by name, recording every key not in `known` (with the
   * closest known key as a suggestion): a typo must never silently do nothing. Null when the
   * node is not a mapping.
   */
  fields<K extends string>(node: Node | null | undefined, path: string, known: readonly K[], hint = ''): Partial<Record<K, Node>> | null {
    if (this.isNull(node)) return {};
    if (this.refuseAlias(node, path)) return null;
    if (!isMap(node)) {
      this.fail(node, path, `must be a mapping of ${known.join(', ')}`);
      return null;
    }
    const out: Partial<Record<K, Node>> = {};
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : null;
      if (key === null) {
        this.fail(keyNode, path, 'keys must be plain names');
        continue;
      }
      if (!(known as readonly string[]).includes(key)) {
        const near = known.map((k) => [k, editDistance(k, key)] as const).sort((a, b) => a[1] - b[1])[0];
        const suggestion = near && near[1] <= Math.max(2, Math.floor(key.length / 4)) ? ` (did you mean "${near[0]}"?)` : '';
        this.fail(
          keyNode,
          path,
          `unknown field ${quote(key)}${suggestion}${suggestion ? '' : `; the fields here are ${known.join(', ')}`}${hint}`,
        );
        continue;
      }
      // A key with no value (`scrape_interval:`) is kept as its key node, so a problem points at it.
      if (pair.value === null || pair.value === undefined) this.keyNodes.add(keyNode as Node);
      out[key as K] = (pair.value as Node | null) ?? (keyNode as Node);
    }
    return out;
  }

  /** Returns a scalar's text, or null (recording why) when the node is not a scalar; null for a missing value. */
  string(node: Node | null | undefined, path: string): string | null {
    if (this.isNull(node)) return null;
    if (this.refuseAlias(node, path)) return null;
    if (!isScalar(node)) {
      this.fail(node, path, `must be a single value, not a ${isSeq(node) ? 'list' : 'mapping'}`);
      return null;
    }
    return String(node.value);
  }

  /** Returns a list's items, recording a problem when it is not a list or has more than `max` items. */
  list(node: Node | null | undefined, path: string, max: number): Node[] | null {
    if (this.isNull(node)) return null;
    if (this.refuseAlias(node, path)) return null;
    if (!isSeq(node)) {
      this.fail(node, path, 'must be a list (one "- item" a line, or [a, b])');
      return null;
    }
    if (node.items.length > max) {
      this.fail(node, path, `has ${node.items.length} items, the limit is ${max}`);
      return null;
    }
    return node.items as Node[];
  }

  /** Returns a list of scalars as strings. */
  stringList(node: Node | null | undefined, path: string, max: number): Array<{ value: string; node: Node }> | null {
    const items = this.list(node, path, max);
    if (items === null) return null;
    const out: Array<{ value: string; node: Node }> = [];
    items.forEach((item, i) => {
      const value = this.string(item, `${path}[${i}]`);
      if (value !== null) out.push({ value, node: item });
      else if (this.isNull(item)) this.fail(item ?? node, `${path}[${i}]`, 'is empty');
    });
    return out;
  }

  /** Returns a mapping of names to scalar values (labels), with each value's node. */
  stringMap(node: Node | null | undefined, path: string, max: number): Array<{ key: string; value: string; node: Node }> | null {
    if (this.isNull(node)) return [];
    if (this.refuseAlias(node, path)) return null;
    if (!isMap(node)) {
      this.fail(node, path, 'must be a mapping of names to values ({name: value, ...})');
      return null;
    }
    if (node.items.length > max) {
      this.fail(node, path, `has ${node.items.length} entries, the limit is ${max}`);
      return null;
    }
    const out: Array<{ key: string; value: string; node: Node }> = [];
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : null;
      if (key === null) {
        this.fail(keyNode, path, 'names must be plain values');
        continue;
      }
      const valueNode = pair.value as Node | null;
      const value = this.isNull(valueNode) ? '' : this.string(valueNode, `${path}.${key}`);
      if (value !== null) out.push({ key, value, node: valueNode ?? (keyNode as Node) });
    }
    return out;
  }
}
