import { DEFAULT_MAX_DECOMPRESSED_BYTES, decompress } from './compression.js';
import { decodeProfile } from './decode.js';
import { ProfileError } from './errors.js';
import type { Profile } from './profile.js';

export interface ParseOptions {
  /** Ceiling on the decompressed size; larger inputs fail with ProfileError. */
  maxDecompressedBytes?: number;
}

/**
 * Returns the profile held in gzip, zstd or raw protobuf bytes (sniffed by magic bytes),
 * validated. Throws ProfileError saying what is wrong with the bytes otherwise.
 */
export function parseProfile(bytes: Uint8Array, options: ParseOptions = {}): Profile {
  if (bytes.length === 0) throw new ProfileError('empty file: a profile cannot be zero bytes');
  const raw = decompress(bytes, options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES);
  if (raw.length === 0) throw new ProfileError('empty profile: the decompressed data is zero bytes');
  return decodeProfile(raw);
}
