import type { Profile } from '../pprof/profile.js';

/**
 * The form of a CPU profile that the flame graph views merge instead of the raw profile: built
 * once at ingest, stored beside the raw attachments. Returns the encoded bytes.
 */
export function encodePreparedForm(_p: Profile): Uint8Array {
  return new Uint8Array(0);
}
