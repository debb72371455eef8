import type { ProfileOrigin } from '../api/types.js';

/** How a stored attachment's bytes are compressed, as received from the client. */
export type AttachmentCompression = 'gzip' | 'zstd' | 'none';

/** One raw attachment of a profile, kept exactly as received, in the blob store under `blobKey`. */
export interface StoredAttachment {
  name: string;
  blobKey: string;
  /** Size of the stored (possibly compressed) bytes. */
  size: number;
  compression: AttachmentCompression;
}

// The protocol and the origin fields are the API's as well: declared once in src/api.
export type { ProfileProtocol } from '../api/types.js';

/**
 * One stored profile as the index knows it: plain, JSON-serialisable data. The bytes live in the
 * blob store; this record names them. `tags` is what the query language searches (it holds
 * service, env, version, host and pgo too, as tags); the named scalar fields are copies for
 * display and sorting.
 */
export interface ProfileRecord extends ProfileOrigin {
  id: string;
  /** Start and end of the profiled period, ms since the epoch. */
  start: number;
  end: number;
  /** When the server stored the profile (server clock, ms since the epoch); retention ages count from here. */
  receivedAt: number;
  sampleCount: number;
  durationNanos: number;
  /** Every tag as [key, value] in the order received; a key may repeat. */
  tags: Array<[string, string]>;
  /** Numeric attributes searchable as `@metrics.<name>`, e.g. core_cpu_cores. Finite numbers only. */
  metrics: Record<string, number>;
  attachments: StoredAttachment[];
  /** Blob key of the trimmed PGO form, or null when the profile has no CPU profile. */
  pgoBlobKey: string | null;
  /**
   * Blob key of the prepared form the flame graph views merge (src/flame/prepared-form.ts), built
   * at ingest from the CPU profile; null when the profile has no CPU profile or was stored before
   * prepared forms existed. Derived from the raw attachments, so retention deletes it with them:
   * once `rawDeleted` is true the key names nothing.
   */
  preparedBlobKey: string | null;
  /** dd-trace-go's request counts per endpoint, when sent. */
  endpointCounts: Record<string, number> | null;
  /** True once retention deleted the raw attachments' bytes; `attachments` still lists them. */
  rawDeleted: boolean;
}
