import { blobObjectKey, formatBlobRef, parseBlobRef, readBlobRef } from './blob-ref.js';
import type { Blobs } from './blobs.js';
import type { KeyStore } from './keys.js';
import type { ProfileIndex } from './profile-index.js';
import { profileObjects } from './profile-objects.js';
import type { SqliteProfileIndex } from './sqlite-index.js';
import { blobHour } from './store.js';
import type { ProfileRecord } from './types.js';

/** An embedded install to copy from: its SQLite index (walked by id), its blob files and its keys. */
export interface MigrationSource {
  index: Pick<SqliteProfileIndex, 'scanById' | 'count'>;
  blobs: Pick<Blobs, 'get' | 'getRange'>;
  keys: Pick<KeyStore, 'exportKeys'>;
}

/** The backends to copy into (typically PostgreSQL and S3). */
export interface MigrationTarget {
  index: Pick<ProfileIndex, 'get' | 'insert' | 'count'>;
  blobs: Pick<Blobs, 'get' | 'getRange' | 'put'>;
  keys: Pick<KeyStore, 'exportKeys' | 'importKey'>;
}

export interface MigrationProgress {
  /** Profiles handled so far (copied or found already there and verified). */
  done: number;
  /** Profiles in the source when the walk started. */
  total: number;
  copied: number;
  /** Already in the target from an earlier, interrupted run; their blobs were verified. */
  alreadyThere: number;
  /** Blob bytes written to the target so far. */
  bytesCopied: number;
}

export interface MigrationResult extends MigrationProgress {
  keysCopied: number;
  keysAlreadyThere: number;
  /**
   * Objects read back from the target and compared with the source's, byte for byte: a pack (a
   * profile's raw attachments and prepared form) or a PGO form counts once, as does each blob of
   * a profile stored before packs.
   */
  blobsVerified: number;
  /** Blobs a source record names that the source no longer has (copied as missing, as they were). */
  missingInSource: Array<{ profileId: string; blobKey: string }>;
  /** Profiles in the target afterwards: at least `total` (more if it already held others). */
  targetCount: number;
}

/** The target holds something that contradicts the source: a different key under an id, or different bytes. */
export class MigrationMismatchError extends Error {
  override name = 'MigrationMismatchError';
}

export interface MigrateOptions {
  /** Called after every batch of profiles. */
  onProgress?: (progress: MigrationProgress) => void;
  /** Profiles copied at once; default 8 (blob writes to an object store are network round trips). */
  concurrency?: number;
  /** The clock; blob keys in the target start with the hour of the copy, so an interrupted copy's blobs are collected as orphans. */
  now?: () => number;
}

const PAGE = 200;

/**
 * Copies every key and every profile (index row, raw attachments, PGO form, prepared form) from `source` to
 * `target`, verifying as it goes, and resolves with what it did. Safe to run again after an
 * interruption: profiles and keys already in the target are not copied twice, but checked (a
 * profile's blobs are compared with the source's byte for byte). Each profile is written in the
 * store's crash-safe order (blobs, read back and compared, then the index row), so an
 * interrupted run leaves no index row without its blobs. Rejects with MigrationMismatchError
 * when the target contradicts the source.
 */
export async function migrateStore(
  source: MigrationSource,
  target: MigrationTarget,
  options: MigrateOptions = {},
): Promise<MigrationResult> {
  const concurrency = options.concurrency ?? 8;
  const now = options.now ?? Date.now;
  const result: MigrationResult = {
    done: 0,
    total: await source.index.count(),
    copied: 0,
    alreadyThere: 0,
    bytesCopied: 0,
    keysCopied: 0,
    keysAlreadyThere: 0,
    blobsVerified: 0,
    missingInSource: [],
    targetCount: 0,
  };

  const targetKeys = new Map((await target.keys.exportKeys()).map((k) => [k.key.id, k.hash]));
  for (const { key, hash } of await source.keys.exportKeys()) {
    const existing = targetKeys.get(key.id);
    if (existing !== undefined) {
      if (!existing.equals(hash)) throw new MigrationMismatchError(`key ${key.id} exists in the target with a different secret`);
      result.keysAlreadyThere++;
    } else if (await target.keys.importKey(key, hash)) {
      result.keysCopied++;
    } else {
      result.keysAlreadyThere++;
    }
  }

  let after = '';
  for (;;) {
    const page = await source.index.scanById(after, PAGE);
    if (page.length === 0) break;
    after = page[page.length - 1].id;
    for (let i = 0; i < page.length; i += concurrency) {
      await Promise.all(page.slice(i, i + concurrency).map((record) => copyProfile(record, source, target, result, now)));
      options.onProgress?.({ ...result });
    }
  }
  result.targetCount = await target.index.count();
  if (result.targetCount < result.done) {
    throw new MigrationMismatchError(`the target counts ${result.targetCount} profiles after ${result.done} were copied or verified`);
  }
  return result;
}

async function copyProfile(
  record: ProfileRecord,
  source: MigrationSource,
  target: MigrationTarget,
  result: MigrationResult,
  now: () => number,
): Promise<void> {
  const existing = await target.index.get(record.id);
  if (existing !== null) {
    await verifyCopy(record, existing, source, target, result);
    result.alreadyThere++;
    result.done++;
    return;
  }
  // New keys start with the hour of the copy (not of the original write): a copy interrupted
  // between its blobs and its row leaves orphans that the target's next sweeps collect. Each
  // object is copied once however many references (ranges of a pack) name it, and keeps its
  // bytes, so every range stays valid in the target.
  const dir = `${blobHour(now())}/${record.id}`;
  const renamed = new Map<string, string>();
  const taken = new Set<string>();
  const rename = (ref: string): string => {
    const { objectKey, range } = parseBlobRef(ref);
    let to = renamed.get(objectKey);
    if (to === undefined) {
      const name = objectKey.slice(objectKey.lastIndexOf('/') + 1);
      to = taken.has(`${dir}/${name}`) ? `${dir}/${renamed.size}-${name}` : `${dir}/${name}`;
      renamed.set(objectKey, to);
      taken.add(to);
    }
    return range === null ? to : formatBlobRef(to, range.offset, range.length);
  };
  const copy: ProfileRecord = {
    ...record,
    attachments: record.attachments.map((a) => ({ ...a, blobKey: rename(a.blobKey) })),
    pgoBlobKey: record.pgoBlobKey === null ? null : rename(record.pgoBlobKey),
    preparedBlobKey: record.preparedBlobKey === null ? null : rename(record.preparedBlobKey),
  };
  for (const { key: from } of profileObjects(record)) {
    const to = renamed.get(from) as string;
    const bytes = await source.blobs.get(from);
    if (bytes === null) {
      result.missingInSource.push({ profileId: record.id, blobKey: from });
      continue;
    }
    await target.blobs.put(to, bytes);
    const back = await target.blobs.get(to);
    if (back === null || !sameBytes(back, bytes)) {
      throw new MigrationMismatchError(`profile ${record.id}: blob ${to} reads back different from the source's ${from}`);
    }
    result.blobsVerified++;
    result.bytesCopied += bytes.byteLength;
  }
  await target.index.insert(copy);
  result.copied++;
  result.done++;
}

/** Compares the blobs of a profile an earlier run copied with the source's. */
async function verifyCopy(
  record: ProfileRecord,
  existing: ProfileRecord,
  source: MigrationSource,
  target: MigrationTarget,
  result: MigrationResult,
): Promise<void> {
  if (
    existing.attachments.length !== record.attachments.length ||
    (existing.pgoBlobKey === null) !== (record.pgoBlobKey === null) ||
    (existing.preparedBlobKey === null) !== (record.preparedBlobKey === null)
  ) {
    throw new MigrationMismatchError(`profile ${record.id} exists in the target with different attachments`);
  }
  // Reference by reference, so a target written with another layout (one object per blob, or
  // packs) is compared by what each reference reads, not by how it is stored.
  const verified = new Set<string>();
  for (const [from, to] of referencePairs(record, existing)) {
    const [a, b] = await Promise.all([readBlobRef(source.blobs, from), readBlobRef(target.blobs, to)]);
    if (a === null) continue;
    if (b === null || !sameBytes(a, b))
      throw new MigrationMismatchError(`profile ${record.id}: the target's ${to} differs from the source's ${from}`);
    verified.add(blobObjectKey(to));
  }
  result.blobsVerified += verified.size;
}

/**
 * The blob references of a record and of its copy that must read the same bytes: the PGO form,
 * and the attachments and the prepared form unless retention deleted them.
 */
function referencePairs(record: ProfileRecord, copy: ProfileRecord): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  if (!record.rawDeleted) {
    for (const [i, a] of record.attachments.entries()) pairs.push([a.blobKey, copy.attachments[i].blobKey]);
    if (record.preparedBlobKey !== null && copy.preparedBlobKey !== null) pairs.push([record.preparedBlobKey, copy.preparedBlobKey]);
  }
  if (record.pgoBlobKey !== null && copy.pgoBlobKey !== null) pairs.push([record.pgoBlobKey, copy.pgoBlobKey]);
  return pairs;
}

/** Byte for byte: stronger than comparing checksums, and no slower once both copies are read. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
