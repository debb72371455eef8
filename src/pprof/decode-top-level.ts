import type { DecodeBudget } from './budget.js';
import { ProfileError } from './errors.js';
import { GrowableInt32 } from './growable.js';
import { expectWire, ProtoReader } from './proto-reader.js';

/** The most sample types (value columns) a profile may have; real ones have 1 to ~10. */
export const MAX_SAMPLE_TYPES = 1024;

/** [start, end) byte offsets of each message of one table, flattened. */
export type Ranges = Uint32Array;

/** What the walk of a profile's top-level fields found: the tables counted, the rest decoded. */
export class TopLevel {
  /** For fields 2 to 6 (sample, mapping, location, function, string_table): records of each. */
  readonly count = new Float64Array(7);
  /** For fields 2 to 6: the sum of the lengths of their records. */
  readonly payload = new Float64Array(7);
  /** For fields 2 to 6: how many of their records are empty. */
  readonly empty = new Float64Array(7);
  /** For fields 2 to 6, while locating (pass 2): how many range slots are filled. */
  readonly filled = new Float64Array(7);
  // The header, in field order.
  readonly sampleTypes = new GrowableInt32(8);
  dropFrames = 0;
  keepFrames = 0;
  timeNanos = 0n;
  durationNanos = 0n;
  readonly periodType = new Int32Array(2);
  period = 0n;
  readonly comments = new GrowableInt32(4);
  defaultSampleType = 0;
  docUrl = 0;
  /** Scratch for one sample_type. */
  readonly pair = new Int32Array(2);
}

/**
 * Walks the top-level fields of buf. With `ranges` null (pass 1) it counts the records of the
 * tables in `top` and decodes every other field, charging what it keeps to `budget`; with
 * `ranges` (pass 2, exact sizes from pass 1) it writes where each record is and skips the rest.
 * The loop only handles table entries, inline; every other field, and every malformed one, is
 * read by readTopField. Kept small on purpose: V8 then optimizes it in a few milliseconds,
 * where one function with all the cases took ~30 ms to compile, all the while running
 * unoptimized over tens of thousands of fields.
 */
export function scanTopLevel(buf: Buffer, top: TopLevel, budget: DecodeBudget, ranges: Ranges[] | null): void {
  const r = new ProtoReader(buf);
  const bufEnd = buf.length;
  let pos = 0;
  while (pos < bufEnd) {
    // A table entry: fields 2 to 6, wire type 2 (tags 0x12, 0x1a, 0x22, 0x2a, 0x32), with
    // a length below 2^28 that fits the buffer.
    const tag = buf[pos];
    if (tag >= 0x12 && tag <= 0x32 && (tag & 7) === 2) {
      r.pos = pos + 1;
      const len = r.smallUint();
      const end = r.pos + len;
      if (len >= 0 && end <= bufEnd) {
        tableEntry(top, ranges, tag >>> 3, r.pos, end);
        pos = end;
        continue;
      }
    }
    r.pos = pos;
    readTopField(r, buf, top, budget, ranges);
    pos = r.pos;
  }
}

/** Counts (pass 1) or locates (pass 2) the record [start, end) of table `field` (2 to 6). */
function tableEntry(top: TopLevel, ranges: Ranges[] | null, field: number, start: number, end: number): void {
  if (ranges === null) {
    top.count[field]++;
    top.payload[field] += end - start;
    if (end === start) top.empty[field]++;
    return;
  }
  const k = top.filled[field];
  const out = ranges[field];
  out[k] = start;
  out[k + 1] = end;
  top.filled[field] = k + 2;
}

/**
 * Reads the top-level field at r.pos: a table entry as tableEntry does, anything else into
 * `top` in pass 1 (ranges null) or skipped in pass 2. Throws ProfileError for a malformed one.
 */
function readTopField(r: ProtoReader, buf: Buffer, top: TopLevel, budget: DecodeBudget, ranges: Ranges[] | null): void {
  const field = r.readTag();
  const wire = r.wire;
  if (wire === 2 && field >= 1 && field <= 6) {
    const end = r.delimitedEnd(TOP_FIELD_NAMES[field]);
    if (field >= 2) tableEntry(top, ranges, field, r.pos, end);
    else if (ranges === null) {
      // Every consumer works per sample type (totals, names, the CLI prints them all).
      if (top.sampleTypes.length === 2 * MAX_SAMPLE_TYPES) {
        throw new ProfileError(`more than ${MAX_SAMPLE_TYPES} sample_type entries: not a plausible profile`);
      }
      readValueType(buf, r.pos, end, top.pair, 'sample_type');
      pushCharged(top.sampleTypes, top.pair[0], budget, 'sample_type');
      top.sampleTypes.push(top.pair[1]);
    }
    r.pos = end;
    return;
  }
  if (ranges !== null) {
    // Pass 1 read this field already (and would have thrown were it malformed).
    r.skip(wire, field);
    return;
  }
  if (field === 11) {
    expectWire(wire, 2, 'period_type');
    const end = r.delimitedEnd('period_type');
    readValueType(buf, r.pos, end, top.periodType, 'period_type');
    r.pos = end;
  } else if (field === 13) {
    readRepeatedIndex(r, wire, top.comments, budget, 'comment');
  } else if (field >= 7 && field <= 15) {
    const name = TOP_FIELD_NAMES[field];
    expectWire(wire, 0, name);
    if (field === 9 || field === 10 || field === 12) {
      const nanos = r.int64();
      if (field === 9) top.timeNanos = nanos;
      else if (field === 10) top.durationNanos = nanos;
      else top.period = nanos;
    } else {
      const index = r.index(name);
      if (field === 7) top.dropFrames = index;
      else if (field === 8) top.keepFrames = index;
      else if (field === 14) top.defaultSampleType = index;
      else top.docUrl = index;
    }
  } else {
    if (field === 0) throw new ProfileError(`corrupt protobuf: field number 0 at byte ${r.pos}`);
    if (field <= 6) expectWire(wire, 2, TOP_FIELD_NAMES[field]);
    r.skip(wire, field);
  }
}

/** Profile field names by field number. */
const TOP_FIELD_NAMES = [
  '',
  'sample_type',
  'sample',
  'mapping',
  'location',
  'function',
  'string_table',
  'drop_frames',
  'keep_frames',
  'time_nanos',
  'duration_nanos',
  'period_type',
  'period',
  'comment',
  'default_sample_type',
  'doc_url',
];

/**
 * Reads a ValueType message into out = [type, unit] (the last period_type wins, as in google/pprof).
 */
function readValueType(buf: Uint8Array, start: number, end: number, out: Int32Array, what: string): void {
  const r = new ProtoReader(buf, start, end);
  let type = 0;
  let unit = 0;
  while (r.pos < end) {
    const field = r.readTag();
    const wire = r.wire;
    if (field === 1 && wire === 0) type = r.index(`${what}.type`);
    else if (field === 2 && wire === 0) unit = r.index(`${what}.unit`);
    else r.skip(wire, field);
  }
  out[0] = type;
  out[1] = unit;
}

/** Pushes `value`, charging `budget` first when the buffer has to grow (it doubles). */
function pushCharged(out: GrowableInt32, value: number, budget: DecodeBudget, what: string): void {
  if (out.length === out.data.length) budget.charge(out.data.length * 8, what);
  out.push(value);
}

/** Reads a repeated string-index field, packed or not. */
function readRepeatedIndex(r: ProtoReader, wire: number, out: GrowableInt32, budget: DecodeBudget, what: string): void {
  const outer = r.end;
  const end = r.repeatedEnd(wire, what);
  while (r.pos < end) pushCharged(out, r.index(what), budget, what);
  r.end = outer;
}
