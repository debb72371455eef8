import { blobObjectKey } from './blob-ref.js';
import type { ProfileRecord } from './types.js';

/** One object a profile record names, and which of the profile's lifetimes it follows. */
export interface ProfileObject {
  /** The object's blob key (a reference's range stripped). */
  key: string;
  /**
   * `raw`: goes with the raw data (raw attachments and the prepared form derived from them);
   * `pgo`: kept as long as the record.
   */
  kind: 'raw' | 'pgo';
}

/**
 * The objects a record's references name, each once, in the order first named: what the index
 * keeps in profile_blobs (orphan collection asks about objects, not ranges) and what retention
 * deletes. Several references may share one object (a save's pack holds every raw attachment and
 * the prepared form). Raw objects are left out once `rawDeleted` is set unless `includeDeletedRaw`
 * asks for them (deleting a whole record removes them again, which is harmless). An object named
 * as both kinds counts as `pgo`, so that deleting the raw data never takes the PGO form with it.
 * Throws InvalidBlobKeyError for a malformed reference.
 */
export function profileObjects(record: ProfileRecord, options: { includeDeletedRaw?: boolean } = {}): ProfileObject[] {
  const kinds = new Map<string, 'raw' | 'pgo'>();
  if (!record.rawDeleted || options.includeDeletedRaw === true) {
    for (const a of record.attachments) kinds.set(blobObjectKey(a.blobKey), 'raw');
    if (record.preparedBlobKey !== null) kinds.set(blobObjectKey(record.preparedBlobKey), 'raw');
  }
  if (record.pgoBlobKey !== null) kinds.set(blobObjectKey(record.pgoBlobKey), 'pgo');
  return [...kinds].map(([key, kind]) => ({ key, kind }));
}
