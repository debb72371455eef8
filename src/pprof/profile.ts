/**
 * The in-memory profile model: google/pprof's profile.proto laid out as columns.
 *
 * Every table is a set of parallel typed arrays indexed by a dense row number, and every
 * reference between tables (sample → location, line → function, location → mapping) is a
 * row number, not a proto id. The proto ids are kept in their own column so that encoding
 * writes them back unchanged. Strings stay as string-table indexes, exactly as on the wire,
 * so decode and encode never rebuild strings they do not need to.
 *
 * Numeric ranges: ids, sample values, label numbers, line numbers and start lines are held
 * as float64 and must lie within ±2^53 (the decoder rejects anything else rather than round
 * it); addresses, mapping bounds and file offsets are full uint64 (BigUint64Array); the
 * header's time, duration and period are full int64 (bigint).
 */
export interface Profile {
  /** string_table; strings[0] is always "". */
  strings: string[];

  /** sample_type as [type, unit] string index pairs, one pair per value column. */
  sampleTypes: Int32Array;

  samples: SampleTable;
  locations: LocationTable;
  functions: FunctionTable;
  mappings: MappingTable;

  /** drop_frames and keep_frames (string indexes, 0 when unset). */
  dropFrames: number;
  keepFrames: number;
  timeNanos: bigint;
  durationNanos: bigint;
  /** period_type as a [type, unit] string index pair. */
  periodType: Int32Array;
  period: bigint;
  /** comment (string indexes). */
  comments: Int32Array;
  defaultSampleType: number;
  docUrl: number;
}

/**
 * Samples: the stack of sample i is locs[locStart[i] .. locStart[i+1]) (leaf first, as
 * location row numbers); its values are values[i*V .. i*V+V) with V = number of sample
 * types; its labels are rows labelStart[i] .. labelStart[i+1]) of the label columns.
 */
export interface SampleTable {
  count: number;
  locStart: Uint32Array;
  locs: Uint32Array;
  values: Float64Array;
  labelStart: Uint32Array;
  labelKey: Int32Array;
  labelStr: Int32Array;
  labelNum: Float64Array;
  labelNumUnit: Int32Array;
}

/** Locations: the lines of location i are rows lineStart[i] .. lineStart[i+1]), innermost first. */
export interface LocationTable {
  count: number;
  id: Float64Array;
  /** Mapping row number, or -1 for mapping_id 0. */
  mapping: Int32Array;
  address: BigUint64Array;
  isFolded: Uint8Array;
  lineStart: Uint32Array;
  /** Function row number of each line, or -1 for function_id 0. */
  lineFunction: Int32Array;
  lineLine: Float64Array;
  lineColumn: Float64Array;
}

export interface FunctionTable {
  count: number;
  id: Float64Array;
  name: Int32Array;
  systemName: Int32Array;
  filename: Int32Array;
  startLine: Float64Array;
}

export interface MappingTable {
  count: number;
  id: Float64Array;
  memoryStart: BigUint64Array;
  memoryLimit: BigUint64Array;
  fileOffset: BigUint64Array;
  filename: Int32Array;
  buildId: Int32Array;
  /** Bit flags: see MAPPING_HAS_*. */
  flags: Uint8Array;
}

export const MAPPING_HAS_FUNCTIONS = 1;
export const MAPPING_HAS_FILENAMES = 2;
export const MAPPING_HAS_LINE_NUMBERS = 4;
export const MAPPING_HAS_INLINE_FRAMES = 8;

/** Returns the number of value columns (sample types) of a profile. */
export function valueCount(p: Profile): number {
  return p.sampleTypes.length >> 1;
}

/** Returns the [type, unit] strings of every sample type, in order. */
export function sampleTypeNames(p: Profile): Array<{ type: string; unit: string }> {
  const out: Array<{ type: string; unit: string }> = [];
  for (let i = 0; i < p.sampleTypes.length; i += 2) {
    out.push({ type: p.strings[p.sampleTypes[i]], unit: p.strings[p.sampleTypes[i + 1]] });
  }
  return out;
}

/** Returns the index of the value column with the given type and unit, or -1. */
export function valueIndex(p: Profile, type: string, unit: string): number {
  for (let i = 0; i < p.sampleTypes.length; i += 2) {
    if (p.strings[p.sampleTypes[i]] === type && p.strings[p.sampleTypes[i + 1]] === unit) {
      return i >> 1;
    }
  }
  return -1;
}

/** Returns a profile with no samples, locations, functions or mappings and an empty header. */
export function emptyProfile(): Profile {
  return {
    strings: [''],
    sampleTypes: new Int32Array(0),
    samples: {
      count: 0,
      locStart: new Uint32Array(1),
      locs: new Uint32Array(0),
      values: new Float64Array(0),
      labelStart: new Uint32Array(1),
      labelKey: new Int32Array(0),
      labelStr: new Int32Array(0),
      labelNum: new Float64Array(0),
      labelNumUnit: new Int32Array(0),
    },
    locations: {
      count: 0,
      id: new Float64Array(0),
      mapping: new Int32Array(0),
      address: new BigUint64Array(0),
      isFolded: new Uint8Array(0),
      lineStart: new Uint32Array(1),
      lineFunction: new Int32Array(0),
      lineLine: new Float64Array(0),
      lineColumn: new Float64Array(0),
    },
    functions: {
      count: 0,
      id: new Float64Array(0),
      name: new Int32Array(0),
      systemName: new Int32Array(0),
      filename: new Int32Array(0),
      startLine: new Float64Array(0),
    },
    mappings: {
      count: 0,
      id: new Float64Array(0),
      memoryStart: new BigUint64Array(0),
      memoryLimit: new BigUint64Array(0),
      fileOffset: new BigUint64Array(0),
      filename: new Int32Array(0),
      buildId: new Int32Array(0),
      flags: new Uint8Array(0),
    },
    dropFrames: 0,
    keepFrames: 0,
    timeNanos: 0n,
    durationNanos: 0n,
    periodType: new Int32Array(2),
    period: 0n,
    comments: new Int32Array(0),
    defaultSampleType: 0,
    docUrl: 0,
  };
}
