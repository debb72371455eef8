/**
 * Datadog's profile search syntax is ours (see README.md) but for two habits of its users that
 * our tags do not share:
 * - `language:go`: Datadog tags profiles with the language; Hotpath tags them `runtime:go` (as
 *   dd-trace-go and pyroscope-go do), so `language:` is read as `runtime:`;
 * - a lone `*` term matches every profile in Datadog; ours has no free text, so it is dropped
 *   (an empty query matches every profile).
 * Everything else passes unchanged, so anything we cannot honour (free-text words, `@` facets
 * other than `@metrics.`) is refused by the parser with the column, as for any query. Runs in
 * time linear in the length of `text`.
 */
export function fromDatadogQuery(text: string): string {
  let out = '';
  let i = 0;
  /** Depth of `key:( … )` value groups: their contents are values, never keys. */
  let valueDepth = 0;
  /** Depth of plain grouping parentheses, so a `)` closes the right kind. */
  const groups: Array<'value' | 'plain'> = [];
  /** True after unescaped whitespace or "(" (and at the start): the next character may begin a term. */
  let boundary = true;
  while (i < text.length) {
    const c = text[i];
    const atTermStart = valueDepth === 0 && boundary;
    if (c === '"') {
      // A quoted value: copied as is up to its unescaped closing quote.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      boundary = false;
      continue;
    }
    if (c === '\\') {
      out += text.slice(i, i + 2);
      i += 2;
      boundary = false;
      continue;
    }
    if (atTermStart) {
      // Looked up in place (no copies), so the walk stays linear in the query's length.
      const negation = c === '-' ? '-' : '';
      const at = i + negation.length;
      if (text.startsWith('language:', at)) {
        out += `${negation}runtime:`;
        i = at + 'language:'.length;
        boundary = false;
        continue;
      }
      if (negation === '' && c === '*' && (i + 1 === text.length || /[\s)]/.test(text[i + 1]))) {
        i += 1;
        continue;
      }
    }
    if (c === '(') {
      const kind = text[i - 1] === ':' || valueDepth > 0 ? 'value' : 'plain';
      groups.push(kind);
      if (kind === 'value') valueDepth++;
    } else if (c === ')') {
      if (groups.pop() === 'value') valueDepth--;
    }
    out += c;
    i++;
    boundary = /[\s(]/.test(c);
  }
  return out;
}
