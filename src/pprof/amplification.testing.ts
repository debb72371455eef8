/**
 * Amplification inputs for tests and fuzzers: raw profile.proto messages of a requested size
 * whose records are as small as the wire allows (empty records, empty strings, minimal records
 * with unique ids, a huge count of one field, one huge nested list), so that a naive decoder
 * turns each byte into tens of bytes of tables. Every case is refused by decodeProfile, the
 * `upFront` ones from the record counts alone, before any table is allocated; compress them
 * (gzip, zstd) to get a small upload or file.
 */

/** One class of amplification input. */
export interface AmplificationCase {
  /** Short name, usable in file names and test titles. */
  name: string;
  /** What the error refusing it says (names the table or field). */
  refusal: RegExp;
  /** True when decode refuses it from the record counts, before allocating any table. */
  upFront: boolean;
  /** Returns the raw profile.proto message, `bytes` long give or take a few bytes. */
  make(bytes: number): Buffer;
}

/** `prefix`, then `unit` repeated to make `bytes` in all, then `suffix`. */
function repeated(unit: number[], bytes: number, prefix: number[] = [], suffix: number[] = []): Buffer {
  const n = Math.max(1, Math.floor((bytes - prefix.length - suffix.length) / unit.length));
  const out = Buffer.alloc(prefix.length + n * unit.length + suffix.length);
  Buffer.from(prefix).copy(out, 0);
  out.fill(Buffer.from(unit), prefix.length, prefix.length + n * unit.length);
  Buffer.from(suffix).copy(out, prefix.length + n * unit.length);
  return out;
}

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** Records `tag len (0x08 id)` with ids 1, 2, 3...: the smallest records that decode to distinct rows. */
function uniqueIds(tag: number, bytes: number, suffix: number[] = []): Buffer {
  const out = Buffer.alloc(bytes + 8);
  let pos = 0;
  let id = 1;
  while (pos + 7 <= bytes - suffix.length) {
    const v = varint(id++);
    out[pos++] = tag;
    out[pos++] = 1 + v.length;
    out[pos++] = 0x08;
    for (const b of v) out[pos++] = b;
  }
  for (const b of suffix) out[pos++] = b;
  return out.subarray(0, pos);
}

/** A field `tag` holding `body`, length-delimited. */
function field(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag, ...varint(body.length)]), body]);
}

/** The string table [""], which every valid profile has. */
const EMPTY_STRING = [0x32, 0x00];

export const AMPLIFICATION_CASES: readonly AmplificationCase[] = [
  { name: 'empty-strings', refusal: /string_table entries would need/, upFront: true, make: (n) => repeated([0x32, 0x00], n) },
  { name: 'empty-samples', refusal: /samples would need/, upFront: true, make: (n) => repeated([0x12, 0x00], n) },
  { name: 'empty-mappings', refusal: /mapping records would need/, upFront: true, make: (n) => repeated([0x1a, 0x00], n) },
  { name: 'empty-locations', refusal: /location records would need/, upFront: true, make: (n) => repeated([0x22, 0x00], n) },
  { name: 'empty-functions', refusal: /function records would need/, upFront: true, make: (n) => repeated([0x2a, 0x00], n) },
  { name: 'unique-mappings', refusal: /mapping records would need/, upFront: true, make: (n) => uniqueIds(0x1a, n) },
  { name: 'unique-locations', refusal: /location records would need/, upFront: true, make: (n) => uniqueIds(0x22, n) },
  {
    // Minimal functions with ids of 4 bytes cost ~5.7 bytes per byte, under the budget: large
    // enough, they decode in full, and a last function with id 0 is what refuses the profile.
    name: 'unique-functions',
    refusal: /function (records|ids) would need|function \d+ has id 0, which is reserved/,
    upFront: false,
    make: (n) => uniqueIds(0x2a, n, [...EMPTY_STRING, 0x2a, 0x02, 0x10, 0x00]),
  },
  {
    // 100,000 sample types, then empty samples: n x 100000 values would be allocated before
    // finding out that no sample has any. Refused for its sample types alone.
    name: 'sample-types-then-empty-samples',
    refusal: /more than \d+ sample_type entries/,
    upFront: true,
    make: (n) => repeated([0x12, 0x00], n, [...repeatedArray([0x0a, 0x00], 100_000), ...EMPTY_STRING]),
  },
  {
    // As many sample types as a profile may have, then empty samples.
    name: 'values-of-empty-samples',
    refusal: /samples of 1024 values each need \d+ bytes at least, but the samples hold 0 bytes/,
    upFront: true,
    make: (n) => repeated([0x12, 0x00], n, [...repeatedArray([0x0a, 0x00], 1024), ...EMPTY_STRING]),
  },
  {
    name: 'packed-comments',
    refusal: /comment would need/,
    upFront: false,
    make: (n) => field(0x6a, Buffer.alloc(Math.max(1, n - 8))),
  },
  {
    // One location with millions of empty lines.
    name: 'empty-lines',
    refusal: /location lines would need/,
    upFront: false,
    make: (n) => field(0x22, repeated([0x22, 0x00], n - 8, [0x08, 0x01])),
  },
  {
    // One sample with millions of empty labels.
    name: 'empty-labels',
    refusal: /labels would need/,
    upFront: false,
    make: (n) => Buffer.concat([Buffer.from(EMPTY_STRING), field(0x12, repeated([0x1a, 0x00], n - 8))]),
  },
  {
    // One sample whose stack is millions of references to location 1, and at last to a location
    // that does not exist: the whole stack is decoded before that is found.
    name: 'long-stack',
    refusal: /refers to location id 2, which does not exist/,
    upFront: false,
    make: (n) =>
      Buffer.concat([
        Buffer.from([0x22, 0x02, 0x08, 0x01, ...EMPTY_STRING]),
        field(0x12, field(0x0a, repeated([0x01], n - 16, [], [0x02]))),
      ]),
  },
  {
    // A string that claims far more bytes than the message has.
    name: 'huge-length',
    refusal: /claims \d+ bytes but only \d+ remain/,
    upFront: true,
    make: (n) => Buffer.concat([Buffer.from([0x32, ...varint(2 ** 50)]), Buffer.alloc(Math.max(0, n - 9))]),
  },
];

function repeatedArray(unit: number[], times: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < times; i++) out.push(...unit);
  return out;
}

/** Returns the amplification input `name` (see AMPLIFICATION_CASES) of about `bytes` bytes. */
export function amplificationProfile(name: string, bytes: number): Buffer {
  const c = AMPLIFICATION_CASES.find((x) => x.name === name);
  if (c === undefined) throw new Error(`no amplification case ${name}`);
  return c.make(bytes);
}
