import type { Profile } from '../../src/pprof/profile.js';

/**
 * Returns the samples of `p` as a map from a readable stack key (function:line of every frame,
 * inlined frames included, plus sorted labels) to summed values. Two profiles that mean the
 * same thing give equal maps, whatever their ids, table order or string table order.
 */
export function canonicalSamples(p: Profile, withLabels = true): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const s = p.samples;
  const V = p.sampleTypes.length >> 1;
  const locs = p.locations;
  for (let i = 0; i < s.count; i++) {
    const frames: string[] = [];
    for (let j = s.locStart[i]; j < s.locStart[i + 1]; j++) {
      const loc = s.locs[j];
      for (let l = locs.lineStart[loc]; l < locs.lineStart[loc + 1]; l++) {
        const f = locs.lineFunction[l];
        const name = f < 0 ? '?' : p.strings[p.functions.name[f]];
        const start = f < 0 ? 0 : p.functions.startLine[f];
        frames.push(`${name}:${locs.lineLine[l]}(${start})`);
      }
      frames.push('|');
    }
    const labels: string[] = [];
    if (withLabels) {
      for (let l = s.labelStart[i]; l < s.labelStart[i + 1]; l++) {
        labels.push(
          s.labelStr[l] !== 0
            ? `${p.strings[s.labelKey[l]]}=${p.strings[s.labelStr[l]]}`
            : `${p.strings[s.labelKey[l]]}#${s.labelNum[l]}${p.strings[s.labelNumUnit[l]]}`,
        );
      }
      labels.sort();
    }
    const key = `${frames.join(' ')} {${labels.join(',')}}`;
    const values = out.get(key);
    if (values) for (let k = 0; k < V; k++) values[k] += s.values[i * V + k];
    else out.set(key, Array.from(s.values.subarray(i * V, i * V + V)));
  }
  return out;
}

/** Returns the sorted [key, values] entries, for assert.deepEqual with readable diffs. */
export function sortedEntries(m: Map<string, number[]>): Array<[string, number[]]> {
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
