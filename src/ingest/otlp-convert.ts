import { type LabelSpec, type LineSpec, ProfileBuilder } from '../pprof/builder.js';
import {
  MAPPING_HAS_FILENAMES,
  MAPPING_HAS_FUNCTIONS,
  MAPPING_HAS_INLINE_FRAMES,
  MAPPING_HAS_LINE_NUMBERS,
  type Profile,
} from '../pprof/profile.js';
import type { OtlpRequest } from './otlp-request.js';

/** One OTLP profile as the pprof model, and what kind of profile it is. */
export interface ConvertedProfile {
  profile: Profile;
  /**
   * True for a CPU profile: sample type cpu/nanoseconds, or samples/count sampled with a
   * cpu/nanoseconds period (what eBPF profilers send).
   */
  isCpu: boolean;
  /** The OTLP sample type as "type/unit" ("cpu/nanoseconds"). */
  sampleType: string;
}

/**
 * Returns profile `index` of a decoded request as a pprof profile holding only the functions,
 * locations, mappings and strings its samples use. The pprof form is what a Go program's own
 * pprof says of the same samples:
 *
 * - CPU in nanoseconds with a cpu/nanoseconds period becomes samples/count (value / period,
 *   rounded) and cpu/nanoseconds, the two columns of runtime/pprof, so CPU stats, the flame graph
 *   and PGO read it as an uploaded Go CPU profile; without a period, cpu/nanoseconds alone.
 * - samples/count with a cpu/nanoseconds period becomes samples/count and cpu/nanoseconds
 *   (count x period).
 * - Anything else keeps its one sample type.
 *
 * Stacks stay leaf first and inlined lines innermost first, as in both formats; sample attributes
 * become pprof labels (strings and booleans as string labels, numbers as numeric labels with
 * their unit); trace links are dropped. The request's indexes are already checked (see
 * decodeOtlpRequest), so this cannot fail on them.
 */
export function otlpProfileToPprof(req: OtlpRequest, index: number): ConvertedProfile {
  const d = req.dictionary;
  const p = req.profiles[index];
  const str = d.strings;
  const type = str[p.sampleType.type];
  const unit = str[p.sampleType.unit];
  const periodIsCpu = str[p.periodType.type] === 'cpu' && str[p.periodType.unit] === 'nanoseconds' && p.period > 0;
  const cpuNanos = type === 'cpu' && unit === 'nanoseconds';
  const cpuCounts = type === 'samples' && unit === 'count' && periodIsCpu;

  const b = new ProfileBuilder();
  if (cpuNanos && periodIsCpu) {
    b.setSampleTypes([
      { type: 'samples', unit: 'count' },
      { type: 'cpu', unit: 'nanoseconds' },
    ]);
  } else if (cpuCounts) {
    b.setSampleTypes([
      { type: 'samples', unit: 'count' },
      { type: 'cpu', unit: 'nanoseconds' },
    ]);
  } else {
    b.setSampleTypes([{ type, unit }]);
  }
  if (p.periodType.type !== 0 || p.periodType.unit !== 0) b.setPeriodType(str[p.periodType.type], str[p.periodType.unit]);
  b.header.period = BigInt(p.period);
  b.header.timeNanos = BigInt.asIntN(64, p.timeUnixNano);
  b.header.durationNanos = BigInt.asIntN(64, p.durationNano);

  const functionRow = new Map<number, number>();
  const fn = (f: number): number => {
    if (f === 0) return -1;
    let row = functionRow.get(f);
    if (row === undefined) {
      const ft = d.functions;
      row = b.addFunction(str[ft.name[f]], str[ft.filename[f]], ft.startLine[f], str[ft.systemName[f]] || str[ft.name[f]]);
      functionRow.set(f, row);
    }
    return row;
  };
  const mappingRow = new Map<number, number>();
  const mappingHasLines = new Set<number>();
  const mapping = (m: number): number => {
    if (m === 0) return -1;
    let row = mappingRow.get(m);
    if (row === undefined) {
      const mt = d.mappings;
      row = b.addMapping({ start: mt.memoryStart[m], limit: mt.memoryLimit[m], offset: mt.fileOffset[m], filename: str[mt.filename[m]] });
      mappingRow.set(m, row);
    }
    return row;
  };
  const locationRow = new Map<number, number>();
  const location = (l: number): number => {
    let row = locationRow.get(l);
    if (row === undefined) {
      const lt = d.locations;
      const lines: LineSpec[] = [];
      for (let k = lt.lineStart[l]; k < lt.lineStart[l + 1]; k++) {
        lines.push({ fn: fn(lt.lineFunction[k]), line: lt.lineLine[k], column: lt.lineColumn[k] });
      }
      const m = mapping(lt.mapping[l]);
      if (m >= 0 && lines.length > 0) mappingHasLines.add(m);
      row = b.addLocation(lines, { mapping: m, address: lt.address[l] });
      locationRow.set(l, row);
    }
    return row;
  };

  const s = p.samples;
  const stacks = d.stacks;
  const locs: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < s.count; i++) {
    locs.length = 0;
    const st = s.stack[i];
    for (let k = stacks.locStart[st]; k < stacks.locStart[st + 1]; k++) locs.push(location(stacks.locs[k]));
    const v = s.value[i];
    values.length = 0;
    if (cpuNanos && periodIsCpu) values.push(Math.round(v / p.period), v);
    else if (cpuCounts) values.push(v, v * p.period);
    else values.push(v);
    b.addSample(locs, values, sampleLabels(req, i, index));
  }
  // The symbols travel with the profile: tell pprof tools not to look for the binaries.
  for (const m of mappingHasLines) {
    b.mapFlags.data[m] = MAPPING_HAS_FUNCTIONS | MAPPING_HAS_FILENAMES | MAPPING_HAS_LINE_NUMBERS | MAPPING_HAS_INLINE_FRAMES;
  }
  return { profile: b.finish(), isCpu: cpuNanos || cpuCounts, sampleType: `${type}/${unit}` };
}

function sampleLabels(req: OtlpRequest, sample: number, index: number): LabelSpec[] {
  const s = req.profiles[index].samples;
  const a = req.dictionary.attributes;
  const str = req.dictionary.strings;
  const labels: LabelSpec[] = [];
  for (let k = s.attrStart[sample]; k < s.attrStart[sample + 1]; k++) {
    const row = s.attrs[k];
    const value = a.value[row];
    const key = str[a.key[row]];
    if (value === null || key === '') continue;
    if (typeof value === 'number')
      labels.push({ key, num: Number.isInteger(value) ? value : Math.round(value), numUnit: str[a.unit[row]] });
    else labels.push({ key, str: String(value) });
  }
  return labels;
}
