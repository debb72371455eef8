import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import type { Prng } from './prng.js';
import { readVarint, scanWireFields, type WireFields } from './wire-fields.js';

/** What a mutator may use besides its input: the random source, other inputs to splice with, a size ceiling. */
export interface MutationContext {
  rng: Prng;
  /** Uncompressed seed profiles (splice partners). */
  corpus: readonly Uint8Array[];
  /** Ceiling on the size of what a mutator produces (amplification stops there). */
  maxBytes: number;
}

/**
 * One way to damage bytes. Given a non-empty input, `mutate` returns new bytes that differ
 * from it and never modifies the input; the same random state gives the same output.
 */
export interface Mutator {
  name: string;
  mutate(input: Uint8Array, ctx: MutationContext): Uint8Array;
}

/** Byte values that sit on the boundaries parsers test: zero, varint continuation, sign. */
const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff];

/** Varints that sit on the boundaries a decoder must handle: overlong, past 2^53, past 2^64, int32 edges. */
const INTERESTING_VARINTS: readonly number[][] = [
  [0x00],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // 2^64 - 1 (-1 as int64)
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // 11 bytes: longer than any varint
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], // 2^63
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10], // 2^53
  [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10], // 2^53 + 1
  [0xff, 0xff, 0xff, 0xff, 0x07], // 2^31 - 1
  [0x80, 0x80, 0x80, 0x80, 0x08], // 2^31
  [0xff, 0xff, 0xff, 0xff, 0x0f], // 2^32 - 1
  [0x80, 0x80, 0x80, 0x80, 0x10], // 2^32
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // 9 bytes, never terminated
];

/** Returns `bytes` with `replacement` in place of [from, to). */
function replace(bytes: Uint8Array, from: number, to: number, replacement: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(bytes.length - (to - from) + replacement.length);
  out.set(bytes.subarray(0, from), 0);
  out.set(replacement, from);
  out.set(bytes.subarray(to), from + replacement.length);
  return out;
}

/** Returns the varint encoding of a non-negative integer (exact up to 2^53). */
export function encodeVarint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Flips one bit of `bytes` in place: the fallback that keeps every mutator's "output differs" promise. */
function flipOneBit(bytes: Uint8Array, rng: Prng): Uint8Array {
  if (bytes.length > 0) bytes[rng.below(bytes.length)] ^= 1 << rng.below(8);
  return bytes;
}

/** Returns `out`, or `out` with one bit flipped when it equals `input`. */
function differing(out: Uint8Array, input: Uint8Array, rng: Prng): Uint8Array {
  return equalBytes(out, input) ? flipOneBit(out.length === 0 ? out : Uint8Array.from(out), rng) : out;
}

/** The scan of the input, cached by identity: havoc chains start from the same few corpus entries. */
const scanCache = new WeakMap<Uint8Array, WireFields>();
function fieldsOf(bytes: Uint8Array): WireFields {
  let f = scanCache.get(bytes);
  if (!f) {
    f = scanWireFields(bytes);
    scanCache.set(bytes, f);
  }
  return f;
}

/** Returns a random field index with the given wire type, or -1 when there is none (after a few tries). */
function pickField(fields: WireFields, rng: Prng, wire?: number, depth?: number): number {
  if (fields.count === 0) return -1;
  for (let attempt = 0; attempt < 64; attempt++) {
    const i = rng.below(fields.count);
    if ((wire === undefined || fields.wire[i] === wire) && (depth === undefined || fields.depth[i] === depth)) return i;
  }
  return -1;
}

/** Flips 1 to 8 random bits. */
const bitFlip: Mutator = {
  name: 'bit-flip',
  mutate(input, { rng }) {
    const out = Uint8Array.from(input);
    const flips = rng.between(1, 8);
    for (let i = 0; i < flips; i++) out[rng.below(out.length)] ^= 1 << rng.below(8);
    return differing(out, input, rng);
  },
};

/** Sets 1 to 4 random bytes to a boundary value (0, 1, 0x7f, 0x80, 0xff). */
const interestingByte: Mutator = {
  name: 'interesting-byte',
  mutate(input, { rng }) {
    const out = Uint8Array.from(input);
    const n = rng.between(1, 4);
    for (let i = 0; i < n; i++) out[rng.below(out.length)] = rng.pick(INTERESTING_BYTES);
    return differing(out, input, rng);
  },
};

/** Cuts the input short: anywhere, or within the last few bytes (a field cut in half). */
const truncate: Mutator = {
  name: 'truncate',
  mutate(input, { rng }) {
    const keep = rng.chance(0.3) ? Math.max(0, input.length - rng.between(1, Math.min(16, input.length))) : rng.below(input.length);
    return input.slice(0, keep);
  },
};

/** Joins the start of the input with the end of another corpus entry (or of itself). */
const splice: Mutator = {
  name: 'splice',
  mutate(input, { rng, corpus }) {
    const other = corpus.length > 0 && rng.chance(0.8) ? rng.pick(corpus) : input;
    const cut = rng.below(input.length + 1);
    const from = rng.below(other.length + 1);
    const out = new Uint8Array(cut + other.length - from);
    out.set(input.subarray(0, cut), 0);
    out.set(other.subarray(from), cut);
    return differing(out, input, rng);
  },
};

/** Inserts a run of random bytes, of one boundary byte, or a copy of a range of the input. */
const insertRange: Mutator = {
  name: 'insert-range',
  mutate(input, { rng, maxBytes }) {
    const at = rng.below(input.length + 1);
    let run: Uint8Array;
    const kind = rng.below(3);
    if (kind === 0) {
      run = new Uint8Array(rng.between(1, 32));
      for (let i = 0; i < run.length; i++) run[i] = rng.below(256);
    } else if (kind === 1) {
      run = new Uint8Array(rng.between(1, 64)).fill(rng.pick(INTERESTING_BYTES));
    } else {
      const from = rng.below(input.length);
      run = input.slice(from, from + rng.between(1, Math.min(4096, maxBytes)));
    }
    return replace(input, at, at, run);
  },
};

/** Deletes a range: a few bytes, or up to a quarter of the input. */
const deleteRange: Mutator = {
  name: 'delete-range',
  mutate(input, { rng }) {
    const len = rng.chance(0.7) ? rng.between(1, Math.min(16, input.length)) : rng.between(1, Math.max(1, input.length >> 2));
    const from = rng.below(input.length - len + 1);
    return replace(input, from, from + len, []);
  },
};

/**
 * Rewrites one varint (a field's value, a tag or a length): overlong but equal, or a boundary
 * value (2^53 ± 1, 2^63, 2^64 − 1, int32 edges), or longer than ten bytes, or unterminated.
 */
const varintCorrupt: Mutator = {
  name: 'varint',
  mutate(input, { rng }) {
    const fields = fieldsOf(input);
    const i = pickField(fields, rng);
    let from: number;
    let to: number;
    if (i < 0) {
      from = rng.below(input.length);
      to = from + 1;
    } else if (fields.wire[i] === 0 && rng.chance(0.7)) {
      from = fields.value[i];
      to = fields.end[i];
    } else {
      from = fields.start[i];
      to = fields.value[i];
    }
    let replacement: number[];
    if (rng.chance(0.3)) {
      // The same value, padded with continuation bytes: valid protobuf that some readers mishandle.
      const decoded = readVarint(input, from, to);
      replacement = encodeVarint(decoded === null ? 0 : decoded[0]);
      const pad = rng.between(1, 10 - Math.min(9, replacement.length));
      replacement[replacement.length - 1] |= 0x80;
      for (let p = 1; p < pad; p++) replacement.push(0x80);
      replacement.push(0x00);
    } else {
      replacement = rng.pick(INTERESTING_VARINTS);
    }
    return differing(replace(input, from, to, replacement), input, rng);
  },
};

/** Changes one length prefix: 0, ±1, doubled, past the end of the input, 2^31 − 1, 2^64 − 1. */
const lengthCorrupt: Mutator = {
  name: 'length',
  mutate(input, { rng }) {
    const fields = fieldsOf(input);
    const i = pickField(fields, rng, 2);
    if (i < 0) return flipOneBit(Uint8Array.from(input), rng);
    const len = fields.end[i] - fields.payload[i];
    const remaining = input.length - fields.payload[i];
    const choices = [
      0,
      Math.max(0, len - 1),
      len + 1,
      len * 2,
      remaining + 1,
      remaining + rng.between(2, 1 << 20),
      2 ** 31 - 1,
      2 ** 32 + len,
    ];
    const replacement = rng.chance(0.1) ? INTERESTING_VARINTS[1] : encodeVarint(rng.pick(choices));
    return differing(replace(input, fields.value[i], fields.payload[i], replacement), input, rng);
  },
};

/**
 * Amplification, the shape of decompression bombs: one field repeated many times, many empty
 * records, or one record with a huge packed list, up to the size ceiling.
 */
const amplify: Mutator = {
  name: 'amplify',
  mutate(input, { rng, maxBytes }) {
    const room = Math.max(16, maxBytes - input.length);
    // Mostly a few hundred copies; one in eight up to a million (bounded by maxBytes).
    const times = (unit: number): number =>
      Math.max(1, Math.min(2 ** rng.between(1, rng.chance(0.125) ? 20 : 9), Math.floor(room / Math.max(1, unit))));
    const kind = rng.below(3);
    const fields = fieldsOf(input);
    const i = kind === 0 ? pickField(fields, rng, undefined, rng.chance(0.7) ? 0 : undefined) : -1;
    if (i >= 0) {
      const field = input.subarray(fields.start[i], fields.end[i]);
      const n = times(field.length);
      const run = new Uint8Array(field.length * n);
      for (let k = 0; k < n; k++) run.set(field, k * field.length);
      return replace(input, fields.end[i], fields.end[i], run);
    }
    if (kind !== 2) {
      // Empty records of a repeated top-level message or string field: sample 2 … string 6, or a
      // location (4) full of empty lines (4).
      const n = times(2);
      if (rng.chance(0.2)) {
        const body = new Uint8Array(2 * n);
        for (let k = 0; k < n; k++) body[2 * k] = (4 << 3) | 2;
        return replace(input, input.length, input.length, [(4 << 3) | 2, ...encodeVarint(body.length), ...body]);
      }
      const tag = (rng.between(2, 6) << 3) | 2;
      const run = new Uint8Array(2 * n);
      for (let k = 0; k < n; k++) run[2 * k] = tag;
      const at = rng.chance(0.5) ? input.length : rng.below(input.length + 1);
      return replace(input, at, at, run);
    }
    // One sample whose packed location_id (1) or value (2) list holds n ones.
    const n = times(1);
    const list = new Uint8Array(n).fill(1);
    const inner = [(rng.between(1, 2) << 3) | 2, ...encodeVarint(n)];
    const sample = new Uint8Array(inner.length + n);
    sample.set(inner, 0);
    sample.set(list, inner.length);
    return replace(input, input.length, input.length, [(2 << 3) | 2, ...encodeVarint(sample.length), ...sample]);
  },
};

/**
 * Returns `bytes` with [from, to) replaced by `replacement` and the length prefix of
 * `container` (the innermost length-delimited field around the range, -1 for none) and of
 * every field around it rewritten, so the protobuf framing stays valid and the damage is only
 * in what the edit changed: these inputs get past the wire format into validation and beyond.
 */
export function replaceFramed(
  bytes: Uint8Array,
  fields: WireFields,
  container: number,
  from: number,
  to: number,
  replacement: ArrayLike<number>,
): Uint8Array {
  const edits: Array<[number, number, ArrayLike<number>]> = [[from, to, replacement]];
  let delta = replacement.length - (to - from);
  for (let c = container; c >= 0 && delta !== 0; c = fields.parent[c]) {
    const length = encodeVarint(fields.end[c] - fields.payload[c] + delta);
    edits.push([fields.value[c], fields.payload[c], length]);
    delta += length.length - (fields.payload[c] - fields.value[c]);
  }
  // Outer length prefixes come first in the bytes: apply from the last edit backwards.
  edits.sort((a, b) => b[0] - a[0]);
  let out = bytes;
  for (const [f, t, r] of edits) out = replace(out, f, t, r);
  return out;
}

/** Values worth setting a field to: ids and counts at the edges of int32, uint32, float64 precision and uint64. */
const INTERESTING_VALUES: readonly number[][] = [
  [0x00],
  [0x01],
  [0x02],
  encodeVarint(2 ** 31 - 1),
  encodeVarint(2 ** 31),
  encodeVarint(2 ** 32 - 1),
  encodeVarint(2 ** 32),
  encodeVarint(2 ** 53 - 1),
  encodeVarint(2 ** 53),
  INTERESTING_VARINTS[5], // 2^53 + 1
  INTERESTING_VARINTS[3], // 2^63
  INTERESTING_VARINTS[1], // 2^64 - 1
];

/** Sets one varint field (an id, a reference, a value, a line) to a boundary value, keeping the framing valid. */
const framedValue: Mutator = {
  name: 'value',
  mutate(input, { rng }) {
    const fields = fieldsOf(input);
    const i = pickField(fields, rng, 0);
    if (i < 0) return flipOneBit(Uint8Array.from(input), rng);
    const old = readVarint(input, fields.value[i], fields.end[i]);
    const nearby = old === null ? [] : [encodeVarint(old[0] + 1), encodeVarint(Math.max(0, old[0] - 1))];
    const replacement = rng.pick([...INTERESTING_VALUES, ...nearby]);
    return differing(replaceFramed(input, fields, fields.parent[i], fields.value[i], fields.end[i], replacement), input, rng);
  },
};

/** Removes one field anywhere (a sample, a line, a label, a function id), keeping the framing valid. */
const dropField: Mutator = {
  name: 'drop-field',
  mutate(input, { rng }) {
    const fields = fieldsOf(input);
    const i = pickField(fields, rng);
    if (i < 0) return flipOneBit(Uint8Array.from(input), rng);
    return differing(replaceFramed(input, fields, fields.parent[i], fields.start[i], fields.end[i], []), input, rng);
  },
};

/** Repeats one field anywhere a few times (duplicate ids, repeated lines or labels), keeping the framing valid. */
const duplicateField: Mutator = {
  name: 'duplicate-field',
  mutate(input, { rng }) {
    const fields = fieldsOf(input);
    const i = pickField(fields, rng);
    if (i < 0) return flipOneBit(Uint8Array.from(input), rng);
    const field = input.subarray(fields.start[i], fields.end[i]);
    const copies = rng.chance(0.9) ? rng.between(1, 3) : rng.between(4, 64);
    const run = new Uint8Array(field.length * copies);
    for (let k = 0; k < copies; k++) run.set(field, k * field.length);
    return differing(replaceFramed(input, fields, fields.parent[i], fields.end[i], fields.end[i], run), input, rng);
  },
};

/**
 * Replaces the payload of one length-delimited field that holds no fields of its own (a
 * string, a packed list of ids or values): empty, another field's payload, a packed list of
 * boundary values, invalid UTF-8, or itself repeated. The framing stays valid.
 */
const payloadSwap: Mutator = {
  name: 'payload',
  mutate(input, { rng }) {
    const fields = fieldsOf(input);
    let i = -1;
    for (let attempt = 0; attempt < 64 && i < 0; attempt++) {
      const j = pickField(fields, rng, 2);
      if (j >= 0 && (j + 1 >= fields.count || fields.parent[j + 1] !== j)) i = j;
    }
    if (i < 0) return flipOneBit(Uint8Array.from(input), rng);
    const payload = input.subarray(fields.payload[i], fields.end[i]);
    let replacement: ArrayLike<number>;
    const kind = rng.below(5);
    if (kind === 0) {
      replacement = [];
    } else if (kind === 1) {
      const other = pickField(fields, rng, 2);
      replacement = other < 0 ? [] : input.subarray(fields.payload[other], fields.end[other]);
    } else if (kind === 2) {
      const list: number[] = [];
      for (let n = rng.between(1, 8); n > 0; n--) list.push(...rng.pick(INTERESTING_VALUES));
      replacement = list;
    } else if (kind === 3) {
      replacement = [0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80];
    } else {
      const n = rng.between(2, 64);
      const run = new Uint8Array(payload.length * n);
      for (let k = 0; k < n; k++) run.set(payload, k * payload.length);
      replacement = run;
    }
    return differing(replaceFramed(input, fields, i, fields.payload[i], fields.end[i], replacement), input, rng);
  },
};

/** Every mutator, in a fixed order (the order is part of what a seed means). */
export const MUTATORS: readonly Mutator[] = [
  bitFlip,
  interestingByte,
  truncate,
  splice,
  insertRange,
  deleteRange,
  varintCorrupt,
  lengthCorrupt,
  amplify,
  framedValue,
  dropField,
  duplicateField,
  payloadSwap,
];

export type Compression = 'none' | 'gzip' | 'zstd';

let zstdAvailable: boolean | undefined;
/** Whether the `zstd` command is on PATH (fzstd only decompresses, so zstd inputs need it). */
export function hasZstdCommand(): boolean {
  zstdAvailable ??= spawnSync('zstd', ['--version'], { stdio: 'ignore' }).status === 0;
  return zstdAvailable;
}

/**
 * Returns `raw` re-compressed as the server receives profiles: mostly raw, often gzip,
 * sometimes zstd (when the command exists; otherwise gzip), and occasionally with the
 * compressed stream itself damaged afterwards (a bit flip or a truncation).
 */
export function recompress(raw: Uint8Array, rng: Prng): { bytes: Uint8Array; compression: Compression; damaged: boolean } {
  const roll = rng.below(100);
  // zstd needs a process per input (Node 20 has no zstd compressor), so it is the rare one.
  let compression: Compression = roll < 60 ? 'none' : roll < 98 ? 'gzip' : 'zstd';
  if (compression === 'zstd' && !hasZstdCommand()) compression = 'gzip';
  let bytes: Uint8Array = raw;
  if (compression === 'gzip') bytes = gzipSync(raw, { level: rng.chance(0.8) ? 1 : 6 });
  if (compression === 'zstd') {
    const r = spawnSync('zstd', ['-q', '-c', `-${rng.pick([1, 3])}`], { input: raw, maxBuffer: 1 << 30 });
    if (r.status === 0) bytes = r.stdout;
    else compression = 'none';
  }
  let damaged = false;
  if (compression !== 'none' && bytes.length > 0 && rng.chance(0.05)) {
    damaged = true;
    bytes = rng.chance(0.5)
      ? bitFlip.mutate(bytes, { rng, corpus: [], maxBytes: bytes.length })
      : truncate.mutate(bytes, { rng, corpus: [], maxBytes: 0 });
  }
  return { bytes, compression, damaged };
}
