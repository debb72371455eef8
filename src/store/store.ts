import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readBlobRef } from './blob-ref.js';
import type { Blobs } from './blobs.js';
import { FsBlobs } from './fs-blobs.js';
import { GroupWriter, type GroupWriterOptions } from './group-writer.js';
import type { ProfileIndex, ProfileSearch } from './profile-index.js';
import { SqliteProfileIndex } from './sqlite-index.js';
import type { AttachmentCompression, ProfileRecord, StoredAttachment } from './types.js';

/** A profile to save: the record without what the store decides (id, blob keys, rawDeleted). */
export type NewProfile = Omit<ProfileRecord, 'id' | 'attachments' | 'pgoBlobKey' | 'preparedBlobKey' | 'rawDeleted'>;

/** One raw attachment to save, exactly as received. */
export interface NewAttachment {
  name: string;
  bytes: Uint8Array;
  compression: AttachmentCompression;
}

/**
 * Blobs and index together, with the write order that makes saving crash-safe: every blob is
 * durable before the index row that names it is committed, and deletion (retention) removes
 * index rows before blobs. A crash at any point leaves either a complete profile or blobs no
 * row names, which `enforceRetention` collects after its grace period.
 */
export class ProfileStore {
  private readonly objects: GroupWriter;

  constructor(
    readonly index: ProfileIndex,
    readonly blobs: Blobs,
    options: GroupWriterOptions = {},
  ) {
    this.objects = new GroupWriter(blobs, options);
  }

  /**
   * Stores a new profile under a fresh id and returns its record: the raw attachments exactly as
   * received, and beside them the trimmed PGO form (`pgoBytes`) and the prepared form the flame
   * graph views merge (`preparedBytes`), each null when the profile has no CPU profile. The bytes
   * go into two objects shared with the saves running at the same time (group-writer.ts): a pack
   * of raw attachments and prepared forms, and one of PGO forms, which are kept longer; the record
   * names each blob by its byte range (blob-ref.ts). Resolves only when both objects and the index
   * row are durable: the prepared form rides in the pack with the raw data, so it is as durable as
   * they are. When it rejects, no profile is visible (objects already written are left for
   * orphan collection, since the index write may have failed ambiguously).
   */
  async saveProfile(
    profile: NewProfile,
    attachments: readonly NewAttachment[],
    pgoBytes: Uint8Array | null,
    preparedBytes: Uint8Array | null,
  ): Promise<ProfileRecord> {
    const raw = attachments.map((a) => a.bytes);
    if (preparedBytes !== null) raw.push(preparedBytes);
    const placed = await this.objects.write({ raw, pgo: pgoBytes });
    const stored: StoredAttachment[] = attachments.map((a, i) => ({
      name: a.name,
      blobKey: placed.raw[i],
      size: a.bytes.byteLength,
      compression: a.compression,
    }));
    const preparedBlobKey = preparedBytes === null ? null : placed.raw[attachments.length];
    const record: ProfileRecord = {
      ...profile,
      id: randomUUID(),
      attachments: stored,
      pgoBlobKey: placed.pgo,
      preparedBlobKey,
      rawDeleted: false,
    };
    await this.index.insert(record);
    return record;
  }

  /**
   * Returns the bytes a blob reference of a record names (a plain key or a range of a pack, see
   * blob-ref.ts), or null when its object is missing. Every reader of a record's blobs goes
   * through here. Rejects with BlobRangeError when the object is shorter than the range.
   */
  readBlob(ref: string): Promise<Uint8Array | null> {
    return readBlobRef(this.blobs, ref);
  }

  /** Returns the record with `id`, or null. */
  getProfile(id: string): Promise<ProfileRecord | null> {
    return this.index.get(id);
  }

  /** See ProfileIndex.search; rejects with QuerySyntaxError for a bad query. */
  search(options: ProfileSearch): Promise<ProfileRecord[]> {
    return this.index.search(options);
  }

  /** Returns the bytes of the attachment `name` of profile `id` as received, or null when either is unknown or retention deleted the raw data. */
  async readAttachment(id: string, name: string): Promise<{ attachment: StoredAttachment; bytes: Uint8Array } | null> {
    const record = await this.index.get(id);
    const attachment = record?.attachments.find((a) => a.name === name);
    if (record === null || attachment === undefined || record.rawDeleted) return null;
    const bytes = await this.readBlob(attachment.blobKey);
    return bytes === null ? null : { attachment, bytes };
  }

  /** Returns the trimmed PGO form of profile `id`, or null when it has none. */
  async readPgo(id: string): Promise<Uint8Array | null> {
    const record = await this.index.get(id);
    return record === null ? null : this.readPgoOf(record);
  }

  /** Returns the trimmed PGO form of a record already in hand (no second index lookup), or null. */
  readPgoOf(record: ProfileRecord): Promise<Uint8Array | null> {
    return record.pgoBlobKey === null ? Promise.resolve(null) : this.readBlob(record.pgoBlobKey);
  }

  /**
   * Returns the prepared form of a record already in hand (src/flame/prepared-form.ts), or null
   * when it has none: stored before prepared forms existed, without a CPU profile, its raw data
   * deleted by retention (the prepared form goes with it), or the blob gone. A caller falls back
   * to the raw profile only while it is there, so null never means a wrong answer.
   */
  readPreparedOf(record: ProfileRecord): Promise<Uint8Array | null> {
    return record.preparedBlobKey === null || record.rawDeleted ? Promise.resolve(null) : this.readBlob(record.preparedBlobKey);
  }

  /** Closes the index and the blobs (stop the retention job first). */
  async close(): Promise<void> {
    await this.index.close();
    await this.blobs.close();
  }
}

/**
 * Returns the embedded store under `dataDir`: the index in `<dataDir>/index.sqlite`, blobs under
 * `<dataDir>/blobs/`; both are created when missing.
 */
export async function openSqliteStore(dataDir: string): Promise<ProfileStore> {
  await mkdir(dataDir, { recursive: true });
  const blobs = await FsBlobs.open(join(dataDir, 'blobs'));
  return new ProfileStore(new SqliteProfileIndex(join(dataDir, 'index.sqlite')), blobs);
}
