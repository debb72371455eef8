import { gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, DecompressedSizeError } from './decompressed-size-error.js';
import { ProfileError } from './errors.js';
import { inflateZstd } from './zstd.js';
import { inflateZstdOffThread } from './zstd-pool.js';

export { DEFAULT_MAX_DECOMPRESSED_BYTES, DecompressedSizeError } from './decompressed-size-error.js';
export { DecompressionBusyError } from './zstd-pool.js';

export type Compression = 'gzip' | 'zstd' | 'none';

/**
 * Returns the compression of a profile by its magic bytes. dd-trace-go sends zstd or gzip
 * without saying which, so the bytes are the only reliable signal.
 */
export function sniffCompression(bytes: Uint8Array): Compression {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  if (bytes.length >= 4 && bytes[0] === 0x28 && bytes[1] === 0xb5 && bytes[2] === 0x2f && bytes[3] === 0xfd) return 'zstd';
  return 'none';
}

/**
 * Returns the uncompressed bytes of a gzip, zstd or raw payload on the calling thread (for
 * the CLI), refusing to produce more than `maxBytes`: a decompression bomb fails fast with
 * DecompressedSizeError instead of exhausting memory, and zstd headers cannot make the decoder
 * allocate beyond the limit (see inflateZstd). Other bad input is a ProfileError.
 */
export function decompress(bytes: Uint8Array, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Uint8Array {
  const kind = sniffCompression(bytes);
  if (kind === 'gzip') return gunzipLimited(bytes, maxBytes);
  if (kind === 'zstd') return inflateZstd(bytes, maxBytes);
  if (bytes.length > maxBytes) throw new DecompressedSizeError(maxBytes);
  return bytes;
}

/** Returns the ProfileError that says what a zlib inflate error means for the user. */
function gzipError(err: unknown, maxBytes: number): ProfileError {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) return new DecompressedSizeError(maxBytes);
  if (e.code === 'Z_BUF_ERROR' || /unexpected end/i.test(e.message)) {
    return new ProfileError('truncated gzip: the compressed data ends before the gzip stream does');
  }
  return new ProfileError(`corrupt gzip: ${e.message}`);
}

function gunzipLimited(bytes: Uint8Array, maxBytes: number): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (err) {
    throw gzipError(err, maxBytes);
  }
}

/**
 * Like decompress, but never inflates on the calling thread: gzip on libuv's thread pool,
 * zstd in a small pool of worker threads (see zstd-pool.ts), so several inputs inflate in
 * parallel with each other and with decoding on the main thread, and a bomb keeps nobody else
 * waiting. Same limits and errors as decompress; zstd may also fail with DecompressionBusyError
 * when too many inputs are already waiting for a worker.
 */
export function decompressAsync(bytes: Uint8Array, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Promise<Uint8Array> {
  const kind = sniffCompression(bytes);
  if (kind === 'zstd') return inflateZstdOffThread(bytes, maxBytes);
  if (kind === 'none') {
    return bytes.length > maxBytes ? Promise.reject(new DecompressedSizeError(maxBytes)) : Promise.resolve(bytes);
  }
  return new Promise((resolve, reject) => {
    // One big output chunk lets the thread pool inflate the whole file in one job. With the
    // default 16 KiB chunks, every chunk needs a turn of the main thread's event loop, so
    // files would not inflate while the main thread is busy decoding another one.
    // Never more than the former guess of 8x the input, whatever the trailer claims.
    const chunkSize = Math.min(maxBytes, Math.max(64 * 1024, Math.min(gzipSizeHint(bytes) ?? Number.POSITIVE_INFINITY, bytes.length * 8)));
    gunzip(bytes, { maxOutputLength: maxBytes, chunkSize }, (err, out) => (err ? reject(gzipError(err, maxBytes)) : resolve(out)));
  });
}

/**
 * The uncompressed size a gzip file announces in its trailer (ISIZE: the size modulo 2^32
 * of its last member, so exact for the usual one-member file), plus a little room, or
 * undefined when it says nothing plausible. Only a size hint: a wrong one costs an extra
 * output chunk, never a wrong result. Sizing the output chunk by it instead of 8 times the
 * input no longer reserves ~13 MB per 1.5 MB profile, which V8 counted as external memory
 * and answered with garbage collections.
 */
function gzipSizeHint(bytes: Uint8Array): number | undefined {
  if (bytes.length < 18) return undefined;
  const end = bytes.length;
  const size = (bytes[end - 4] | (bytes[end - 3] << 8) | (bytes[end - 2] << 16) | (bytes[end - 1] << 24)) >>> 0;
  return size > 0 ? size + 64 : undefined;
}

/**
 * Starts gzip-compressing `part` on the thread pool as one self-contained gzip member. The
 * output chunk is sized for the whole member, so the compression runs to completion in one
 * pool job even while the main thread is busy (see decompressAsync).
 */
export function gzipMember(part: Uint8Array, level: number): Promise<Buffer> {
  const chunkSize = Math.max(64 * 1024, Math.ceil(part.length * 1.01) + 1024);
  return new Promise((resolve, reject) =>
    gzip(part, { level, memLevel: GZIP_MEM_LEVEL, chunkSize }, (err, out) => (err ? reject(err) : resolve(out))),
  );
}

/**
 * memLevel 9 (zlib's maximum, default 8): on profiles less CPU and a slightly smaller output,
 * for 128 KiB more memory per member being compressed.
 */
const GZIP_MEM_LEVEL = 9;

/** gzipMember on the calling thread, for code that already runs off the main thread (a worker). */
export function gzipMemberSync(part: Uint8Array, level: number): Buffer {
  return gzipSync(part, { level, memLevel: GZIP_MEM_LEVEL });
}

/**
 * Returns the gzip members in order, concatenated: the multi-member stream every gzip reader
 * (Go's compress/gzip, pprof, zlib) reads as one.
 */
export async function concatMembers(members: Array<Promise<Buffer>>): Promise<Buffer> {
  return Buffer.concat(await Promise.all(members));
}
