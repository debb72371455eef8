import { DecodeBudget, type TableCost } from './budget.js';
import { ProfileError } from './errors.js';
import { GrowableFloat64, GrowableInt32, projectedCapacity } from './growable.js';
import { emptyProfile, type FunctionTable, type LocationTable, type MappingTable, type Profile, type SampleTable } from './profile.js';
import { ProtoReader } from './proto-reader.js';
import { validateProfile } from './validate.js';

/**
 * Decodes an uncompressed profile.proto message into the columnar model and validates it.
 * Accepts packed and unpacked repeated fields and any field order; unknown fields are skipped.
 * Throws ProfileError naming the field when the bytes are not a well-formed, consistent profile.
 *
 * Bounded memory: every buffer the decode allocates, garbage from regrowing included, is first
 * charged to `budget`, by default K x bytes.length + 1 MiB with K = DECODED_BYTES_PER_INPUT_BYTE
 * = 6 (real profiles need 2.7 to 3.7, see budget.ts), and a decode that would pass it is
 * refused with a ProfileError ("... would need N MB decoded from M MB: not a plausible
 * profile") having allocated at most that. The records of every table are counted before any
 * table is allocated, so a profile whose tables alone pass the budget (empty or minimal
 * records, the usual amplification attack) is refused having allocated only its header
 * (at most MAX_SAMPLE_TYPES sample types); stacks, lines and labels, whose number only their
 * messages tell, are charged as they grow. A profile whose samples cannot hold one byte per
 * value is refused before its values are allocated. The only JavaScript array sized by the
 * wire is the string table, after the budget has accepted it.
 */
export function decodeProfile(bytes: Uint8Array, budget: DecodeBudget = new DecodeBudget(bytes.length)): Profile {
  const t = decodeProfileTables(bytes, budget);
  t.profile.samples = decodeSamples(t.buf, t.sampleRanges, t.sampleBytes, t.locationIds, t.profile.sampleTypes.length >> 1, budget);
  validateProfile(t.profile);
  return t.profile;
}

/**
 * A profile decoded up to its samples: everything but the sample table is decoded and
 * resolved (row numbers, not ids), the samples are only located, so a caller can read them
 * straight into its own structures (merge does) instead of building the sample table.
 */
export interface ProfileTables {
  /** The profile with an empty sample table; not validated yet (see validateProfile). */
  profile: Profile;
  /** The input as a Buffer (the same memory). */
  buf: Buffer;
  /** [start, end) byte offsets of the body of each sample message, flattened, in order. */
  sampleRanges: Uint32Array;
  /** Sum of the lengths of the sample messages: every location id or value takes one at least. */
  sampleBytes: number;
  /** Location proto id → location row. */
  locationIds: IdTable;
  /** The budget the tables were charged to, for whoever reads the samples. */
  budget: DecodeBudget;
}

// Bytes per row of each decoded table (see profile.ts), for the budget.
const RANGE_BYTES = 8;
const MAPPING_BYTES = 8 + 3 * 8 + 4 + 4 + 1;
const FUNCTION_BYTES = 8 + 3 * 4 + 8;
const LOCATION_BYTES = 8 + 4 + 8 + 1 + 4;
const LINE_BYTES = 4 + 8 + 8;
const LABEL_BYTES = 4 + 4 + 8 + 4;
const SAMPLE_BYTES = 4 + 4;
/** A string's slot in the string array, room for its regrowing included. */
const STRING_SLOT_BYTES = 16;
/** A V8 string's header and alignment; its characters take at most 2 bytes per UTF-8 byte. */
const STRING_HEADER_BYTES = 24;
/** The most sample types (value columns) a profile may have; real ones have 1 to ~10. */
export const MAX_SAMPLE_TYPES = 1024;
/** A Map entry of IdTable's sparse form, room for regrowing included. */
const SPARSE_ID_BYTES = 80;

/**
 * Decodes everything of an uncompressed profile.proto message except the body of its
 * samples (see ProfileTables). Throws ProfileError like decodeProfile for any malformed
 * field it reads; the profile is not validated (validateProfile), samples are not read.
 * Charges `budget` like decodeProfile, the sample table's fixed part included (its
 * stacks and labels are charged by whoever reads them).
 */
export function decodeProfileTables(bytes: Uint8Array, budget: DecodeBudget = new DecodeBudget(bytes.length)): ProfileTables {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  // Pass 1 walks the top-level fields, decoding the header and only counting the records of
  // each table, so the tables can be charged to the budget before any of them is allocated.
  const top = new TopLevel();
  scanTopLevel(buf, top, budget, null);
  const { count, payload, empty } = top;
  const sampleTypes = top.sampleTypes.finish();
  const valuesPerSample = sampleTypes.length >> 1;
  const nSamples = count[2];
  // Every value takes a byte at least: refuse before allocating nSamples x valuesPerSample values.
  if (nSamples * valuesPerSample > payload[2]) {
    throw new ProfileError(
      `${nSamples} samples of ${valuesPerSample} values each need ${nSamples * valuesPerSample} bytes at least, but the samples hold ${payload[2]} bytes: not a plausible profile`,
    );
  }
  const costs: TableCost[] = [
    {
      what: `${count[6]} string_table entries`,
      bytes: count[6] * (RANGE_BYTES + STRING_SLOT_BYTES) + (count[6] - empty[6]) * STRING_HEADER_BYTES + 2 * payload[6],
    },
    { what: `${count[3]} mapping records`, bytes: count[3] * (RANGE_BYTES + MAPPING_BYTES) },
    { what: `${count[5]} function records`, bytes: count[5] * (RANGE_BYTES + FUNCTION_BYTES) },
    {
      what: `${count[4]} location records`,
      bytes: count[4] * (RANGE_BYTES + LOCATION_BYTES) + (count[4] + (count[4] >> 3) + 16) * LINE_BYTES + 4,
    },
    { what: `${nSamples} samples`, bytes: nSamples * (RANGE_BYTES + SAMPLE_BYTES + 8 * valuesPerSample) + 8 },
  ];
  budget.chargeTables(costs);

  // Pass 2 locates every record in exact-size arrays. Samples refer to locations by id, so
  // ids are resolved once all locations are known, whatever order the fields came in.
  const ranges: Ranges[] = [];
  for (let f = 0; f <= 6; f++) ranges.push(new Uint32Array(f >= 2 ? 2 * count[f] : 0));
  scanTopLevel(buf, top, budget, ranges);
  const stringRanges = ranges[6];
  const strings: string[] = [];
  for (let i = 0; i < stringRanges.length; i += 2) strings.push(buf.toString('utf8', stringRanges[i], stringRanges[i + 1]));
  const { comments, periodType, dropFrames, keepFrames, timeNanos, durationNanos, period, defaultSampleType, docUrl } = top;

  const mappings = decodeMappings(buf, ranges[3]);
  const functions = decodeFunctions(buf, ranges[5]);
  const locations = decodeLocations(
    buf,
    ranges[4],
    payload[4],
    new IdTable(mappings.id, 'mapping', budget),
    new IdTable(functions.id, 'function', budget),
    budget,
  );
  const locationIds = new IdTable(locations.id, 'location', budget);

  const profile: Profile = {
    strings,
    sampleTypes,
    samples: NO_SAMPLES,
    locations,
    functions,
    mappings,
    dropFrames,
    keepFrames,
    timeNanos,
    durationNanos,
    periodType,
    period,
    comments: comments.finish(),
    defaultSampleType,
    docUrl,
  };
  return { profile, buf, sampleRanges: ranges[2], sampleBytes: payload[2], locationIds, budget };
}

/** The sample table of ProfileTables.profile until a caller sets its own; never written to. */
const NO_SAMPLES: SampleTable = emptyProfile().samples;

/** What the walk of a profile's top-level fields found: the tables counted, the rest decoded. */
class TopLevel {
  /** For fields 2 to 6 (sample, mapping, location, function, string_table): records of each. */
  readonly count = new Float64Array(7);
  /** For fields 2 to 6: the sum of the lengths of their records. */
  readonly payload = new Float64Array(7);
  /** For fields 2 to 6: how many of their records are empty. */
  readonly empty = new Float64Array(7);
  /** For fields 2 to 6, while locating (pass 2): how many range slots are filled. */
  readonly filled = new Float64Array(7);
  readonly sampleTypes = new GrowableInt32(8);
  readonly comments = new GrowableInt32(4);
  readonly periodType = new Int32Array(2);
  /** Scratch for one sample_type. */
  readonly pair = new Int32Array(2);
  dropFrames = 0;
  keepFrames = 0;
  timeNanos = 0n;
  durationNanos = 0n;
  period = 0n;
  defaultSampleType = 0;
  docUrl = 0;
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
function scanTopLevel(buf: Buffer, top: TopLevel, budget: DecodeBudget, ranges: Ranges[] | null): void {
  const r = new ProtoReader(buf);
  const bufEnd = buf.length;
  let pos = 0;
  while (pos < bufEnd) {
    // A table entry: fields 2 to 6, wire type 2 (tags 0x12, 0x1a, 0x22, 0x2a, 0x32), with
    // a length below 2^21 that fits the buffer.
    const tag = buf[pos];
    if (tag >= 0x12 && tag <= 0x32 && (tag & 7) === 2) {
      let p = pos + 1;
      let b = buf[p++];
      let len = b;
      if (b >= 0x80) {
        len &= 0x7f;
        for (let shift = 7; shift < 21; shift += 7) {
          b = buf[p++];
          len |= (b & 0x7f) << shift;
          if (b < 0x80) break;
        }
      }
      const end = p + len;
      if (b < 0x80 && end <= bufEnd) {
        tableEntry(top, ranges, tag >>> 3, p, end);
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
  const tag = r.uint('field tag');
  const field = tag >>> 3;
  const wire = tag & 7;
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
  switch (field) {
    case 7:
      expectWire(wire, 0, 'drop_frames');
      top.dropFrames = r.index('drop_frames');
      break;
    case 8:
      expectWire(wire, 0, 'keep_frames');
      top.keepFrames = r.index('keep_frames');
      break;
    case 9:
      expectWire(wire, 0, 'time_nanos');
      top.timeNanos = r.int64();
      break;
    case 10:
      expectWire(wire, 0, 'duration_nanos');
      top.durationNanos = r.int64();
      break;
    case 11: {
      expectWire(wire, 2, 'period_type');
      const end = r.delimitedEnd('period_type');
      readValueType(buf, r.pos, end, top.periodType, 'period_type');
      r.pos = end;
      break;
    }
    case 12:
      expectWire(wire, 0, 'period');
      top.period = r.int64();
      break;
    case 13:
      readRepeatedIndex(r, wire, top.comments, budget, 'comment');
      break;
    case 14:
      expectWire(wire, 0, 'default_sample_type');
      top.defaultSampleType = r.index('default_sample_type');
      break;
    case 15:
      expectWire(wire, 0, 'doc_url');
      top.docUrl = r.index('doc_url');
      break;
    default:
      if (field === 0) throw new ProfileError(`corrupt protobuf: field number 0 at byte ${r.pos}`);
      if (field <= 6) expectWire(wire, 2, TOP_FIELD_NAMES[field]);
      r.skip(wire, field);
  }
}

/** [start, end) byte offsets of each message of one table, flattened. */
type Ranges = Uint32Array;

const TOP_FIELD_NAMES = ['', 'sample_type', 'sample', 'mapping', 'location', 'function', 'string_table'];

/** Throws ProfileError unless a field has the expected wire type. */
export function expectWire(wire: number, expected: number, what: string): void {
  if (wire !== expected) {
    throw new ProfileError(`corrupt protobuf: ${what} has wire type ${wire}, expected ${expected}`);
  }
}

/**
 * Reads a ValueType message into out = [type, unit] (the last period_type wins, as in google/pprof).
 */
function readValueType(buf: Uint8Array, start: number, end: number, out: Int32Array, what: string): void {
  const r = new ProtoReader(buf, start, end);
  let type = 0;
  let unit = 0;
  while (r.pos < end) {
    const tag = r.uint('field tag');
    const field = tag >>> 3;
    const wire = tag & 7;
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
  if (wire === 2) {
    const end = r.delimitedEnd(what);
    const outer = r.end;
    r.end = end;
    while (r.pos < end) pushCharged(out, r.index(what), budget, what);
    r.end = outer;
  } else {
    expectWire(wire, 0, what);
    pushCharged(out, r.index(what), budget, what);
  }
}

/**
 * Maps proto ids to row numbers. Ids are almost always small and dense (1..n), so `dense`
 * answers them by indexing; `row()` also covers sparse ids through a Map. -1 means unknown.
 */
export class IdTable {
  readonly dense: Int32Array;
  private readonly sparse: Map<number, number> | null;

  /** Charges what it allocates to `budget`: 4 bytes per id up to the largest when dense (at most 4n + 1024 ids). */
  constructor(ids: Float64Array, what: string, budget: DecodeBudget) {
    let max = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i] > max) max = ids[i];
    const duplicate = (id: number): never => {
      throw new ProfileError(`duplicate ${what} id ${id}`);
    };
    if (max <= ids.length * 4 + 1024) {
      budget.charge(4 * (max + 1), `${what} ids`);
      this.dense = new Int32Array(max + 1).fill(-1);
      this.sparse = null;
      for (let i = 0; i < ids.length; i++) {
        if (this.dense[ids[i]] !== -1) duplicate(ids[i]);
        this.dense[ids[i]] = i;
      }
    } else {
      budget.charge(SPARSE_ID_BYTES * ids.length, `${ids.length} ${what} ids`);
      this.dense = new Int32Array(0);
      this.sparse = new Map();
      for (let i = 0; i < ids.length; i++) {
        if (this.sparse.has(ids[i])) duplicate(ids[i]);
        this.sparse.set(ids[i], i);
      }
    }
  }

  row(id: number): number {
    if (id < this.dense.length) return this.dense[id];
    return this.sparse?.get(id) ?? -1;
  }
}

function decodeMappings(buf: Uint8Array, ranges: Ranges): MappingTable {
  const n = ranges.length >> 1;
  const t: MappingTable = {
    count: n,
    id: new Float64Array(n),
    memoryStart: new BigUint64Array(n),
    memoryLimit: new BigUint64Array(n),
    fileOffset: new BigUint64Array(n),
    filename: new Int32Array(n),
    buildId: new Int32Array(n),
    flags: new Uint8Array(n),
  };
  const r = new ProtoReader(buf);
  for (let i = 0; i < n; i++) {
    r.pos = ranges[2 * i];
    r.end = ranges[2 * i + 1];
    let flags = 0;
    while (r.pos < r.end) {
      const tag = r.uint('field tag');
      const field = tag >>> 3;
      const wire = tag & 7;
      if (wire !== 0) {
        r.skip(wire, field);
        continue;
      }
      switch (field) {
        case 1:
          t.id[i] = r.uint('mapping id');
          break;
        case 2:
          t.memoryStart[i] = r.uint64();
          break;
        case 3:
          t.memoryLimit[i] = r.uint64();
          break;
        case 4:
          t.fileOffset[i] = r.uint64();
          break;
        case 5:
          t.filename[i] = r.index('mapping filename');
          break;
        case 6:
          t.buildId[i] = r.index('mapping build_id');
          break;
        case 7:
          if (r.bool()) flags |= 1;
          break;
        case 8:
          if (r.bool()) flags |= 2;
          break;
        case 9:
          if (r.bool()) flags |= 4;
          break;
        case 10:
          if (r.bool()) flags |= 8;
          break;
        default:
          r.skip(wire, field);
      }
    }
    t.flags[i] = flags;
  }
  return t;
}

function decodeFunctions(buf: Uint8Array, ranges: Ranges): FunctionTable {
  const n = ranges.length >> 1;
  const t: FunctionTable = {
    count: n,
    id: new Float64Array(n),
    name: new Int32Array(n),
    systemName: new Int32Array(n),
    filename: new Int32Array(n),
    startLine: new Float64Array(n),
  };
  const r = new ProtoReader(buf);
  for (let i = 0; i < n; i++) {
    r.pos = ranges[2 * i];
    r.end = ranges[2 * i + 1];
    while (r.pos < r.end) {
      const tag = r.uint('field tag');
      const field = tag >>> 3;
      const wire = tag & 7;
      if (wire !== 0) {
        r.skip(wire, field);
        continue;
      }
      switch (field) {
        case 1:
          t.id[i] = r.uint('function id');
          break;
        case 2:
          t.name[i] = r.index('function name');
          break;
        case 3:
          t.systemName[i] = r.index('function system_name');
          break;
        case 4:
          t.filename[i] = r.index('function filename');
          break;
        case 5:
          t.startLine[i] = r.int('function start_line');
          break;
        default:
          r.skip(wire, field);
      }
    }
  }
  return t;
}

/**
 * Decodes the location records at `ranges`, whose lengths sum to `payloadBytes`; the line
 * columns grow by projection (projectedCapacity) and are charged to `budget`.
 */
function decodeLocations(
  buf: Uint8Array,
  ranges: Ranges,
  payloadBytes: number,
  mappingIds: IdTable,
  functionIds: IdTable,
  budget: DecodeBudget,
): LocationTable {
  const n = ranges.length >> 1;
  const id = new Float64Array(n);
  const mapping = new Int32Array(n);
  const address = new BigUint64Array(n);
  // Addresses are written as two 32-bit words, so no bigint is created per location.
  const addressWords = new Uint32Array(address.buffer);
  const isFolded = new Uint8Array(n);
  const lineStart = new Uint32Array(n + 1);
  // Charged with the location table (decodeProfileTables): Go writes 1 to 1.2 lines per location.
  let capacity = n + (n >> 3) + 16;
  // A line takes two bytes at least (an empty message), so the bytes bound their number.
  const maxLines = Math.max(capacity, payloadBytes >> 1);
  let lineFunction = new Int32Array(capacity);
  let lineLine = new Float64Array(capacity);
  let lineColumn = new Float64Array(capacity);
  let nLines = 0;
  const fnDense = functionIds.dense;
  const r = new ProtoReader(buf);
  const badFunction = (i: number, functionId: number): never => {
    throw new ProfileError(`location id ${id[i]} has a line referring to function id ${functionId}, which does not exist`);
  };
  for (let i = 0; i < n; i++) {
    let p = ranges[2 * i];
    const end = ranges[2 * i + 1];
    let mappingId = 0;
    while (p < end) {
      const tag = buf[p];
      // Fast paths (no calls) for what Go writes: one-byte tags, ids and lines below 2^21,
      // line messages shorter than 128 bytes. Everything else goes through ProtoReader.
      if (tag === 0x22 && buf[p + 1] < 0x80) {
        const lineEnd = p + 2 + buf[p + 1];
        if (lineEnd > end) break;
        p += 2;
        let functionId = 0;
        let line = 0;
        let column = 0;
        while (p < lineEnd) {
          const t = buf[p];
          if (t === 0x08 || t === 0x10) {
            let b = buf[p + 1];
            let v = b & 0x7f;
            let q = p + 2;
            if (b >= 0x80) {
              b = buf[q++];
              v |= (b & 0x7f) << 7;
              if (b >= 0x80) {
                b = buf[q++];
                v |= (b & 0x7f) << 14;
                if (b >= 0x80) v = -1;
              }
            }
            if (v >= 0) {
              if (t === 0x08) functionId = v;
              else line = v;
              p = q;
              continue;
            }
          }
          r.pos = p;
          r.end = lineEnd;
          const tt = r.uint('field tag');
          const f = tt >>> 3;
          const w = tt & 7;
          if (w !== 0) r.skip(w, f);
          else if (f === 1) functionId = r.uint('line function_id');
          else if (f === 2) line = r.int('line number');
          else if (f === 3) column = r.int('line column');
          else r.skip(w, f);
          p = r.pos;
        }
        if (p > lineEnd) throw new ProfileError(`truncated protobuf: a line of location ${i} runs past its end`);
        let fn = -1;
        if (functionId !== 0) {
          fn = functionId < fnDense.length ? fnDense[functionId] : functionIds.row(functionId);
          if (fn < 0) badFunction(i, functionId);
        }
        // Inline on purpose (also below): moving this into a closure made decode ~1.8x slower
        // (measured on the bench inputs: 220 vs 125 ms for five profiles).
        if (nLines === capacity) {
          capacity = projectedCapacity(capacity, nLines + 1, nLines, i, n, maxLines);
          budget.charge(capacity * LINE_BYTES, 'location lines');
          lineFunction = resizedInt32(lineFunction, capacity);
          lineLine = resizedFloat64(lineLine, capacity);
          lineColumn = resizedFloat64(lineColumn, capacity);
        }
        lineFunction[nLines] = fn;
        lineLine[nLines] = line;
        lineColumn[nLines] = column;
        nLines++;
        continue;
      }
      r.pos = p;
      r.end = end;
      const t = r.uint('field tag');
      const field = t >>> 3;
      const wire = t & 7;
      if (field === 4 && wire === 2) {
        // A long line message: decode it with the reader, then store as above.
        const lineEnd = r.delimitedEnd('location line');
        r.end = lineEnd;
        let functionId = 0;
        let line = 0;
        let column = 0;
        while (r.pos < lineEnd) {
          const tt = r.uint('field tag');
          const f = tt >>> 3;
          const w = tt & 7;
          if (w !== 0) r.skip(w, f);
          else if (f === 1) functionId = r.uint('line function_id');
          else if (f === 2) line = r.int('line number');
          else if (f === 3) column = r.int('line column');
          else r.skip(w, f);
        }
        let fn = -1;
        if (functionId !== 0) {
          fn = functionIds.row(functionId);
          if (fn < 0) badFunction(i, functionId);
        }
        if (nLines === capacity) {
          capacity = projectedCapacity(capacity, nLines + 1, nLines, i, n, maxLines);
          budget.charge(capacity * LINE_BYTES, 'location lines');
          lineFunction = resizedInt32(lineFunction, capacity);
          lineLine = resizedFloat64(lineLine, capacity);
          lineColumn = resizedFloat64(lineColumn, capacity);
        }
        lineFunction[nLines] = fn;
        lineLine[nLines] = line;
        lineColumn[nLines] = column;
        nLines++;
      } else if (wire !== 0) {
        r.skip(wire, field);
      } else if (field === 1) {
        id[i] = r.uint('location id');
      } else if (field === 2) {
        mappingId = r.uint('location mapping_id');
      } else if (field === 3) {
        r.readRawVarint();
        addressWords[2 * i] = r.lo;
        addressWords[2 * i + 1] = r.hi;
      } else if (field === 5) {
        isFolded[i] = r.bool() ? 1 : 0;
      } else {
        r.skip(wire, field);
      }
      p = r.pos;
    }
    if (p !== end) throw new ProfileError(`truncated protobuf: location ${i} has a field that runs past its end`);
    if (mappingId === 0) {
      mapping[i] = -1;
    } else {
      const m = mappingIds.row(mappingId);
      if (m < 0) throw new ProfileError(`location id ${id[i]} refers to mapping id ${mappingId}, which does not exist`);
      mapping[i] = m;
    }
    lineStart[i + 1] = nLines;
  }
  // Lines are kept in exact-size arrays when the projection overshot (locations without lines).
  const trim = wasteful(capacity, nLines);
  if (trim) budget.charge(nLines * LINE_BYTES, 'location lines');
  return {
    count: n,
    id,
    mapping,
    address,
    isFolded,
    lineStart,
    lineFunction: trim ? lineFunction.slice(0, nLines) : lineFunction.subarray(0, nLines),
    lineLine: trim ? lineLine.slice(0, nLines) : lineLine.subarray(0, nLines),
    lineColumn: trim ? lineColumn.slice(0, nLines) : lineColumn.subarray(0, nLines),
  };
}

/**
 * True when a buffer of `capacity` elements holding `length` wastes enough (a quarter) to be
 * copied to its exact size: a projection (projectedCapacity) overshoots by less, as a rule.
 */
function wasteful(capacity: number, length: number): boolean {
  return capacity - length > (length >> 2) + 64;
}

function resizedInt32(a: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(capacity);
  b.set(a.subarray(0, Math.min(a.length, capacity)));
  return b;
}

function resizedFloat64(a: Float64Array, capacity: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(capacity);
  b.set(a.subarray(0, Math.min(a.length, capacity)));
  return b;
}

function resizedUint32(a: Uint32Array, capacity: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(capacity);
  b.set(a.subarray(0, Math.min(a.length, capacity)));
  return b;
}

/**
 * Decodes the sample records at `ranges`, whose lengths sum to `sampleBytes`. The fixed part
 * of the table (starts, values) was charged by decodeProfileTables; stacks and labels grow by
 * projection (projectedCapacity), charged to `budget`, and end in arrays of about their size.
 */
function decodeSamples(
  buf: Uint8Array,
  ranges: Ranges,
  sampleBytes: number,
  locationIds: IdTable,
  valuesPerSample: number,
  budget: DecodeBudget,
): SampleTable {
  const n = ranges.length >> 1;
  const locStart = new Uint32Array(n + 1);
  // A location reference takes one byte at least, so a sample's bytes bound its stack and
  // all sample bytes bound all stacks; the first 1/32 read tells how many there will be.
  let locCapacity = Math.min(sampleBytes, 1024 + (sampleBytes >> 5));
  budget.charge(4 * locCapacity, 'sample location ids');
  let locs = new Uint32Array(locCapacity);
  let nLocs = 0;
  let consumed = 0;
  const values = new Float64Array(n * valuesPerSample);
  const label = new Float64Array(4);
  const labelStart = new Uint32Array(n + 1);
  let labelCapacity = 16;
  budget.charge(LABEL_BYTES * labelCapacity, 'sample labels');
  const labelKey = new GrowableInt32(labelCapacity);
  const labelStr = new GrowableInt32(labelCapacity);
  const labelNum = new GrowableFloat64(labelCapacity);
  const labelNumUnit = new GrowableInt32(labelCapacity);
  const r = new ProtoReader(buf);
  const dense = locationIds.dense;
  const denseLength = dense.length;

  const badLocation = (i: number, locId: number): never => {
    throw new ProfileError(`sample ${i} refers to location id ${locId}, which does not exist`);
  };
  const tooManyValues = (i: number): never => {
    throw new ProfileError(`sample ${i} has more values than the profile's ${valuesPerSample} sample types`);
  };
  const truncated = (i: number): never => {
    throw new ProfileError(`truncated protobuf: sample ${i} has a varint that runs past the end of its field`);
  };

  for (let i = 0; i < n; i++) {
    let pos = ranges[2 * i];
    const end = ranges[2 * i + 1];
    if (nLocs + (end - pos) > locCapacity) {
      locCapacity = projectedCapacity(locCapacity, nLocs + (end - pos), nLocs, consumed, sampleBytes, sampleBytes);
      budget.charge(4 * locCapacity, 'sample location ids');
      locs = resizedUint32(locs, locCapacity);
    }
    consumed += end - pos;
    let v = i * valuesPerSample;
    const vEnd = v + valuesPerSample;
    while (pos < end) {
      const tag = buf[pos];
      // Fast path: packed location ids with a one-byte length prefix, ids below 2^21,
      // decoded inline; this loop is most of the time spent decoding a CPU profile.
      if (tag === 0x0a && buf[pos + 1] < 0x80) {
        const fieldEnd = pos + 2 + buf[pos + 1];
        if (fieldEnd > end) {
          r.pos = pos + 1;
          r.end = end;
          r.delimitedEnd('sample location_id');
        }
        pos += 2;
        // Ids below 2^21 (up to three bytes) inline; longer varints are rare and read by
        // the reader, outside this loop, so the optimizing compiler never meets an
        // unexecuted branch here and has no reason to throw its code away.
        while (pos < fieldEnd) {
          const b0 = buf[pos];
          let id: number;
          if (b0 < 0x80) {
            id = b0;
            pos += 1;
          } else if (buf[pos + 1] < 0x80) {
            id = (b0 & 0x7f) | (buf[pos + 1] << 7);
            pos += 2;
          } else if (buf[pos + 2] < 0x80) {
            id = (b0 & 0x7f) | ((buf[pos + 1] & 0x7f) << 7) | (buf[pos + 2] << 14);
            pos += 3;
          } else {
            r.pos = pos;
            r.end = fieldEnd;
            id = r.uint('sample location_id');
            pos = r.pos;
          }
          const row = id < denseLength ? dense[id] : locationIds.row(id);
          if (row < 0) badLocation(i, id);
          locs[nLocs] = row;
          nLocs += 1;
        }
        if (pos > fieldEnd) truncated(i);
        continue;
      }
      r.pos = pos;
      r.end = end;
      const t = r.uint('field tag');
      const field = t >>> 3;
      const wire = t & 7;
      if (field === 1) {
        if (wire === 2) {
          const fieldEnd = r.delimitedEnd('sample location_id');
          r.end = fieldEnd;
          while (r.pos < fieldEnd) {
            const locId = r.uint('sample location_id');
            const row = locationIds.row(locId);
            if (row < 0) badLocation(i, locId);
            locs[nLocs++] = row;
          }
        } else {
          expectWire(wire, 0, 'sample location_id');
          const locId = r.uint('sample location_id');
          const row = locationIds.row(locId);
          if (row < 0) badLocation(i, locId);
          locs[nLocs++] = row;
        }
      } else if (field === 2) {
        v = readValueField(r, wire, values, v, vEnd);
        if (v < 0) tooManyValues(i);
      } else if (field === 3 && wire === 2) {
        readLabelMessage(r, label);
        if (labelKey.length === labelCapacity) {
          // A label takes two bytes at least (an empty message).
          const done = consumed - end + r.pos;
          labelCapacity = projectedCapacity(labelCapacity, labelCapacity + 1, labelCapacity, done, sampleBytes, sampleBytes >> 1);
          budget.charge(LABEL_BYTES * labelCapacity, 'sample labels');
          labelKey.resize(labelCapacity);
          labelStr.resize(labelCapacity);
          labelNum.resize(labelCapacity);
          labelNumUnit.resize(labelCapacity);
        }
        labelKey.push(label[0]);
        labelStr.push(label[1]);
        labelNum.push(label[2]);
        labelNumUnit.push(label[3]);
      } else {
        r.skip(wire, field);
      }
      pos = r.pos;
    }
    if (v !== vEnd) {
      throw new ProfileError(`sample ${i} has ${v - i * valuesPerSample} values but the profile has ${valuesPerSample} sample types`);
    }
    locStart[i + 1] = nLocs;
    labelStart[i + 1] = labelKey.length;
  }
  // Stacks and labels are kept in exact-size arrays when their projection overshot.
  const trimLocs = wasteful(locCapacity, nLocs);
  if (trimLocs) budget.charge(4 * nLocs, 'sample location ids');
  const nLabels = labelKey.length;
  const trimLabels = wasteful(labelCapacity, nLabels);
  if (trimLabels) budget.charge(LABEL_BYTES * nLabels, 'sample labels');
  return {
    count: n,
    locStart,
    locs: trimLocs ? locs.slice(0, nLocs) : locs.subarray(0, nLocs),
    values,
    labelStart,
    labelKey: trimLabels ? labelKey.finish().slice() : labelKey.finish(),
    labelStr: trimLabels ? labelStr.finish().slice() : labelStr.finish(),
    labelNum: trimLabels ? labelNum.finish().slice() : labelNum.finish(),
    labelNumUnit: trimLabels ? labelNumUnit.finish().slice() : labelNumUnit.finish(),
  };
}

/**
 * Reads a Sample.value field (packed, or one unpacked value) whose tag was just read, into
 * `values` from index v; returns the next index, or -1 when the values would pass `vEnd`. Shared
 * by decodeProfile and the encoded merger, which take their fast paths before this one.
 */
export function readValueField(r: ProtoReader, wire: number, values: Float64Array, v: number, vEnd: number): number {
  if (wire !== 2) {
    expectWire(wire, 0, 'sample value');
    if (v === vEnd) return -1;
    values[v++] = r.int('sample value');
    return v;
  }
  const fieldEnd = r.delimitedEnd('sample value');
  r.end = fieldEnd;
  while (r.pos < fieldEnd) {
    if (v === vEnd) return -1;
    values[v++] = r.int('sample value');
  }
  return v;
}

/**
 * Reads a Sample.label message whose tag was just read into out = [key, str, num, num_unit]
 * (string indexes as written, for the caller to check). Shared by decodeProfile and the encoded
 * merger.
 */
export function readLabelMessage(r: ProtoReader, out: Float64Array): void {
  const fieldEnd = r.delimitedEnd('sample label');
  r.end = fieldEnd;
  out.fill(0);
  while (r.pos < fieldEnd) {
    const lt = r.uint('field tag');
    const f = lt >>> 3;
    const w = lt & 7;
    if (w !== 0) r.skip(w, f);
    else if (f === 1) out[0] = r.index('label key');
    else if (f === 2) out[1] = r.index('label str');
    else if (f === 3) out[2] = r.int('label num');
    else if (f === 4) out[3] = r.index('label num_unit');
    else r.skip(w, f);
  }
}
