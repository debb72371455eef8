import type { DecodeBudget } from './budget.js';
import { ProfileError } from './errors.js';

// What decoding a profile allocates, for the budget (budget.ts): bytes per row of each
// decoded table (see profile.ts), the up-front charge of every table, and the rules by
// which the buffers that grow while decoding (lines, stacks, labels) are regrown and trimmed.

/** A [start, end) byte range per record, while the records are located. */
const RANGE_BYTES = 8;
const MAPPING_BYTES = 8 + 3 * 8 + 4 + 4 + 1;
const FUNCTION_BYTES = 8 + 3 * 4 + 8;
const LOCATION_BYTES = 8 + 4 + 8 + 1 + 4;
/** Bytes per location line (function, line, column). */
export const LINE_BYTES = 4 + 8 + 8;
/** Bytes per sample label (key, str, num, num_unit). */
export const SAMPLE_LABEL_BYTES = 4 + 4 + 8 + 4;
const SAMPLE_BYTES = 4 + 4;
/** A string's slot in the string array, room for its regrowing included. */
const STRING_SLOT_BYTES = 16;
/** A V8 string's header and alignment; its characters take at most 2 bytes per UTF-8 byte. */
const STRING_HEADER_BYTES = 24;

/** The lines the location table is first allocated (and charged) for: Go writes 1 to 1.2 per location. */
export function initialLineCapacity(locations: number): number {
  return locations + (locations >> 3) + 16;
}

/**
 * Charges every table of a profile to `budget` before any is allocated, from the records
 * counted per top-level field (2: sample, 3: mapping, 4: location, 5: function, 6:
 * string_table): `count` records, `payload` bytes in all, `empty` of them empty. Throws
 * ProfileError when they do not fit, or when the samples cannot hold one byte per value.
 */
export function chargeDecodedTables(
  count: Float64Array,
  payload: Float64Array,
  empty: Float64Array,
  valuesPerSample: number,
  budget: DecodeBudget,
): void {
  const nSamples = count[2];
  // Every value takes a byte at least: refuse before allocating nSamples x valuesPerSample values.
  if (nSamples * valuesPerSample > payload[2]) {
    throw new ProfileError(
      `${nSamples} samples of ${valuesPerSample} values each need ${nSamples * valuesPerSample} bytes at least, but the samples hold ${payload[2]} bytes: not a plausible profile`,
    );
  }
  budget.chargeTables([
    {
      what: `${count[6]} string_table entries`,
      bytes: count[6] * (RANGE_BYTES + STRING_SLOT_BYTES) + (count[6] - empty[6]) * STRING_HEADER_BYTES + 2 * payload[6],
    },
    { what: `${count[3]} mapping records`, bytes: count[3] * (RANGE_BYTES + MAPPING_BYTES) },
    { what: `${count[5]} function records`, bytes: count[5] * (RANGE_BYTES + FUNCTION_BYTES) },
    {
      what: `${count[4]} location records`,
      bytes: count[4] * (RANGE_BYTES + LOCATION_BYTES) + initialLineCapacity(count[4]) * LINE_BYTES + 4,
    },
    { what: `${nSamples} samples`, bytes: nSamples * (RANGE_BYTES + SAMPLE_BYTES + 8 * valuesPerSample) + 8 },
  ]);
}

/**
 * True when a buffer of `capacity` elements holding `length` wastes enough (a quarter) to be
 * copied to its exact size: a projection (projectedCapacity) overshoots by less, as a rule.
 */
export function wasteful(capacity: number, length: number): boolean {
  return capacity - length > (length >> 2) + 64;
}

export function resizedInt32(a: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(capacity);
  b.set(a.subarray(0, Math.min(a.length, capacity)));
  return b;
}

export function resizedFloat64(a: Float64Array, capacity: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(capacity);
  b.set(a.subarray(0, Math.min(a.length, capacity)));
  return b;
}

export function resizedUint32(a: Uint32Array, capacity: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(capacity);
  b.set(a.subarray(0, Math.min(a.length, capacity)));
  return b;
}
