import { ProfileError } from './errors.js';

/**
 * Default ceiling on the decompressed size of one profile: a real 30-second Go CPU profile is a
 * few MB, and a server inflating several bombs at once must stay well under 1 GB. Here, not in
 * compression.ts, so the CLI can show it in `serve --help` without loading zlib.
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

/**
 * A compressed input that would inflate to more than the decompression limit (a bomb or an
 * oversized profile), or whose headers declare that it would. Intake answers it with 413; the
 * message always says "exceeds the limit of N bytes" and names the limit.
 */
export class DecompressedSizeError extends ProfileError {
  /** The limit that was exceeded, in bytes. */
  readonly limit: number;
  /** What exceeded it ("decompressed size", "zstd window of the frame at byte 0 (…)"). */
  readonly what: string;

  constructor(limit: number, what = 'decompressed size') {
    super(`${what} exceeds the limit of ${limit} bytes (decompression bomb or oversized profile)`);
    this.limit = limit;
    this.what = what;
  }
}
