import type { Profile } from './profile.js';
import { internString } from './string-index.js';

export interface RenameResult {
  profile: Profile;
  /** Original names of the functions that were renamed, sorted. */
  renamed: string[];
}

/**
 * Returns a copy of `p` in which every function that is the leaf frame (first line of the
 * first location) of at least one sample, and whose name is in `names`, is renamed to
 * `prefix + name`. The function row itself is renamed, so every frame that refers to it
 * changes too (as DataDog/datadog-pgo does); sample values are untouched, so totals and the
 * compiler's hot-call-site CDF keep their shape. `p` is not modified.
 */
export function renameLeafFunctions(p: Profile, names: ReadonlySet<string>, prefix: string): RenameResult {
  const fns = p.functions;
  const matches = new Uint8Array(fns.count);
  let any = false;
  for (let f = 0; f < fns.count; f++) {
    if (names.has(p.strings[fns.name[f]])) {
      matches[f] = 1;
      any = true;
    }
  }
  if (!any) return { profile: p, renamed: [] };

  const rename = new Uint8Array(fns.count);
  const s = p.samples;
  const locs = p.locations;
  for (let i = 0; i < s.count; i++) {
    if (s.locStart[i + 1] === s.locStart[i]) continue;
    const leaf = s.locs[s.locStart[i]];
    if (locs.lineStart[leaf + 1] === locs.lineStart[leaf]) continue;
    const f = locs.lineFunction[locs.lineStart[leaf]];
    if (f >= 0 && matches[f]) rename[f] = 1;
  }

  const strings = p.strings.slice();
  const name = fns.name.slice();
  const index = new Map<string, number>();
  const renamed = new Set<string>();
  for (let f = 0; f < fns.count; f++) {
    if (!rename[f]) continue;
    const original = p.strings[fns.name[f]];
    name[f] = internString(strings, index, prefix + original);
    renamed.add(original);
  }
  return { profile: { ...p, strings, functions: { ...fns, name } }, renamed: [...renamed].sort() };
}
