import { DEFAULT_MAX_DECOMPRESSED_BYTES, decompress, decompressAsync } from './compression.js';
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

/**
 * Returns the profiles held in `inputs`, in order, each parsed as by parseProfile. All gzip
 * inputs start inflating at once on the thread pool while earlier ones are being decoded.
 * Rejects with the first failure; `onError` may wrap it with the input's index (to name a file).
 */
export async function parseProfiles(
  inputs: Uint8Array[],
  options: ParseOptions = {},
  onError: (index: number, err: unknown) => unknown = (_i, err) => err,
): Promise<Profile[]> {
  const max = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const pending = inputs.map((bytes) => {
    if (bytes.length === 0) return Promise.reject(new ProfileError('empty file: a profile cannot be zero bytes'));
    return decompressAsync(bytes, max);
  });
  // Every promise gets a handler now, so a failure in a later input is not "unhandled".
  for (const p of pending) p.catch(() => undefined);
  const out: Profile[] = [];
  for (let i = 0; i < pending.length; i++) {
    try {
      const raw = await pending[i];
      if (raw.length === 0) throw new ProfileError('empty profile: the decompressed data is zero bytes');
      out.push(decodeProfile(raw));
    } catch (err) {
      throw onError(i, err);
    }
  }
  return out;
}
