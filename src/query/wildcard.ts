import type { WildcardSegment } from './ast.js';

const ANY_CHARS = -1;
const ONE_CHAR = -2;

/**
 * Returns whether `value` as a whole matches the pattern: `anyChars` matches any run of
 * characters (possibly empty), `oneChar` exactly one character. Characters are Unicode code
 * points, as SQLite's GLOB counts them, so `?` matches `é` or an emoji. Runs in
 * O(pattern × value) at worst, whatever the pattern (no exponential backtracking).
 */
export function matchesWildcard(segments: readonly WildcardSegment[], value: string): boolean {
  const pattern = compilePattern(segments);
  const text = codePoints(value);
  let p = 0;
  let t = 0;
  // Where to resume after the last `*`: it first matches nothing and grows one character at a
  // time. Only the last star needs remembering, which is what bounds the work.
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === ONE_CHAR || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === ANY_CHARS) {
      starP = p++;
      starT = t;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === ANY_CHARS) p++;
  return p === pattern.length;
}

/** The pattern as code points, with ANY_CHARS and ONE_CHAR for the wildcards. */
function compilePattern(segments: readonly WildcardSegment[]): number[] {
  const out: number[] = [];
  for (const s of segments) {
    if (s.kind === 'anyChars') out.push(ANY_CHARS);
    else if (s.kind === 'oneChar') out.push(ONE_CHAR);
    else for (const c of codePoints(s.text)) out.push(c);
  }
  return out;
}

function codePoints(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.codePointAt(i)!;
    out.push(c);
    if (c > 0xffff) i++;
  }
  return out;
}
