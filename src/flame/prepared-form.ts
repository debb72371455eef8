import { crc32 } from 'node:zlib';
import { GrowableFloat64 } from '../pprof/growable.js';
import type { Profile } from '../pprof/profile.js';
import { hashWords, sameWords } from '../pprof/word-hash.js';
import { CallTreeDictionary } from './call-tree-dictionary.js';
import { mainModuleOf } from './main-module.js';

/**
 * A CPU profile's call tree in function-name space, every value column kept: what the flame
 * graph views merge instead of the raw profile. Labels, addresses, line numbers and mappings are
 * gone, so a profile with a label set per sample is no larger here than one without.
 *
 * The tree is exactly the one FlameTreeAccumulator.add builds from the same profile: each
 * sample's stack, root first with inlined frames expanded ("?" for a line without a function),
 * samples whose values are all zero left out. Node 0 is the root; nodes are in creation order,
 * so a parent always comes before its children.
 */
export interface PreparedForm {
  sampleTypes: Array<{ type: string; unit: string }>;
  /** The profiled program's own module (mainModuleOf), or null when the profile does not tell. */
  mainModule: string | null;
  /** Function names the nodes use; names[0] is the root's, "total". */
  names: string[];
  /** Per node, its parent's node number (-1 for the root). */
  parent: Int32Array;
  /** Per node, its function name as an index into `names`. */
  name: Int32Array;
  /** Per node and value column, the value of samples whose leaf frame is this node: self[node * V + column]. */
  self: Float64Array;
}

/** Thrown by decodePreparedForm for bytes that are not a whole, well-formed prepared form. */
export class PreparedFormError extends Error {
  override name = 'PreparedFormError';
}

/** "HPF" and the format version; a reader refuses any other version rather than guess. */
const MAGIC = [0x48, 0x50, 0x46];
const VERSION = 1;
/** Header flag: values are stored as float64 (some value is not a non-negative safe integer). */
const FLAG_FLOAT_VALUES = 1;
/** Most value columns and nodes one form may hold: far beyond any real profile, small enough to bound what a corrupt header can ask for. */
const MAX_COLUMNS = 64;
const MAX_NODES = 1 << 26;
/** Most distinct function names one form builds (the same bound as FlameTreeAccumulator's). */
const MAX_NAMES = 1 << 24;

/** Returns the prepared form of `p` (see PreparedForm), built in one pass over its samples. */
export function preparedFormOf(p: Profile): PreparedForm {
  const V = p.sampleTypes.length >> 1;
  const fnCount = p.functions.count;
  // Function rows → name numbers local to this form; functions of the same name share one.
  const names: string[] = ['total'];
  const nameNumber = new Map<string, number>([['total', 0]]);
  const intern = (s: string): number => {
    let n = nameNumber.get(s);
    if (n === undefined) {
      n = names.length;
      if (n >= MAX_NAMES) throw new RangeError(`more than ${MAX_NAMES} distinct function names`);
      names.push(s);
      nameNumber.set(s, n);
    }
    return n;
  };
  const fnName = new Int32Array(fnCount);
  for (let f = 0; f < fnCount; f++) fnName[f] = intern(p.strings[p.functions.name[f]]);
  let unknown = -1;

  const tree = new CallTreeDictionary(MAX_NODES, false);
  const self = new GrowableFloat64(1024);
  for (let c = 0; c < V; c++) self.push(0);
  // Samples with the same stack (they differ only in labels) end at the same node: the first
  // sample of each stack is found through an open-addressing table of sample numbers by stack hash.
  const s = p.samples;
  const locs = p.locations;
  let size = 16;
  while (size < s.count * 2) size *= 2;
  const mask = size - 1;
  const firstOfStack = new Int32Array(size).fill(-1);
  const leafOf = new Int32Array(s.count);
  for (let i = 0; i < s.count; i++) {
    let nonZero = false;
    for (let c = 0; c < V; c++) if (s.values[i * V + c] !== 0) nonZero = true;
    if (!nonZero) continue;
    const from = s.locStart[i];
    const length = s.locStart[i + 1] - from;
    let slot = hashWords(s.locs, from, from + length, 0) & mask;
    let leaf = -1;
    for (;;) {
      const other = firstOfStack[slot];
      if (other < 0) break;
      const oFrom = s.locStart[other];
      if (s.locStart[other + 1] - oFrom === length && sameWords(s.locs, oFrom, s.locs, from, length)) {
        leaf = leafOf[other];
        break;
      }
      slot = (slot + 1) & mask;
    }
    if (leaf < 0) {
      // Root first: the stack's last location first, and within a location its outermost line
      // (the last) first, so no frame list is built and reversed.
      let node = 0;
      for (let j = from + length - 1; j >= from; j--) {
        const loc = s.locs[j];
        for (let l = locs.lineStart[loc + 1] - 1; l >= locs.lineStart[loc]; l--) {
          const f = locs.lineFunction[l];
          if (f < 0 && unknown < 0) unknown = intern('?');
          node = tree.childOf(node, f < 0 ? unknown : fnName[f]);
          if (node * V >= self.length) for (let c = 0; c < V; c++) self.push(0);
        }
      }
      leaf = node;
      firstOfStack[slot] = i;
    }
    leafOf[i] = leaf;
    for (let c = 0; c < V; c++) self.data[leaf * V + c] += s.values[i * V + c];
  }
  const sampleTypes: PreparedForm['sampleTypes'] = [];
  for (let t = 0; t < p.sampleTypes.length; t += 2) {
    sampleTypes.push({ type: p.strings[p.sampleTypes[t]], unit: p.strings[p.sampleTypes[t + 1]] });
  }
  return {
    sampleTypes,
    mainModule: mainModuleOf(p),
    names,
    parent: tree.parent.finish().slice(),
    name: tree.name.finish().slice(),
    self: self.finish().slice(),
  };
}

/**
 * The form of a CPU profile that the flame graph views merge instead of the raw profile: built
 * once at ingest, stored beside the raw attachments. Returns the encoded bytes (see
 * encodePreparedBytes for the layout); never empty.
 */
export function encodePreparedForm(p: Profile): Uint8Array {
  return encodePreparedBytes(preparedFormOf(p));
}

/** Growable byte buffer with protobuf-style varints (7 bits a byte, low first) up to 2^53. */
class ByteWriter {
  bytes: Uint8Array;
  private view: DataView;
  at = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(capacity, 64));
    this.view = new DataView(this.bytes.buffer);
  }

  private room(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.at));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  varint(v: number): void {
    this.room(8);
    const bytes = this.bytes;
    // Below 2^31 the bit operators are exact and much cheaper than % and Math.floor.
    if (v < 0x80000000) {
      while (v >= 0x80) {
        bytes[this.at++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      bytes[this.at++] = v;
      return;
    }
    while (v >= 0x80) {
      bytes[this.at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    bytes[this.at++] = v;
  }

  float(v: number): void {
    this.room(8);
    this.view.setFloat64(this.at, v, true);
    this.at += 8;
  }

  /** A varint byte length and the UTF-8 of `s`, as TextEncoder writes it (a lone surrogate as U+FFFD). */
  string(s: string): void {
    const length = utf8Length(s);
    this.varint(length);
    this.room(length);
    const bytes = this.bytes;
    if (length === s.length) {
      // ASCII, nearly every function name: a loop beats a call into TextEncoder for short strings.
      for (let i = 0; i < length; i++) bytes[this.at + i] = s.charCodeAt(i);
    } else {
      encoder.encodeInto(s, bytes.subarray(this.at, this.at + length));
    }
    this.at += length;
  }

  raw(b: number): void {
    this.room(1);
    this.bytes[this.at++] = b;
  }
}

/** Bytes of `s` in UTF-8 as TextEncoder writes it: a surrogate pair is 4 bytes, a lone surrogate 3 (U+FFFD). */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2;
      i++;
    } else n += 2;
  }
  return n;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes a prepared form: magic "HPF", version byte, flags byte; the value columns (count, then
 * type and unit strings); the main module (0, or 1 and the string); the names (count, strings);
 * the nodes after the root (count, then per node the distance back to its parent and its name);
 * the nodes with a non-zero value (count, then per node the distance from the previous one and
 * its value per column, as varints, or float64 when FLAG_FLOAT_VALUES is set). Strings are a
 * varint byte length and UTF-8. The last four bytes are the CRC-32 (little-endian) of all before
 * them, so a blob damaged at rest is refused rather than drawn wrong.
 */
export function encodePreparedBytes(form: PreparedForm): Uint8Array {
  const V = form.sampleTypes.length;
  const n = form.parent.length;
  let flags = 0;
  let valued = 0;
  for (let i = 0; i < n; i++) {
    let any = false;
    for (let c = 0; c < V; c++) {
      const v = form.self[i * V + c];
      if (v !== 0) any = true;
      if (!(Number.isSafeInteger(v) && v >= 0)) flags |= FLAG_FLOAT_VALUES;
    }
    if (any) valued++;
  }
  // Nearly every form fits its first buffer: a few bytes per node and per name character.
  let nameChars = 0;
  for (const name of form.names) nameChars += name.length + 2;
  const w = new ByteWriter(64 + nameChars + n * 4 + valued * V * (flags & FLAG_FLOAT_VALUES ? 9 : 4));
  for (const b of MAGIC) w.raw(b);
  w.raw(VERSION);
  w.raw(flags);
  w.varint(V);
  for (const t of form.sampleTypes) {
    w.string(t.type);
    w.string(t.unit);
  }
  if (form.mainModule === null) w.varint(0);
  else {
    w.varint(1);
    w.string(form.mainModule);
  }
  w.varint(form.names.length);
  for (const name of form.names) w.string(name);
  w.varint(n - 1);
  for (let i = 1; i < n; i++) {
    w.varint(i - form.parent[i]);
    w.varint(form.name[i]);
  }
  w.varint(valued);
  let previous = -1;
  for (let i = 0; i < n; i++) {
    let any = false;
    for (let c = 0; c < V; c++) if (form.self[i * V + c] !== 0) any = true;
    if (!any) continue;
    w.varint(i - previous - 1);
    previous = i;
    for (let c = 0; c < V; c++) {
      if (flags & FLAG_FLOAT_VALUES) w.float(form.self[i * V + c]);
      else w.varint(form.self[i * V + c]);
    }
  }
  const out = new Uint8Array(w.at + 4);
  out.set(w.bytes.subarray(0, w.at));
  new DataView(out.buffer).setUint32(w.at, crc32(out.subarray(0, w.at)), true);
  return out;
}

/** Reads a prepared form; every count and length is checked against the bytes left before anything is allocated. */
class ByteReader {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}

  get left(): number {
    return this.bytes.length - this.at;
  }

  varint(what: string): number {
    // One byte is the common case (parent distances, names, small values).
    const first = this.at < this.bytes.length ? this.bytes[this.at] : 0x80;
    if (first < 0x80) {
      this.at++;
      return first;
    }
    return this.longVarint(what);
  }

  private longVarint(what: string): number {
    let v = 0;
    let scale = 1;
    for (let k = 0; k < 8; k++) {
      if (this.at >= this.bytes.length) throw new PreparedFormError(`cut short in ${what} at byte ${this.at}`);
      const b = this.bytes[this.at++];
      v += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(v)) throw new PreparedFormError(`${what} at byte ${this.at} is beyond 2^53`);
        return v;
      }
      scale *= 0x80;
    }
    throw new PreparedFormError(`${what} at byte ${this.at} is not a varint of at most 8 bytes`);
  }

  /** A count of items of at least `minBytes` bytes each, checked against what is left and against `max`. */
  count(what: string, minBytes: number, max: number): number {
    const n = this.varint(what);
    if (n > max) throw new PreparedFormError(`${what} ${n} is over the limit of ${max}`);
    if (n * minBytes > this.left) throw new PreparedFormError(`${what} ${n} needs more than the ${this.left} bytes left`);
    return n;
  }

  string(what: string): string {
    const length = this.varint(`${what} length`);
    if (length > this.left) throw new PreparedFormError(`${what} of ${length} bytes runs past the end (${this.left} left)`);
    let s: string;
    try {
      s = decoder.decode(this.bytes.subarray(this.at, this.at + length));
    } catch {
      throw new PreparedFormError(`${what} at byte ${this.at} is not UTF-8`);
    }
    this.at += length;
    return s;
  }

  float(what: string): number {
    if (this.left < 8) throw new PreparedFormError(`cut short in ${what} at byte ${this.at}`);
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset).getFloat64(this.at, true);
    this.at += 8;
    if (!Number.isFinite(v)) throw new PreparedFormError(`${what} at byte ${this.at - 8} is not a finite number`);
    return v;
  }
}

/** Returns the prepared form in `bytes`; throws PreparedFormError naming what is wrong with bytes that are not one. */
export function decodePreparedForm(sealed: Uint8Array): PreparedForm {
  if (sealed.length < MAGIC.length + 2 || MAGIC.some((b, i) => sealed[i] !== b)) {
    throw new PreparedFormError('not a prepared flame form (no "HPF" header)');
  }
  if (sealed[3] !== VERSION) throw new PreparedFormError(`prepared form version ${sealed[3]}, this server reads version ${VERSION}`);
  if (sealed.length < MAGIC.length + 2 + 4) throw new PreparedFormError(`cut short: ${sealed.length} bytes`);
  const bytes = sealed.subarray(0, sealed.length - 4);
  const stored = new DataView(sealed.buffer, sealed.byteOffset).getUint32(bytes.length, true);
  if (crc32(bytes) !== stored) throw new PreparedFormError('checksum mismatch: the prepared form is damaged or cut short');
  const flags = bytes[4];
  if ((flags & ~FLAG_FLOAT_VALUES) !== 0) throw new PreparedFormError(`unknown prepared form flags ${flags}`);
  const r = new ByteReader(bytes);
  r.at = 5;
  const V = r.count('value column count', 2, MAX_COLUMNS);
  const sampleTypes: PreparedForm['sampleTypes'] = [];
  for (let c = 0; c < V; c++) sampleTypes.push({ type: r.string('sample type'), unit: r.string('sample unit') });
  const hasModule = r.varint('main module flag');
  if (hasModule > 1) throw new PreparedFormError(`main module flag ${hasModule} is neither 0 nor 1`);
  const mainModule = hasModule === 1 ? r.string('main module') : null;
  const nameCount = r.count('name count', 1, MAX_NAMES);
  if (nameCount === 0) throw new PreparedFormError('the name table is empty: it must hold the root, "total"');
  const names = new Array<string>(nameCount);
  for (let k = 0; k < nameCount; k++) names[k] = r.string('function name');
  const nodes = r.count('node count', 2, MAX_NODES - 1) + 1;
  const parent = new Int32Array(nodes);
  const name = new Int32Array(nodes);
  parent[0] = -1;
  for (let i = 1; i < nodes; i++) {
    const back = r.varint('parent distance');
    if (back < 1 || back > i) throw new PreparedFormError(`node ${i} names parent ${i - back}, not an earlier node`);
    parent[i] = i - back;
    const nm = r.varint('node name');
    if (nm >= nameCount) throw new PreparedFormError(`node ${i} names function ${nm}, beyond the ${nameCount} names`);
    name[i] = nm;
  }
  const float = (flags & FLAG_FLOAT_VALUES) !== 0;
  const valued = r.count('valued node count', 1 + V * (float ? 8 : 1), nodes);
  const self = new Float64Array(nodes * V);
  let previous = -1;
  for (let k = 0; k < valued; k++) {
    const i = previous + 1 + r.varint('valued node distance');
    if (i >= nodes) throw new PreparedFormError(`value for node ${i}, beyond the ${nodes} nodes`);
    previous = i;
    for (let c = 0; c < V; c++) self[i * V + c] = float ? r.float('value') : r.varint('value');
  }
  if (r.left !== 0) throw new PreparedFormError(`${r.left} bytes after the end of the prepared form`);
  return { sampleTypes, mainModule, names, parent, name, self };
}
