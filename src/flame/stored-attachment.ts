import { decompressAsync } from '../pprof/compression.js';
import { decodeProfile } from '../pprof/decode.js';
import type { Profile } from '../pprof/profile.js';
import { BlobRangeError } from '../store/errors.js';
import type { ProfileStore } from '../store/store.js';
import type { StoredAttachment } from '../store/types.js';

/**
 * The decoded profile of a stored raw attachment, or why a view cannot use it: missing from the
 * blob store, its pack shorter than its range (damaged), or not a profile that decodes within
 * `maxDecompressedBytes`. An unavailable store still rejects (StoreUnavailableError: a 503, not
 * a profile to leave out).
 */
export async function decodeStoredAttachment(
  store: ProfileStore,
  attachment: StoredAttachment,
  maxDecompressedBytes: number,
): Promise<Profile | { reason: string }> {
  let bytes: Uint8Array | null;
  try {
    bytes = await store.readBlob(attachment.blobKey);
  } catch (err) {
    if (err instanceof BlobRangeError) return { reason: `attachment ${attachment.name}: ${err.message}` };
    throw err;
  }
  if (bytes === null) return { reason: `attachment ${attachment.name} is missing from the blob store` };
  try {
    return decodeProfile(await decompressAsync(bytes, maxDecompressedBytes));
  } catch (err) {
    return { reason: `attachment ${attachment.name}: ${(err as Error).message}` };
  }
}
