/** A stable hash of a string (FNV-1a), for colours that stay the same across loads. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The package part of a Go function name ("net/http.(*conn).serve" → "net/http"). */
export function packageOf(name: string): string {
  const slash = name.lastIndexOf('/');
  const dot = name.indexOf('.', slash + 1);
  return dot < 0 ? name : name.slice(0, dot);
}

/** Warm flame colours, one hue per package so a package's frames read as one block. */
export function frameColor(name: string): string {
  const h = hash(packageOf(name));
  const hue = 8 + (h % 42);
  const light = 56 + ((h >>> 8) % 14);
  return `hsl(${hue}, 82%, ${light}%)`;
}

/** Colour of a frame that does not match an active search. */
export const DIMMED = '#e5e7eb';
/** Colour of a frame that matches the search. */
export const MATCHED = '#c026d3';

/**
 * Diff colour: red for growth, green for shrinkage, stronger with the relative change
 * (after - before) / max(before, after); unchanged frames are nearly white.
 */
export function diffColor(before: number, after: number): string {
  const m = Math.max(Math.abs(before), Math.abs(after));
  const r = m === 0 ? 0 : (after - before) / m;
  const strength = Math.min(1, Math.abs(r));
  const light = 94 - 46 * strength;
  return r >= 0 ? `hsl(2, 78%, ${light}%)` : `hsl(140, 55%, ${light}%)`;
}
