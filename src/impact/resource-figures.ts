import type { Profile } from '../pprof/profile.js';
import { valueIndex } from '../pprof/profile.js';

/** What the regression guard reads from one profile of heap or goroutines. */
export interface ResourceFigures {
  /** The profile's total (bytes in use, goroutines). */
  total: number;
  /**
   * Per function, the value of the samples whose stack passes through it (each sample counted
   * once per function), at most MAX_FUNCTIONS functions, the heaviest.
   */
  byFunction: Map<string, number>;
  /** Functions that appear inlined into a caller somewhere in the profile's stacks. */
  inlined: Set<string>;
}

/** Most functions kept per profile: the heaviest, so a growth worth naming is among them. */
export const MAX_FUNCTIONS = 500;

/**
 * The total of one value column of `p` (e.g. inuse_space in bytes, goroutine count) and its split
 * by function; null when the profile has no such column.
 *
 * Inlined functions are read from locations with several lines: every line but the last (the
 * outermost) is a function the compiler inlined into the next, which is how a PGO build's extra
 * inlining shows in a goroutine or heap profile.
 */
export function resourceFigures(p: Profile, type: string, unit: string): ResourceFigures | null {
  const vi = valueIndex(p, type, unit);
  if (vi < 0) return null;
  const width = p.sampleTypes.length >> 1;
  const { samples: s, locations: loc, functions: fn } = p;
  const nameOf = (f: number) => (f < 0 ? '' : p.strings[fn.name[f]]);
  const perFunction = new Float64Array(fn.count);
  const seen = new Int32Array(fn.count).fill(-1);
  const inlined = new Set<string>();
  let total = 0;
  for (let l = 0; l < loc.count; l++) {
    for (let k = loc.lineStart[l]; k + 1 < loc.lineStart[l + 1]; k++) {
      const name = nameOf(loc.lineFunction[k]);
      if (name !== '') inlined.add(name);
    }
  }
  for (let i = 0; i < s.count; i++) {
    const v = s.values[i * width + vi];
    total += v;
    for (let j = s.locStart[i]; j < s.locStart[i + 1]; j++) {
      const l = s.locs[j];
      for (let k = loc.lineStart[l]; k < loc.lineStart[l + 1]; k++) {
        const f = loc.lineFunction[k];
        if (f < 0 || seen[f] === i) continue;
        seen[f] = i;
        perFunction[f] += v;
      }
    }
  }
  const byName = new Map<string, number>();
  for (let f = 0; f < fn.count; f++) {
    if (perFunction[f] === 0) continue;
    const name = nameOf(f);
    byName.set(name, (byName.get(name) ?? 0) + perFunction[f]);
  }
  const byFunction = new Map([...byName.entries()].sort((a, b) => b[1] - a[1]).slice(0, MAX_FUNCTIONS));
  return { total, byFunction, inlined };
}
