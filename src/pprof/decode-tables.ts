import type { DecodeBudget } from './budget.js';
import { initialLineCapacity, LINE_BYTES, resizedFloat64, resizedInt32, wasteful } from './decode-costs.js';
import type { Ranges } from './decode-top-level.js';
import { ProfileError } from './errors.js';
import { projectedCapacity } from './growable.js';
import type { IdTable } from './id-table.js';
import type { FunctionTable, LocationTable, MappingTable } from './profile.js';
import { ProtoReader } from './proto-reader.js';

/**
 * Calls `read(r, record, field)` with r at the value of every varint field of every record
 * at `ranges` (the one place mappings and functions are walked); other wire types are
 * skipped. `read` reads the value, or skips it (r.skip(0, field)) for an unknown field.
 */
function readVarintFields(buf: Uint8Array, ranges: Ranges, read: (r: ProtoReader, record: number, field: number) => void): void {
  const r = new ProtoReader(buf);
  for (let i = 0; i < ranges.length >> 1; i++) {
    r.pos = ranges[2 * i];
    r.end = ranges[2 * i + 1];
    while (r.pos < r.end) {
      const field = r.readTag();
      if (r.wire === 0) read(r, i, field);
      else r.skip(r.wire, field);
    }
  }
}

/** Decodes the mapping records at `ranges`. */
export function decodeMappings(buf: Uint8Array, ranges: Ranges): MappingTable {
  const n = ranges.length >> 1;
  // memory_start, memory_limit, file_offset: fields 2 to 4.
  const addresses = [new BigUint64Array(n), new BigUint64Array(n), new BigUint64Array(n)];
  const t: MappingTable = {
    count: n,
    id: new Float64Array(n),
    memoryStart: addresses[0],
    memoryLimit: addresses[1],
    fileOffset: addresses[2],
    filename: new Int32Array(n),
    buildId: new Int32Array(n),
    flags: new Uint8Array(n),
  };
  readVarintFields(buf, ranges, (r, i, field) => {
    if (field === 1) t.id[i] = r.uint('mapping id');
    else if (field >= 2 && field <= 4) addresses[field - 2][i] = r.uint64();
    else if (field === 5) t.filename[i] = r.index('mapping filename');
    else if (field === 6) t.buildId[i] = r.index('mapping build_id');
    // has_functions, has_filenames, has_line_numbers, has_inline_frames: bits 0 to 3.
    else if (field >= 7 && field <= 10) t.flags[i] |= r.bool() ? 1 << (field - 7) : 0;
    else r.skip(0, field);
  });
  return t;
}

/**
 * Decodes the function records at `ranges`. Fast path (no calls but the inlined smallUint)
 * for what Go writes, one-byte tags of fields 1 to 5 with varints below 2^28; any other field,
 * and every malformed one, goes through ProtoReader with the general code's checks and errors.
 * A short-lived process (the CLI) runs this loop mostly unoptimized, where every call counts.
 */
export function decodeFunctions(buf: Uint8Array, ranges: Ranges): FunctionTable {
  const n = ranges.length >> 1;
  const id = new Float64Array(n);
  const name = new Int32Array(n);
  const systemName = new Int32Array(n);
  const filename = new Int32Array(n);
  const startLine = new Float64Array(n);
  const t: FunctionTable = { count: n, id, name, systemName, filename, startLine };
  // name, system_name, filename: fields 2 to 4.
  const names = [name, systemName, filename];
  const what = ['function name', 'function system_name', 'function filename'];
  const r = new ProtoReader(buf);
  for (let i = 0; i < n; i++) {
    let p = ranges[2 * i];
    const end = ranges[2 * i + 1];
    while (p < end) {
      const tag = buf[p];
      if (tag >= 0x08 && tag <= 0x28 && (tag & 7) === 0) {
        r.pos = p + 1;
        const v = r.smallUint();
        if (v >= 0 && r.pos <= end) {
          if (tag === 0x08) id[i] = v;
          else if (tag === 0x10) name[i] = v;
          else if (tag === 0x18) systemName[i] = v;
          else if (tag === 0x20) filename[i] = v;
          else startLine[i] = v;
          p = r.pos;
          continue;
        }
      }
      const field = r.readTagAt(p, end);
      const wire = r.wire;
      if (wire !== 0) r.skip(wire, field);
      else if (field === 1) id[i] = r.uint('function id');
      else if (field >= 2 && field <= 4) names[field - 2][i] = r.index(what[field - 2]);
      else if (field === 5) startLine[i] = r.int('function start_line');
      else r.skip(0, field);
      p = r.pos;
    }
  }
  return t;
}

/**
 * The line columns of the location table while it is decoded. They grow by projection
 * (projectedCapacity), charged to the budget, and end in arrays of about their size.
 */
class LineColumns {
  fn: Int32Array<ArrayBuffer>;
  line: Float64Array<ArrayBuffer>;
  column: Float64Array<ArrayBuffer>;
  count = 0;
  private capacity: number;
  /** The most lines the location records can hold: a line takes two bytes at least (an empty message). */
  private readonly max: number;
  private readonly budget: DecodeBudget;

  /** `locations` records of `payloadBytes` bytes in all; the first allocation was charged with the location table. */
  constructor(locations: number, payloadBytes: number, budget: DecodeBudget) {
    this.capacity = initialLineCapacity(locations);
    this.max = Math.max(this.capacity, payloadBytes >> 1);
    this.budget = budget;
    this.fn = new Int32Array(this.capacity);
    this.line = new Float64Array(this.capacity);
    this.column = new Float64Array(this.capacity);
  }

  /** Appends a line, having read `done` of `locations` records. */
  push(fn: number, line: number, column: number, done: number, locations: number): void {
    const k = this.count;
    if (k === this.capacity) this.grow(done, locations);
    this.fn[k] = fn;
    this.line[k] = line;
    this.column[k] = column;
    this.count = k + 1;
  }

  private grow(done: number, locations: number): void {
    const capacity = projectedCapacity(this.capacity, this.count + 1, this.count, done, locations, this.max);
    this.budget.charge(capacity * LINE_BYTES, 'location lines');
    this.capacity = capacity;
    this.fn = resizedInt32(this.fn, capacity);
    this.line = resizedFloat64(this.line, capacity);
    this.column = resizedFloat64(this.column, capacity);
  }

  /** True when the columns are copied to their exact size by the table's end (charged here). */
  trim(): boolean {
    const trim = wasteful(this.capacity, this.count);
    if (trim) this.budget.charge(this.count * LINE_BYTES, 'location lines');
    return trim;
  }
}

/**
 * Decodes the location records at `ranges`, whose lengths sum to `payloadBytes`; the line
 * columns grow by projection (projectedCapacity) and are charged to `budget`.
 */
export function decodeLocations(
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
  const lines = new LineColumns(n, payloadBytes, budget);
  const fnDense = functionIds.dense;
  const r = new ProtoReader(buf);
  for (let i = 0; i < n; i++) {
    let p = ranges[2 * i];
    const end = ranges[2 * i + 1];
    let mappingId = 0;
    while (p < end) {
      // A line message (field 4) runs to lineEnd. Fast path (no calls) for what Go writes: a
      // one-byte tag and length; anything else goes through ProtoReader.
      let lineEnd: number;
      if (buf[p] === 0x22 && buf[p + 1] < 0x80) {
        lineEnd = p + 2 + buf[p + 1];
        if (lineEnd > end) break;
        p += 2;
      } else {
        const field = r.readTagAt(p, end);
        const wire = r.wire;
        if (field === 4 && wire === 2) {
          lineEnd = r.delimitedEnd('location line');
          p = r.pos;
        } else {
          if (wire !== 0) r.skip(wire, field);
          else if (field === 1) id[i] = r.uint('location id');
          else if (field === 2) mappingId = r.uint('location mapping_id');
          else if (field === 3) {
            r.readRawVarint();
            addressWords[2 * i] = r.lo;
            addressWords[2 * i + 1] = r.hi;
          } else if (field === 5) isFolded[i] = r.bool() ? 1 : 0;
          else r.skip(wire, field);
          p = r.pos;
          continue;
        }
      }
      let functionId = 0;
      let line = 0;
      let column = 0;
      while (p < lineEnd) {
        const t = buf[p];
        // Function ids and lines below 2^28 (what Go writes) without a bounds check per byte.
        if (t === 0x08 || t === 0x10) {
          r.pos = p + 1;
          const v = r.smallUint();
          if (v >= 0) {
            if (t === 0x08) functionId = v;
            else line = v;
            p = r.pos;
            continue;
          }
        }
        const f = r.readTagAt(p, lineEnd);
        const w = r.wire;
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
        if (fn < 0) {
          throw new ProfileError(`location id ${id[i]} has a line referring to function id ${functionId}, which does not exist`);
        }
      }
      lines.push(fn, line, column, i, n);
    }
    if (p !== end) throw new ProfileError(`truncated protobuf: location ${i} has a field that runs past its end`);
    if (mappingId === 0) {
      mapping[i] = -1;
    } else {
      const m = mappingIds.row(mappingId);
      if (m < 0) throw new ProfileError(`location id ${id[i]} refers to mapping id ${mappingId}, which does not exist`);
      mapping[i] = m;
    }
    lineStart[i + 1] = lines.count;
  }
  const nLines = lines.count;
  const trim = lines.trim();
  return {
    count: n,
    id,
    mapping,
    address,
    isFolded,
    lineStart,
    lineFunction: trim ? lines.fn.slice(0, nLines) : lines.fn.subarray(0, nLines),
    lineLine: trim ? lines.line.slice(0, nLines) : lines.line.subarray(0, nLines),
    lineColumn: trim ? lines.column.slice(0, nLines) : lines.column.subarray(0, nLines),
  };
}
