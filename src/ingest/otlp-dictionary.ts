import type { DecodeBudget } from '../pprof/budget.js';
import { ProfileError } from '../pprof/errors.js';
import { GrowableUint32 } from '../pprof/growable.js';
import { expectWire, ProtoReader } from '../pprof/proto-reader.js';

/**
 * The ProfilesDictionary of an OTLP profiles request (opentelemetry-proto profiles/v1development,
 * the layout of proto v1.10 that go.opentelemetry.io/collector/pdata/pprofile v0.165 sends):
 * tables shared by every profile of the request, referenced by index, with entry 0 of each table
 * the "unset" value. Laid out as columns of typed arrays like the pprof model, so a request of N
 * bytes costs a small multiple of N.
 *
 * Guarantees of a decoded dictionary: every index one table holds into another (location ->
 * mapping, line -> function, stack -> location, any -> string_table) is within that table, so
 * readers never check them again.
 */
export interface OtlpDictionary {
  /** string_table; an empty table reads as [""]. */
  strings: string[];
  mappings: {
    count: number;
    memoryStart: BigUint64Array;
    memoryLimit: BigUint64Array;
    fileOffset: BigUint64Array;
    /** string_table index. */
    filename: Int32Array;
  };
  locations: {
    count: number;
    /** mapping_table index; 0 is "no mapping". */
    mapping: Int32Array;
    address: BigUint64Array;
    /** The lines of location i are rows lineStart[i] .. lineStart[i+1], innermost (inlined) first. */
    lineStart: Uint32Array;
    /** function_table index of each line; 0 is "no function". */
    lineFunction: Int32Array;
    lineLine: Float64Array;
    lineColumn: Float64Array;
  };
  functions: {
    count: number;
    name: Int32Array;
    systemName: Int32Array;
    filename: Int32Array;
    startLine: Float64Array;
  };
  /** Entries of link_table (trace links are not kept, but link_index is checked against it). */
  linkCount: number;
  attributes: {
    count: number;
    /** string_table index of each key. */
    key: Int32Array;
    /** string_table index of each unit; 0 for none. */
    unit: Int32Array;
    /** Each value as a string, a number, a boolean, or null for an unset value or a kind not kept (array, map, bytes). */
    value: AttributeValue[];
  };
  stacks: {
    count: number;
    /** The locations of stack i are locs[locStart[i] .. locStart[i+1]], leaf first. */
    locStart: Uint32Array;
    /** location_table indexes. */
    locs: Uint32Array;
  };
}

/** An OTLP AnyValue as intake keeps it. */
export type AttributeValue = string | number | boolean | null;

/** Bytes charged per decoded string besides two per character (V8 string header and array slot). */
const STRING_OVERHEAD_BYTES = 32;
/** Bytes charged per attribute entry besides its columns (the value slot, and a value string's header). */
const ATTRIBUTE_OVERHEAD_BYTES = 48;

const MAPPINGS = 1;
const LOCATIONS = 2;
const FUNCTIONS = 3;
const LINKS = 4;
const STRINGS = 5;
const ATTRIBUTES = 6;
const STACKS = 7;

const utf8 = new TextDecoder('utf-8');

/** Field ranges of one table: start and end offsets of each entry's message, in wire order. */
type Entries = Uint32Array;

/**
 * Decodes the dictionary from the given byte ranges of `buf` (one per occurrence of the
 * request's dictionary field: protobuf merges repeated occurrences by appending their tables).
 * Charges every table to `budget` before allocating it. Throws ProfileError naming the table
 * and entry that is malformed or refers outside its target table.
 */
export function decodeDictionary(buf: Uint8Array, ranges: ReadonlyArray<[number, number]>, budget: DecodeBudget): OtlpDictionary {
  const r = new ProtoReader(buf);
  const offsets = Array.from({ length: STACKS + 1 }, () => new GrowableUint32(16));
  // The entry offsets themselves: two uint32 per entry, charged as they are found with room for
  // the growth of their arrays (which double).
  for (const [start, end] of ranges) {
    r.pos = start;
    r.end = end;
    while (r.pos < end) {
      const field = r.readTag();
      if (field >= MAPPINGS && field <= STACKS) {
        expectWire(r.wire, 2, TABLE_NAMES[field]);
        const entryEnd = r.delimitedEnd(TABLE_NAMES[field]);
        budget.charge(16, ENTRIES[field]);
        offsets[field].push(r.pos);
        offsets[field].push(entryEnd);
        r.pos = entryEnd;
      } else {
        r.skip(r.wire, field);
      }
    }
  }
  const tables = offsets.map((o) => o.finish());
  const strings = decodeStrings(buf, tables[STRINGS], budget);
  const dict: OtlpDictionary = {
    strings,
    mappings: decodeMappings(r, tables[MAPPINGS], budget),
    locations: decodeLocations(r, tables[LOCATIONS], budget),
    functions: decodeFunctions(r, tables[FUNCTIONS], budget),
    linkCount: Math.max(1, tables[LINKS].length / 2),
    attributes: decodeAttributes(r, tables[ATTRIBUTES], strings, budget),
    stacks: decodeStacks(r, tables[STACKS], budget),
  };
  checkReferences(dict);
  return dict;
}

const TABLE_NAMES = [
  '',
  'mapping_table',
  'location_table',
  'function_table',
  'link_table',
  'string_table',
  'attribute_table',
  'stack_table',
];
const ENTRIES = TABLE_NAMES.map((t) => `${t} entries`);

function decodeStrings(buf: Uint8Array, entries: Entries, budget: DecodeBudget): string[] {
  if (entries.length === 0) return [''];
  let chars = 0;
  for (let i = 0; i < entries.length; i += 2) chars += entries[i + 1] - entries[i];
  budget.chargeTables([
    { what: `${entries.length / 2} string_table entries`, bytes: (entries.length / 2) * STRING_OVERHEAD_BYTES + 2 * chars },
  ]);
  const out: string[] = new Array(entries.length / 2);
  for (let i = 0; i < entries.length; i += 2) out[i / 2] = utf8.decode(buf.subarray(entries[i], entries[i + 1]));
  return out;
}

function decodeMappings(r: ProtoReader, entries: Entries, budget: DecodeBudget): OtlpDictionary['mappings'] {
  const n = Math.max(1, entries.length / 2);
  budget.chargeTables([{ what: `${n} mapping_table entries`, bytes: n * (8 + 8 + 8 + 4) }]);
  const m = {
    count: n,
    memoryStart: new BigUint64Array(n),
    memoryLimit: new BigUint64Array(n),
    fileOffset: new BigUint64Array(n),
    filename: new Int32Array(n),
  };
  let row = 0;
  try {
    for (let i = 0; i < entries.length; i += 2, row++) {
      r.pos = entries[i];
      r.end = entries[i + 1];
      while (r.pos < r.end) {
        const field = r.readTag();
        if (field >= 1 && field <= 4 && r.wire === 0) {
          if (field === 1) m.memoryStart[row] = r.uint64();
          else if (field === 2) m.memoryLimit[row] = r.uint64();
          else if (field === 3) m.fileOffset[row] = r.uint64();
          else m.filename[row] = int32(r, 'filename_strindex');
        } else {
          // attribute_indices (build ids and the like) are not kept.
          r.skip(r.wire, field);
        }
      }
    }
  } catch (err) {
    throw inEntry(err, 'mapping_table', row);
  }
  return m;
}

function decodeLocations(r: ProtoReader, entries: Entries, budget: DecodeBudget): OtlpDictionary['locations'] {
  const n = Math.max(1, entries.length / 2);
  // First pass: count the lines, so every column is allocated once at its final size.
  let lines = 0;
  for (let i = 0; i < entries.length; i += 2) {
    r.pos = entries[i];
    r.end = entries[i + 1];
    while (r.pos < r.end) {
      const field = r.readTag();
      if (field === 3 && r.wire === 2) lines++;
      r.skip(r.wire, field);
    }
  }
  budget.chargeTables([
    { what: `${n} location_table entries`, bytes: n * (4 + 8 + 4) + 4 },
    { what: `${lines} location lines`, bytes: lines * (4 + 8 + 8) },
  ]);
  const loc = {
    count: n,
    mapping: new Int32Array(n),
    address: new BigUint64Array(n),
    lineStart: new Uint32Array(n + 1),
    lineFunction: new Int32Array(lines),
    lineLine: new Float64Array(lines),
    lineColumn: new Float64Array(lines),
  };
  let line = 0;
  let row = 0;
  try {
    for (let i = 0; i < entries.length; i += 2, row++) {
      loc.lineStart[row] = line;
      r.pos = entries[i];
      const end = entries[i + 1];
      r.end = end;
      while (r.pos < end) {
        const field = r.readTag();
        if (field === 1 && r.wire === 0) loc.mapping[row] = int32(r, 'mapping_index');
        else if (field === 2 && r.wire === 0) loc.address[row] = r.uint64();
        else if (field === 3 && r.wire === 2) {
          const lineEnd = r.delimitedEnd('line');
          r.end = lineEnd;
          while (r.pos < lineEnd) {
            const f = r.readTag();
            const wire: number = r.wire;
            if (f === 1 && wire === 0) loc.lineFunction[line] = int32(r, 'line function_index');
            else if (f === 2 && wire === 0) loc.lineLine[line] = r.int('line number');
            else if (f === 3 && wire === 0) loc.lineColumn[line] = r.int('line column');
            else r.skip(wire, f);
          }
          r.end = end;
          line++;
        } else {
          r.skip(r.wire, field);
        }
      }
    }
  } catch (err) {
    throw inEntry(err, 'location_table', row);
  }
  // Rows past the wire's entries (the implicit zero location of an empty table) have no lines.
  for (let row = entries.length / 2; row <= n; row++) loc.lineStart[row] = line;
  return loc;
}

const FUNCTION_FIELDS = ['', 'name_strindex', 'system_name_strindex', 'filename_strindex', 'start_line'];

function decodeFunctions(r: ProtoReader, entries: Entries, budget: DecodeBudget): OtlpDictionary['functions'] {
  const n = Math.max(1, entries.length / 2);
  budget.chargeTables([{ what: `${n} function_table entries`, bytes: n * (4 + 4 + 4 + 8) }]);
  const fn = {
    count: n,
    name: new Int32Array(n),
    systemName: new Int32Array(n),
    filename: new Int32Array(n),
    startLine: new Float64Array(n),
  };
  let row = 0;
  try {
    for (let i = 0; i < entries.length; i += 2, row++) {
      r.pos = entries[i];
      r.end = entries[i + 1];
      while (r.pos < r.end) {
        const field = r.readTag();
        if (field >= 1 && field <= 4 && r.wire === 0) {
          // Indexes (1-3) go to Int32Arrays, start_line (4) to a Float64Array.
          const v = field === 4 ? r.int('start_line') : int32(r, FUNCTION_FIELDS[field]);
          if (field === 1) fn.name[row] = v;
          else if (field === 2) fn.systemName[row] = v;
          else if (field === 3) fn.filename[row] = v;
          else fn.startLine[row] = v;
        } else {
          r.skip(r.wire, field);
        }
      }
    }
  } catch (err) {
    throw inEntry(err, 'function_table', row);
  }
  return fn;
}

function decodeAttributes(r: ProtoReader, entries: Entries, strings: string[], budget: DecodeBudget): OtlpDictionary['attributes'] {
  const n = Math.max(1, entries.length / 2);
  budget.chargeTables([{ what: `${n} attribute_table entries`, bytes: n * (4 + 4 + ATTRIBUTE_OVERHEAD_BYTES) }]);
  const a = { count: n, key: new Int32Array(n), unit: new Int32Array(n), value: new Array<AttributeValue>(n).fill(null) };
  let row = 0;
  try {
    for (let i = 0; i < entries.length; i += 2, row++) {
      r.pos = entries[i];
      const end = entries[i + 1];
      r.end = end;
      while (r.pos < end) {
        const field = r.readTag();
        if (field === 1 && r.wire === 0) a.key[row] = int32(r, 'key_strindex');
        else if (field === 3 && r.wire === 0) a.unit[row] = int32(r, 'unit_strindex');
        else if (field === 2 && r.wire === 2) {
          const valueEnd = r.delimitedEnd('value');
          a.value[row] = readAnyValue(r, valueEnd, strings, budget, 'value');
          r.pos = valueEnd;
          r.end = end;
        } else {
          r.skip(r.wire, field);
        }
      }
    }
  } catch (err) {
    throw inEntry(err, 'attribute_table', row);
  }
  return a;
}

/**
 * Reads the AnyValue message that ends at `end` (r.pos at its first field); leaves r.end at
 * `end`. Strings given as string_value_strindex are looked up in `strings`; arrays, maps and
 * bytes are skipped (null), never descended into, so no nesting depth can exhaust the stack.
 */
export function readAnyValue(r: ProtoReader, end: number, strings: readonly string[], budget: DecodeBudget, what: string): AttributeValue {
  r.end = end;
  let value: AttributeValue = null;
  while (r.pos < end) {
    const field = r.readTag();
    if (field === 1 && r.wire === 2) {
      const stringEnd = r.delimitedEnd('string_value');
      budget.charge(STRING_OVERHEAD_BYTES + 2 * (stringEnd - r.pos), 'attribute string values');
      value = utf8.decode(r.buf.subarray(r.pos, stringEnd));
      r.pos = stringEnd;
    } else if (field === 2 && r.wire === 0) value = r.bool();
    else if (field === 3 && r.wire === 0) value = r.int('int_value');
    else if (field === 4 && r.wire === 1) {
      if (r.pos + 8 > end) throw new ProfileError(`${what} double_value runs past the end of its message`);
      value = new DataView(r.buf.buffer, r.buf.byteOffset + r.pos, 8).getFloat64(0, true);
      r.pos += 8;
    } else if (field === 8 && r.wire === 0) {
      const index = r.int('string_value_strindex');
      if (outside(index, strings.length)) throw outOfRange(`${what} string_value_strindex`, index, 'string_table', strings.length);
      value = strings[index];
    } else {
      // array_value, kvlist_value, bytes_value: a later field of the oneof replaces an earlier one.
      if (field >= 5 && field <= 7) value = null;
      r.skip(r.wire, field);
    }
  }
  return value;
}

function decodeStacks(r: ProtoReader, entries: Entries, budget: DecodeBudget): OtlpDictionary['stacks'] {
  const n = Math.max(1, entries.length / 2);
  // First pass: count the location indexes (a packed varint ends at each byte below 0x80).
  let total = 0;
  for (let i = 0; i < entries.length; i += 2) {
    r.pos = entries[i];
    r.end = entries[i + 1];
    while (r.pos < r.end) {
      const field = r.readTag();
      if (field === 1 && r.wire === 2) {
        const end = r.delimitedEnd('stack_table location_indices');
        for (let p = r.pos; p < end; p++) if (r.buf[p] < 0x80) total++;
        r.pos = end;
      } else if (field === 1 && r.wire === 0) {
        total++;
        r.readRawVarint();
      } else {
        r.skip(r.wire, field);
      }
    }
  }
  budget.chargeTables([
    { what: `${n} stack_table entries`, bytes: (n + 1) * 4 },
    { what: `${total} stack location indexes`, bytes: total * 4 },
  ]);
  const s = { count: n, locStart: new Uint32Array(n + 1), locs: new Uint32Array(total) };
  let k = 0;
  let row = 0;
  try {
    for (let i = 0; i < entries.length; i += 2, row++) {
      s.locStart[row] = k;
      r.pos = entries[i];
      const end = entries[i + 1];
      r.end = end;
      while (r.pos < end) {
        const field = r.readTag();
        if (field === 1 && (r.wire === 0 || r.wire === 2)) {
          const valuesEnd = r.repeatedEnd(r.wire, 'location_indices');
          while (r.pos < valuesEnd && r.pos < r.end) {
            // Counted above as one per terminating byte; a varint cut off by the field's end throws in int().
            const index = r.int('location index');
            // Checked against location_table with the other references; here only what a Uint32Array holds.
            if (index < 0 || index > 0xffffffff) throw new ProfileError(`location index ${index} is negative or beyond uint32`);
            s.locs[k++] = index;
          }
          r.end = end;
        } else {
          r.skip(r.wire, field);
        }
      }
    }
  } catch (err) {
    throw inEntry(err, 'stack_table', row);
  }
  for (let row = entries.length / 2; row <= n; row++) s.locStart[row] = k;
  return s;
}

/**
 * Reads an int32 field (an index: negative ones arrive as 10-byte varints). Values outside int32
 * are refused here, before an Int32Array would wrap them into a valid-looking index.
 */
function int32(r: ProtoReader, what: string): number {
  const v = r.int(what);
  if (v < -0x80000000 || v > 0x7fffffff) throw new ProfileError(`${what} is ${v}, outside the range of int32`);
  return v;
}

/** True when `index` is not a row of a table of `count` entries. */
export function outside(index: number, count: number): boolean {
  return !(index >= 0 && index < count);
}

/**
 * The error of a table entry: a ProfileError from reading it gets the table and row in front
 * ("function_table[5]: name_strindex is ..."). Messages are built only on failure: a template
 * string per field read would be most of the decode's work.
 */
function inEntry(err: unknown, table: string, row: number): unknown {
  return err instanceof ProfileError ? new ProfileError(`${table}[${row}]: ${err.message}`) : err;
}

/** Returns `index` when it is a row of a table of `count` entries; else throws ProfileError naming both. */
export function checkIndex(index: number, count: number, what: string, table: string): number {
  if (index >= 0 && index < count) return index;
  throw outOfRange(what, index, table, count);
}

export function outOfRange(what: string, index: number, table: string, count: number): ProfileError {
  return new ProfileError(`${what} is ${index}, outside ${table} (${count} ${count === 1 ? 'entry' : 'entries'})`);
}

/** Checks every index one dictionary table holds into another; messages are built only for a bad one. */
function checkReferences(d: OtlpDictionary): void {
  const nStrings = d.strings.length;
  if (d.strings[0] !== '') throw new ProfileError(`string_table[0] must be "" (it is ${JSON.stringify(d.strings[0].slice(0, 64))})`);
  const m = d.mappings;
  for (let i = 0; i < m.count; i++) {
    if (outside(m.filename[i], nStrings))
      throw outOfRange(`mapping_table[${i}].filename_strindex`, m.filename[i], 'string_table', nStrings);
  }
  const f = d.functions;
  for (let i = 0; i < f.count; i++) {
    if (outside(f.name[i], nStrings)) throw outOfRange(`function_table[${i}].name_strindex`, f.name[i], 'string_table', nStrings);
    if (outside(f.systemName[i], nStrings)) {
      throw outOfRange(`function_table[${i}].system_name_strindex`, f.systemName[i], 'string_table', nStrings);
    }
    if (outside(f.filename[i], nStrings))
      throw outOfRange(`function_table[${i}].filename_strindex`, f.filename[i], 'string_table', nStrings);
  }
  const loc = d.locations;
  for (let i = 0; i < loc.count; i++) {
    if (outside(loc.mapping[i], m.count)) throw outOfRange(`location_table[${i}].mapping_index`, loc.mapping[i], 'mapping_table', m.count);
    for (let l = loc.lineStart[i]; l < loc.lineStart[i + 1]; l++) {
      if (outside(loc.lineFunction[l], f.count)) {
        const what = `location_table[${i}] line ${l - loc.lineStart[i]} function_index`;
        throw outOfRange(what, loc.lineFunction[l], 'function_table', f.count);
      }
    }
  }
  const a = d.attributes;
  for (let i = 0; i < a.count; i++) {
    if (outside(a.key[i], nStrings)) throw outOfRange(`attribute_table[${i}].key_strindex`, a.key[i], 'string_table', nStrings);
    if (outside(a.unit[i], nStrings)) throw outOfRange(`attribute_table[${i}].unit_strindex`, a.unit[i], 'string_table', nStrings);
  }
  const s = d.stacks;
  for (let i = 0; i < s.count; i++) {
    for (let k = s.locStart[i]; k < s.locStart[i + 1]; k++) {
      if (outside(s.locs[k], loc.count)) {
        throw outOfRange(`stack_table[${i}] location ${k - s.locStart[i]}`, s.locs[k], 'location_table', loc.count);
      }
    }
  }
}
