/** A stable hash of a string (FNV-1a), for colours that stay the same across loads. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The package part of a Go function name ("net/http.(*conn).serve" → "net/http"); type
 * arguments are not part of it ("slices.SortFunc[go.shape.[]encoding/json.x]" → "slices").
 */
export function packageOf(name: string): string {
  const bracket = name.indexOf('[');
  const plain = bracket < 0 ? name : name.slice(0, bracket);
  const slash = plain.lastIndexOf('/');
  const dot = plain.indexOf('.', slash + 1);
  return dot < 0 ? plain : plain.slice(0, dot);
}

/** Where a Go function comes from, for colouring: the runtime, the standard library, the service's own module, a dependency, or none of these (C code, "[unknown]"). */
export type PackageClass = 'runtime' | 'std' | 'own' | 'dependency' | 'other';

/**
 * The class of function `name` given the program's own module (the API's `mainModule`, null
 * when unknown: then only `main.` functions are its own). The runtime is `runtime` and its
 * internal packages; the standard library is every other package whose path has no dot in its
 * first element; names without a package (C functions, "[unknown]") are "other".
 */
export function packageClass(name: string, mainModule: string | null): PackageClass {
  const pkg = packageOf(name);
  if (pkg === '' || (pkg === name && !name.includes('.'))) return 'other';
  if (pkg === 'runtime' || pkg.startsWith('runtime/') || pkg.startsWith('internal/runtime/')) return 'runtime';
  if (pkg === 'main' || (mainModule !== null && (pkg === mainModule || pkg.startsWith(`${mainModule}/`)))) return 'own';
  const first = pkg.split('/', 1)[0];
  return first.includes('.') ? 'dependency' : 'std';
}

/**
 * One hue family per class, chosen apart for the common colour-vision deficiencies (blue, orange,
 * bluish green, purple, grey as in Okabe–Ito), light enough for dark labels; within a family each
 * package gets its own lightness, so neighbouring packages still differ.
 */
export const CLASS_COLORS: Record<PackageClass, { hue: number; saturation: number; label: string; swatch: string }> = {
  own: { hue: 30, saturation: 95, label: 'own module', swatch: 'hsl(30, 95%, 62%)' },
  dependency: { hue: 285, saturation: 55, label: 'dependencies', swatch: 'hsl(285, 55%, 72%)' },
  std: { hue: 165, saturation: 55, label: 'standard library', swatch: 'hsl(165, 55%, 62%)' },
  runtime: { hue: 208, saturation: 70, label: 'Go runtime', swatch: 'hsl(208, 70%, 70%)' },
  other: { hue: 0, saturation: 0, label: 'other (C, unknown)', swatch: 'hsl(0, 0%, 72%)' },
};

/** A frame's colour by its package class (see packageClass), one lightness step per package. */
export function classColor(name: string, mainModule: string | null): string {
  const c = CLASS_COLORS[packageClass(name, mainModule)];
  const light = 58 + (hash(packageOf(name)) % 6) * 3;
  return `hsl(${c.hue}, ${c.saturation}%, ${light}%)`;
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
