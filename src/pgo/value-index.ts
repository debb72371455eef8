import type { Profile } from '../pprof/profile.js';

/**
 * Returns the index of the value column the Go compiler uses for PGO: the first sample type
 * that is samples/count or cpu/nanoseconds, or -1 when there is none.
 */
export function pgoValueIndex(p: Profile): number {
  for (let i = 0; i < p.sampleTypes.length; i += 2) {
    const type = p.strings[p.sampleTypes[i]];
    const unit = p.strings[p.sampleTypes[i + 1]];
    if ((type === 'samples' && unit === 'count') || (type === 'cpu' && unit === 'nanoseconds')) {
      return i >> 1;
    }
  }
  return -1;
}
