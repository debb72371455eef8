import { ProfileBuilder } from '../pprof/builder.js';
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
 * decodeOtlpRequest), so this fails only when the pprof form would take more memory than the
 * request's conversion budget allows (a ProfileError naming the profile).
 */
export function otlpProfileToPprof(req: OtlpRequest, index: number): ConvertedProfile {
  const d = req.dictionary;
  const p = req.profiles[index];
  req.conversionBudget.charge(pprofCost(req, index), `converting profile ${index} to pprof`);
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

  const rows = scratchOf(req);
  rows.reset();
  const ft = d.functions;
  const fn = (f: number): number => {
    if (f === 0) return -1;
    let row = rows.functions.get(f);
    if (row < 0) {
      row = b.addFunctionIndexes(
        rows.string(b, ft.name[f]),
        rows.string(b, ft.systemName[f] || ft.name[f]),
        rows.string(b, ft.filename[f]),
        ft.startLine[f],
      );
      rows.functions.set(f, row);
    }
    return row;
  };
  const mt = d.mappings;
  const mappingHasLines = new Set<number>();
  const mapping = (m: number): number => {
    if (m === 0) return -1;
    let row = rows.mappings.get(m);
    if (row < 0) {
      row = b.addMapping({ start: mt.memoryStart[m], limit: mt.memoryLimit[m], offset: mt.fileOffset[m], filename: str[mt.filename[m]] });
      rows.mappings.set(m, row);
    }
    return row;
  };
  // Straight into the builder's columns: a location is converted once per profile, and objects
  // per line would be most of the conversion's garbage.
  const lt = d.locations;
  const location = (l: number): number => {
    let row = rows.locations.get(l);
    if (row >= 0) return row;
    const m = mapping(lt.mapping[l]);
    const first = lt.lineStart[l];
    const last = lt.lineStart[l + 1];
    if (m >= 0 && last > first) mappingHasLines.add(m);
    row = b.locId.length;
    b.locId.push(row + 1);
    b.locMapping.push(m);
    b.locAddress.push(lt.address[l]);
    b.locIsFolded.push(0);
    for (let k = first; k < last; k++) {
      b.lineFunction.push(fn(lt.lineFunction[k]));
      b.lineLine.push(lt.lineLine[k]);
      b.lineColumn.push(lt.lineColumn[k]);
    }
    b.locLineStart.push(b.lineFunction.length);
    rows.locations.set(l, row);
    return row;
  };

  const s = p.samples;
  const stacks = d.stacks;
  const attrs = d.attributes;
  for (let i = 0; i < s.count; i++) {
    const st = s.stack[i];
    for (let k = stacks.locStart[st]; k < stacks.locStart[st + 1]; k++) b.sampleLocs.push(location(stacks.locs[k]));
    b.sampleLocStart.push(b.sampleLocs.length);
    const v = s.value[i];
    if (cpuNanos && periodIsCpu) {
      b.sampleValues.push(Math.round(v / p.period));
      b.sampleValues.push(v);
    } else if (cpuCounts) {
      b.sampleValues.push(v);
      b.sampleValues.push(v * p.period);
    } else {
      b.sampleValues.push(v);
    }
    // Sample attributes as labels: strings and booleans as string labels, numbers as numeric ones with their unit.
    for (let k = s.attrStart[i]; k < s.attrStart[i + 1]; k++) {
      const a = s.attrs[k];
      const value = attrs.value[a];
      if (value === null || attrs.key[a] === 0) continue;
      b.labelKey.push(rows.string(b, attrs.key[a]));
      if (typeof value === 'number') {
        b.labelStr.push(0);
        b.labelNum.push(Number.isInteger(value) ? value : Math.round(value));
        b.labelNumUnit.push(rows.string(b, attrs.unit[a]));
      } else {
        b.labelStr.push(b.string(String(value)));
        b.labelNum.push(0);
        b.labelNumUnit.push(0);
      }
    }
    b.sampleLabelStart.push(b.labelKey.length);
  }
  // The symbols travel with the profile: tell pprof tools not to look for the binaries.
  for (const m of mappingHasLines) {
    b.mapFlags.data[m] = MAPPING_HAS_FUNCTIONS | MAPPING_HAS_FILENAMES | MAPPING_HAS_LINE_NUMBERS | MAPPING_HAS_INLINE_FRAMES;
  }
  return { profile: b.finish(), isCpu: cpuNanos || cpuCounts, sampleType: `${type}/${unit}` };
}

/**
 * The bytes the pprof form of profile `index` takes while it is built and encoded, counted before
 * anything is allocated: per sample its row, value columns and label range; per stack entry a
 * location reference (pprof repeats each sample's stack); per label its four columns; twice for
 * the doubling of growing columns.
 */
function pprofCost(req: OtlpRequest, index: number): number {
  const s = req.profiles[index].samples;
  const stacks = req.dictionary.stacks;
  let refs = 0;
  for (let i = 0; i < s.count; i++) refs += stacks.locStart[s.stack[i] + 1] - stacks.locStart[s.stack[i]];
  return 2 * (s.count * (4 + 4 + 2 * 8) + refs * 4 + s.attrs.length * (4 + 4 + 8 + 4));
}

/**
 * Dictionary index -> builder row, for the conversions of one request: allocated once at the
 * dictionary's size and reset entry by entry after each profile, so converting many small
 * profiles that share a large dictionary costs what they use, not the dictionary each time.
 */
class RowMap {
  private readonly rows: Int32Array;
  private readonly touched: number[] = [];

  constructor(size: number) {
    this.rows = new Int32Array(size).fill(-1);
  }

  /** The row of dictionary entry i, or -1. */
  get(i: number): number {
    return this.rows[i];
  }

  set(i: number, row: number): void {
    this.rows[i] = row;
    this.touched.push(i);
  }

  reset(): void {
    for (const i of this.touched) this.rows[i] = -1;
    this.touched.length = 0;
  }
}

class ConversionRows {
  readonly functions: RowMap;
  readonly mappings: RowMap;
  readonly locations: RowMap;
  private readonly strings: RowMap;
  private readonly table: readonly string[];

  constructor(req: OtlpRequest) {
    const d = req.dictionary;
    this.functions = new RowMap(d.functions.count);
    this.mappings = new RowMap(d.mappings.count);
    this.locations = new RowMap(d.locations.count);
    this.strings = new RowMap(d.strings.length);
    this.table = d.strings;
  }

  /** The builder's string index of dictionary string i. */
  string(b: ProfileBuilder, i: number): number {
    if (i === 0) return 0;
    let row = this.strings.get(i);
    if (row < 0) {
      row = b.string(this.table[i]);
      this.strings.set(i, row);
    }
    return row;
  }

  reset(): void {
    this.functions.reset();
    this.mappings.reset();
    this.locations.reset();
    this.strings.reset();
  }
}

const scratch = new WeakMap<OtlpRequest, ConversionRows>();

function scratchOf(req: OtlpRequest): ConversionRows {
  let rows = scratch.get(req);
  if (rows === undefined) {
    rows = new ConversionRows(req);
    scratch.set(req, rows);
  }
  return rows;
}
