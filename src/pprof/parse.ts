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
 * Returns the profiles held in `inputs`, in order, each parsed as by parseProfile. Each gzip
 * input inflates on the thread pool while the one before it is decoded; no more than two are
 * inflated at a time, so a list of decompression bombs holds at most two of them in memory.
 * Rejects with the first failure; `onError` may wrap it with the input's index (to name a file).
 */
export async function parseProfiles(
  inputs: Uint8Array[],
  options: ParseOptions = {},
  onError: (index: number, err: unknown) => unknown = (_i, err) => err,
): Promise<Profile[]> {
  const max = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const inflate = (i: number): Promise<Uint8Array> => {
    const bytes = inputs[i];
    if (bytes.length === 0) return Promise.reject(new ProfileError('empty file: a profile cannot be zero bytes'));
    return decompressAsync(bytes, max);
  };
  const out: Profile[] = [];
  let next = inputs.length > 0 ? inflate(0) : undefined;
  for (let i = 0; i < inputs.length; i++) {
    const current = next as Promise<Uint8Array>;
    next = i + 1 < inputs.length ? inflate(i + 1) : undefined;
    // The next input gets a handler now, so its failure is not "unhandled" while this one decodes.
    next?.catch(() => undefined);
    try {
      const raw = await current;
      if (raw.length === 0) throw new ProfileError('empty profile: the decompressed data is zero bytes');
      out.push(decodeProfile(raw));
    } catch (err) {
      throw onError(i, err);
    }
  }
  return out;
}
