import { gzipSync } from 'node:zlib';
import { concatMembers, gzipMember, gzipMemberSync } from './compression.js';
import {
  MAPPING_HAS_FILENAMES,
  MAPPING_HAS_FUNCTIONS,
  MAPPING_HAS_INLINE_FRAMES,
  MAPPING_HAS_LINE_NUMBERS,
  type Profile,
} from './profile.js';
import { ProtoWriter } from './proto-writer.js';

const encoder = new TextEncoder();

/**
 * Encodes a profile as uncompressed profile.proto bytes. Deterministic: fields are written in
 * field-number order, tables in row order, repeated scalars packed and zero values omitted,
 * so the same profile always gives the same bytes.
 */
export function encodeProfile(p: Profile): Uint8Array {
  return encodeProfileChunks(p, Number.POSITIVE_INFINITY, () => undefined);
}

/**
 * Encodes like encodeProfile, but hands the output over in pieces of about `chunkBytes`, cut
 * between top-level fields, to `onChunk` as soon as each is complete, and returns the last
 * piece. The pieces concatenated are exactly encodeProfile's bytes.
 */
export function encodeProfileChunks(p: Profile, chunkBytes: number, onChunk: (bytes: Uint8Array) => void): Uint8Array {
  const w = new ChunkedWriter(Math.min(estimateSize(p), chunkBytes + (1 << 16)), chunkBytes, onChunk);
  // One function per table: each table's loop is optimized (on-stack replacement) on its own,
  // and the code after one loop is never reached by optimized code made before it ran, which
  // V8 would throw away (deoptimize) on the spot. In a short-lived process that matters.
  for (let i = 0; i < p.sampleTypes.length; i += 2) {
    const m = w.begin(1);
    w.uintField(1, p.sampleTypes[i]);
    w.uintField(2, p.sampleTypes[i + 1]);
    w.end(m);
  }
  encodeSamples(w, p);
  encodeMappings(w, p);
  encodeLocations(w, p);
  encodeFunctions(w, p);
  encodeStrings(w, p);
  w.uintField(7, p.dropFrames);
  w.uintField(8, p.keepFrames);
  w.bigField(9, p.timeNanos);
  w.bigField(10, p.durationNanos);
  if (p.periodType[0] !== 0 || p.periodType[1] !== 0) {
    const m = w.begin(11);
    w.uintField(1, p.periodType[0]);
    w.uintField(2, p.periodType[1]);
    w.end(m);
  }
  w.bigField(12, p.period);
  if (p.comments.length > 0) {
    const m = w.begin(13);
    for (let i = 0; i < p.comments.length; i++) w.varint(p.comments[i]);
    w.end(m);
  }
  w.uintField(14, p.defaultSampleType);
  w.uintField(15, p.docUrl);
  return w.finish();
}

/** A ProtoWriter that hands its bytes over whenever `chunkBytes` are complete (see flush). */
class ChunkedWriter extends ProtoWriter {
  constructor(
    capacity: number,
    private readonly chunkBytes: number,
    private readonly onChunk: (bytes: Uint8Array) => void,
  ) {
    super(capacity);
  }

  /** Hands the bytes written so far over if they are at least a chunk; call between top-level fields. */
  flush(): void {
    if (this.pos >= this.chunkBytes) {
      this.onChunk(this.buf.subarray(0, this.pos));
      this.buf = new Uint8Array(this.buf.length);
      this.pos = 0;
    }
  }
}

function encodeSamples(w: ChunkedWriter, p: Profile): void {
  const s = p.samples;
  const locIds = p.locations.id;
  const nValues = p.sampleTypes.length >> 1;
  for (let i = 0; i < s.count; i++) {
    const m = w.begin(2);
    const a = s.locStart[i];
    const b = s.locStart[i + 1];
    if (b > a) {
      // The bulk of a profile: the packed location ids, written without a call per id.
      const packed = w.begin(1);
      w.ensure((b - a) * 10);
      const buf = w.buf;
      let pos = w.pos;
      for (let j = a; j < b; j++) {
        let id = locIds[s.locs[j]];
        if (id > 0xffffffff) {
          w.pos = pos;
          w.varint(id);
          pos = w.pos;
          continue;
        }
        while (id >= 0x80) {
          buf[pos++] = (id & 0x7f) | 0x80;
          id >>>= 7;
        }
        buf[pos++] = id;
      }
      w.pos = pos;
      w.end(packed);
    }
    if (nValues > 0) {
      const packed = w.begin(2);
      const base = i * nValues;
      for (let j = 0; j < nValues; j++) w.signed(s.values[base + j]);
      w.end(packed);
    }
    for (let l = s.labelStart[i]; l < s.labelStart[i + 1]; l++) {
      const lm = w.begin(3);
      w.uintField(1, s.labelKey[l]);
      w.uintField(2, s.labelStr[l]);
      w.intField(3, s.labelNum[l]);
      w.uintField(4, s.labelNumUnit[l]);
      w.end(lm);
    }
    w.end(m);
    w.flush();
  }
}

/** The Mapping field of each MAPPING_HAS_* flag. */
const MAPPING_FLAG_FIELDS: ReadonlyArray<readonly [number, number]> = [
  [7, MAPPING_HAS_FUNCTIONS],
  [8, MAPPING_HAS_FILENAMES],
  [9, MAPPING_HAS_LINE_NUMBERS],
  [10, MAPPING_HAS_INLINE_FRAMES],
];

function encodeMappings(w: ChunkedWriter, p: Profile): void {
  const maps = p.mappings;
  for (let i = 0; i < maps.count; i++) {
    const m = w.begin(3);
    w.uintField(1, maps.id[i]);
    w.bigField(2, maps.memoryStart[i]);
    w.bigField(3, maps.memoryLimit[i]);
    w.bigField(4, maps.fileOffset[i]);
    w.uintField(5, maps.filename[i]);
    w.uintField(6, maps.buildId[i]);
    // has_functions, has_filenames, has_line_numbers, has_inline_frames (fields 7 to 10).
    for (const [field, flag] of MAPPING_FLAG_FIELDS) w.boolField(field, (maps.flags[i] & flag) !== 0);
    w.end(m);
  }
}

function encodeLocations(w: ChunkedWriter, p: Profile): void {
  const locs = p.locations;
  const mapIds = p.mappings.id;
  const fnIds = p.functions.id;
  // Addresses are read as two 32-bit words: no bigint is made per location.
  const addressWords = new Uint32Array(locs.address.buffer, locs.address.byteOffset, locs.count * 2);
  for (let i = 0; i < locs.count; i++) {
    const m = w.begin(4);
    w.uintField(1, locs.id[i]);
    if (locs.mapping[i] >= 0) w.uintField(2, mapIds[locs.mapping[i]]);
    w.uint64WordsField(3, addressWords[2 * i], addressWords[2 * i + 1]);
    for (let l = locs.lineStart[i]; l < locs.lineStart[i + 1]; l++) {
      const lm = w.begin(4);
      const fn = locs.lineFunction[l];
      if (fn >= 0) w.uintField(1, fnIds[fn]);
      w.intField(2, locs.lineLine[l]);
      w.intField(3, locs.lineColumn[l]);
      w.end(lm);
    }
    w.boolField(5, locs.isFolded[i] !== 0);
    w.end(m);
    w.flush();
  }
}

function encodeFunctions(w: ChunkedWriter, p: Profile): void {
  const fns = p.functions;
  // name, system_name, filename: fields 2 to 4.
  const names = [fns.name, fns.systemName, fns.filename];
  for (let i = 0; i < fns.count; i++) {
    const m = w.begin(5);
    w.uintField(1, fns.id[i]);
    for (let c = 0; c < 3; c++) w.uintField(2 + c, names[c][i]);
    w.intField(5, fns.startLine[i]);
    w.end(m);
  }
}

function encodeStrings(w: ChunkedWriter, p: Profile): void {
  for (const str of p.strings) {
    w.tag(6, 2);
    w.ensure(str.length * 3 + 5);
    // Encode straight into the output after a provisional one-byte length.
    const mark = w.pos++;
    const { written } = encoder.encodeInto(str, w.buf.subarray(w.pos));
    w.pos += written ?? 0;
    w.end(mark);
  }
}

/** Encodes a profile and gzips it, as Go's runtime/pprof and `go tool pprof -proto` write them. */
export function encodeProfileGzip(p: Profile, level = 6): Buffer {
  return gzipSync(encodeProfile(p), { level });
}

/**
 * Encodes a profile and gzips it on the thread pool, 1 MiB pieces as separate gzip members.
 * Level 1 by default: on profile data it is about twice as fast as level 6 for a file a few
 * percent larger, which is the right trade for merged profiles that are read once.
 */
export function encodeProfileGzipAsync(p: Profile, level = MERGED_GZIP_LEVEL): Promise<Buffer> {
  return concatMembers(encodeProfileGzipMembers(p, level));
}

/**
 * Like encodeProfileGzipAsync, but returns the gzip members, in order, each as soon as it is
 * compressed, so a caller can write the first ones while the last ones are compressed. The
 * members concatenated are exactly encodeProfileGzipAsync's bytes.
 */
export function encodeProfileGzipMembers(p: Profile, level = MERGED_GZIP_LEVEL): Array<Promise<Buffer>> {
  // Each piece becomes its own gzip member, compressed on the thread pool while the next
  // piece is encoded: encoding and compression overlap and use both cores.
  const members: Array<Promise<Buffer>> = [];
  const last = encodeProfileChunks(p, GZIP_MEMBER_BYTES, (bytes) => members.push(gzipMember(bytes, level)));
  members.push(gzipMember(last, level));
  return members;
}

/**
 * encodeProfileGzipMembers on the calling thread: the same members, hence the same bytes, for a
 * short-lived process with a small profile, where starting zlib streams on the thread pool
 * costs more main-thread time than compressing in place.
 */
export function encodeProfileGzipMembersSync(p: Profile, level = MERGED_GZIP_LEVEL): Buffer[] {
  const members: Buffer[] = [];
  const last = encodeProfileChunks(p, GZIP_MEMBER_BYTES, (bytes) => members.push(gzipMemberSync(bytes, level)));
  members.push(gzipMemberSync(last, level));
  return members;
}

/**
 * Size of the pieces compressed in parallel. Each costs ~0.5 ms of main-thread time to start
 * (a zlib stream and its deflate state), so 256 KiB pieces, which leave less to compress
 * after the last byte is encoded, were no faster overall than 1 MiB ones and made the file
 * 0.2% larger.
 */
export const GZIP_MEMBER_BYTES = 1 << 20;

/** The gzip level of merged profiles (encodeProfileGzipAsync says why). */
export const MERGED_GZIP_LEVEL = 1;

function estimateSize(p: Profile): number {
  return 1024 + p.samples.locs.length * 3 + p.samples.count * 24 + p.locations.count * 24 + p.functions.count * 16 + p.strings.length * 24;
}
