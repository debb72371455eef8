import { type Profile, valueIndex } from './profile.js';
import { internString } from './string-index.js';

export interface FunctionTotal {
  name: string;
  flat: number;
  cum: number;
}

export interface ProfileStats {
  sampleTypes: string[];
  /** Sum of each value column, in sample-type order. */
  totals: number[];
  durationNanos: number;
  /** RFC 3339 start time, or null when the profile has none. */
  start: string | null;
  /** Number of sample records. */
  sampleRecords: number;
  /** Sum of samples/count when present, otherwise the number of sample records. */
  sampleCount: number;
  /** CPU cores used: sum of cpu/nanoseconds divided by the duration; null without either. */
  cpuCores: number | null;
  locations: number;
  functions: number;
  mappings: number;
  /** The value column the function totals are in. */
  topValueType: string;
  /** Functions by flat value, descending (ties by name). */
  topFlat: FunctionTotal[];
  /** Functions by cumulative value, descending (ties by name). */
  topCum: FunctionTotal[];
}

/**
 * Returns the summary of a profile: totals, duration, CPU cores used and the top `top`
 * functions by flat and by cumulative value. Function totals use cpu/nanoseconds when the
 * profile has it, else the first sample type (or `valueType` when given); flat counts the leaf
 * frame (innermost inlined line of the first location), cumulative counts each function once
 * per sample however often it recurses, as `go tool pprof -top` does.
 */
export function profileStats(p: Profile, top = 10, valueType?: string): ProfileStats {
  const V = p.sampleTypes.length >> 1;
  const sampleTypes: string[] = [];
  for (let i = 0; i < V; i++) sampleTypes.push(`${p.strings[p.sampleTypes[2 * i]]}/${p.strings[p.sampleTypes[2 * i + 1]]}`);
  const totals = new Array<number>(V).fill(0);
  const values = p.samples.values;
  for (let i = 0; i < p.samples.count; i++) for (let j = 0; j < V; j++) totals[j] += values[i * V + j];

  const durationNanos = Number(p.durationNanos);
  const cpuIndex = valueIndex(p, 'cpu', 'nanoseconds');
  const countIndex = valueIndex(p, 'samples', 'count');
  let vi = Math.max(cpuIndex, 0);
  if (valueType !== undefined) vi = sampleTypes.indexOf(valueType);
  // top = 0 (ingest) needs only the totals: skip the per-function pass.
  const { flat, cum } = top > 0 && vi >= 0 && V > 0 ? functionTotals(p, vi) : { flat: [], cum: [] };

  return {
    sampleTypes,
    totals,
    durationNanos,
    start: p.timeNanos > 0n ? new Date(Number(p.timeNanos / 1000000n)).toISOString() : null,
    sampleRecords: p.samples.count,
    sampleCount: countIndex >= 0 ? totals[countIndex] : p.samples.count,
    cpuCores: cpuIndex >= 0 && durationNanos > 0 ? totals[cpuIndex] / durationNanos : null,
    locations: p.locations.count,
    functions: p.functions.count,
    mappings: p.mappings.count,
    topValueType: vi >= 0 ? (sampleTypes[vi] ?? '') : '',
    topFlat: flat.slice(0, top),
    topCum: cum.slice(0, top),
  };
}

/**
 * Returns flat and cumulative totals of value column `vi` for every function name, each list
 * sorted descending (ties by name). Functions with the same name are one entry.
 */
export function functionTotals(p: Profile, vi: number): { flat: FunctionTotal[]; cum: FunctionTotal[] } {
  const fns = p.functions;
  const locs = p.locations;
  const s = p.samples;
  const V = p.sampleTypes.length >> 1;
  // Function rows → dense name ids, so totals are arrays and not maps.
  const nameIds = new Map<string, number>();
  const names: string[] = [];
  const nameOf = new Int32Array(fns.count);
  for (let f = 0; f < fns.count; f++) {
    nameOf[f] = internString(names, nameIds, p.strings[fns.name[f]]);
  }
  const flat = new Float64Array(names.length);
  const cum = new Float64Array(names.length);
  const lastSample = new Int32Array(names.length).fill(-1);
  for (let i = 0; i < s.count; i++) {
    const w = s.values[i * V + vi];
    if (w === 0) continue;
    let leafDone = false;
    for (let j = s.locStart[i]; j < s.locStart[i + 1]; j++) {
      const loc = s.locs[j];
      for (let l = locs.lineStart[loc]; l < locs.lineStart[loc + 1]; l++) {
        const f = locs.lineFunction[l];
        if (f < 0) continue;
        const id = nameOf[f];
        if (!leafDone) {
          flat[id] += w;
          leafDone = true;
        }
        if (lastSample[id] !== i) {
          lastSample[id] = i;
          cum[id] += w;
        }
      }
    }
  }
  const all: FunctionTotal[] = [];
  for (let id = 0; id < names.length; id++) {
    if (flat[id] !== 0 || cum[id] !== 0) all.push({ name: names[id], flat: flat[id], cum: cum[id] });
  }
  const byName = (a: FunctionTotal, b: FunctionTotal): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const byFlat = [...all].sort((a, b) => b.flat - a.flat || byName(a, b));
  const byCum = all.sort((a, b) => b.cum - a.cum || byName(a, b));
  return { flat: byFlat, cum: byCum };
}
