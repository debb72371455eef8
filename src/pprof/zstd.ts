import { createRequire } from 'node:module';
import type * as Fzstd from 'fzstd';
import { DecompressedSizeError } from './decompressed-size-error.js';
import { ProfileError } from './errors.js';

const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames have magic 0x184D2A50 to 0x184D2A5F. */
const SKIPPABLE_MAGIC = 0x184d2a50;
/** RFC 8878: no block regenerates more than 128 KiB (nor more than the frame's window). */
const MAX_BLOCK_SIZE = 128 * 1024;
/**
 * fzstd moves its whole window once per block (copyWithin), so a frame costs about
 * blocks × window bytes of memory traffic however little it outputs: a megabyte of empty
 * blocks under an 8 MiB window is terabytes of copying. Decoding may move at most this many
 * times the output limit (4 GiB at the 64 MiB default, about half a second); a real profile
 * needs a small fraction of it (80 blocks × 8 MiB for 10 MB of output).
 */
const WORK_PER_LIMIT_BYTE = 64;

/** One zstd frame as read from its header and block headers, without decoding anything. */
interface FrameLayout {
  /** Offset just past the frame (after its checksum). */
  end: number;
  /** The window fzstd allocates for this frame, in bytes. */
  windowSize: number;
  /** Frame_Content_Size when the header declares it. */
  contentSize: number | null;
  blocks: number;
}

/**
 * The zstd decoder, loaded on first use: most profiles are gzip, and a short-lived process
 * (the CLI) should not pay for loading a module it does not use.
 */
let fzstd: typeof Fzstd | undefined;

/**
 * Returns the concatenated content of the zstd frames in `bytes` (skippable frames are
 * skipped), in bounded memory and time: every frame header and block header is read before the
 * frame is decoded, and a frame whose window or declared content is larger than `maxBytes`, or
 * whose blocks would make the decoder move more than 64 × `maxBytes` of window, is refused
 * before anything is allocated for it (DecompressedSizeError). Output stops as soon as it passes
 * `maxBytes` (DecompressedSizeError). Peak memory is about twice the output plus one window.
 * Corrupt or truncated input is a ProfileError that says so.
 */
export function inflateZstd(bytes: Uint8Array, maxBytes: number): Uint8Array {
  fzstd ??= createRequire(import.meta.url)('fzstd') as typeof Fzstd;
  const { Decompress } = fzstd;
  const chunks: Uint8Array[] = [];
  let total = 0;
  let work = 0;
  const workLimit = WORK_PER_LIMIT_BYTE * maxBytes;
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes.length - pos < 8) throw truncated(pos);
    const magic = readLE(bytes, pos, 4);
    if ((magic & 0xfffffff0) === SKIPPABLE_MAGIC) {
      const end = pos + 8 + readLE(bytes, pos + 4, 4);
      if (end > bytes.length) throw truncated(pos);
      pos = end;
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw new ProfileError(`corrupt zstd: no zstd frame starts at byte ${pos} (trailing garbage?)`);
    const frame = frameLayout(bytes, pos, maxBytes);
    if (frame.contentSize !== null && total + frame.contentSize > maxBytes) {
      throw new DecompressedSizeError(maxBytes, `zstd content size declared by the frame at byte ${pos} (${frame.contentSize} bytes)`);
    }
    work += (frame.blocks + 1) * frame.windowSize;
    if (work > workLimit) {
      throw new DecompressedSizeError(
        maxBytes,
        `decoding work of the zstd frame at byte ${pos} (${frame.blocks} blocks × a ${frame.windowSize}-byte window, over ${WORK_PER_LIMIT_BYTE}× the limit)`,
      );
    }
    const frameStart = pos;
    let frameTotal = 0;
    let finished = false;
    const stream = new Decompress((chunk, final) => {
      total += chunk.length;
      frameTotal += chunk.length;
      if (total > maxBytes) throw new DecompressedSizeError(maxBytes);
      if (frame.contentSize !== null && frameTotal > frame.contentSize) {
        throw new ProfileError(`corrupt zstd: the frame at byte ${frameStart} holds more than the ${frame.contentSize} bytes it declares`);
      }
      if (chunk.length > 0) chunks.push(chunk);
      if (final) finished = true;
    });
    try {
      stream.push(bytes.subarray(pos, frame.end), true);
    } catch (err) {
      if (err instanceof ProfileError) throw err;
      throw new ProfileError(`corrupt zstd: ${(err as Error).message} in the frame at byte ${frameStart}`);
    }
    if (!finished) throw truncated(frameStart);
    if (frame.contentSize !== null && frameTotal !== frame.contentSize) {
      throw new ProfileError(`corrupt zstd: the frame at byte ${frameStart} holds ${frameTotal} bytes but declares ${frame.contentSize}`);
    }
    pos = frame.end;
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/**
 * Reads the header and block headers of the frame at `start` (RFC 8878 section 3.1.1) and
 * returns its layout, refusing what fzstd would otherwise act on unchecked: a window or content
 * size above `maxBytes` (it allocates the window from the header), a dictionary (it does not
 * support them), reserved bits and block types, blocks larger than the format allows.
 */
function frameLayout(bytes: Uint8Array, start: number, maxBytes: number): FrameLayout {
  const descriptor = bytes[start + 4];
  const contentSizeFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  const hasChecksum = (descriptor >> 2) & 1;
  const dictionaryFlag = descriptor & 3;
  if (descriptor & 0x08) throw new ProfileError(`corrupt zstd: the frame at byte ${start} sets a reserved header bit`);
  let pos = start + 5;
  let windowSize = 0;
  if (!singleSegment) {
    const windowDescriptor = bytes[pos++];
    const base = 2 ** (10 + (windowDescriptor >> 3));
    windowSize = base + (base / 8) * (windowDescriptor & 7);
  }
  const dictionaryBytes = [0, 1, 2, 4][dictionaryFlag];
  const contentSizeBytes = [singleSegment, 2, 4, 8][contentSizeFlag];
  if (pos + dictionaryBytes + contentSizeBytes > bytes.length) throw truncated(start);
  const dictionary = readLE(bytes, pos, dictionaryBytes);
  pos += dictionaryBytes;
  if (dictionary !== 0) throw new ProfileError(`unsupported zstd: the frame at byte ${start} needs dictionary ${dictionary}`);
  let contentSize: number | null = null;
  if (contentSizeBytes > 0) {
    contentSize = readLE(bytes, pos, contentSizeBytes) + (contentSizeBytes === 2 ? 256 : 0);
    pos += contentSizeBytes;
  }
  // A single-segment frame's window is its content (fzstd allocates exactly that).
  if (singleSegment) windowSize = contentSize ?? 0;
  if (windowSize > maxBytes) throw new DecompressedSizeError(maxBytes, `zstd window of the frame at byte ${start} (${windowSize} bytes)`);
  if (contentSize !== null && contentSize > maxBytes) {
    throw new DecompressedSizeError(maxBytes, `zstd content size declared by the frame at byte ${start} (${contentSize} bytes)`);
  }
  const maxBlock = Math.min(windowSize, MAX_BLOCK_SIZE);
  let blocks = 0;
  for (;;) {
    if (pos + 3 > bytes.length) throw truncated(start);
    const header = bytes[pos] | (bytes[pos + 1] << 8) | (bytes[pos + 2] << 16);
    const last = header & 1;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === 3) throw new ProfileError(`corrupt zstd: the block at byte ${pos} has the reserved block type`);
    if (size > maxBlock) {
      throw new ProfileError(`corrupt zstd: the block at byte ${pos} is ${size} bytes, more than its frame's maximum of ${maxBlock}`);
    }
    // An RLE block is one byte repeated `size` times; the others carry `size` bytes.
    pos += 3 + (type === 1 ? 1 : size);
    if (pos > bytes.length) throw truncated(start);
    blocks++;
    if (last) break;
  }
  if (hasChecksum) pos += 4;
  if (pos > bytes.length) throw truncated(start);
  return { end: pos, windowSize, contentSize, blocks };
}

function truncated(frameStart: number): ProfileError {
  return new ProfileError(`truncated zstd: the compressed data ends inside the frame that starts at byte ${frameStart}`);
}

/** Reads an unsigned little-endian integer of `n` bytes (n ≤ 8; exact below 2^53). */
function readLE(bytes: Uint8Array, pos: number, n: number): number {
  let value = 0;
  for (let i = n - 1; i >= 0; i--) value = value * 256 + bytes[pos + i];
  return value;
}
