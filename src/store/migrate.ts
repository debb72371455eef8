import { blobHour } from './blob-hour.js';
import { blobObjectKey, formatBlobRef, parseBlobRef, readBlobRef } from './blob-ref.js';
import type { Blobs } from './blobs.js';
import { BlobRangeError } from './errors.js';
import type { KeyStore } from './keys.js';
import type { ProfileIndex } from './profile-index.js';
import type { SqliteProfileIndex } from './sqlite-index.js';
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
   * Objects read back from the target and compared with what the source's references name, byte
   * for byte: a copy's pack (its raw attachments and prepared form) and its PGO form count once
   * each; a copy an earlier run made counts each object its references read.
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
  // between its blobs and its row leaves orphans that the target's next sweeps collect. Only the
  // bytes the record names are copied, into objects of its own laid out as a lone save writes
  // them (a pack of the raw parts, and the PGO form): a source object may be shared with the
  // profiles saved at the same time (group-writer.ts), and copying it whole for each of them
  // would multiply the bytes moved by the size of its group.
  const dir = `${blobHour(now())}/${record.id}`;
  const read = await readNamedBytes(record, source.blobs);
  const parts: Uint8Array[] = [];
  let packLength = 0;
  let gone = 0;
  const place = (ref: string | null, into: 'pack' | 'pgo'): string => {
    const bytes = ref === null ? undefined : read.get(ref);
    if (bytes === undefined) {
      // Deleted by retention or lost by the source: named in the copy by a key that is never
      // written, so it reads as gone there too.
      return `${dir}/gone-${gone++}`;
    }
    if (into === 'pgo') return formatBlobRef(`${dir}/pgo`, 0, bytes.byteLength);
    parts.push(bytes);
    packLength += bytes.byteLength;
    return formatBlobRef(`${dir}/pack`, packLength - bytes.byteLength, bytes.byteLength);
  };
  const raw = (ref: string): string => place(record.rawDeleted ? null : ref, 'pack');
  const copy: ProfileRecord = {
    ...record,
    attachments: record.attachments.map((a) => ({ ...a, blobKey: raw(a.blobKey) })),
    preparedBlobKey: record.preparedBlobKey === null ? null : raw(record.preparedBlobKey),
    pgoBlobKey: record.pgoBlobKey === null ? null : place(record.pgoBlobKey, 'pgo'),
  };
  for (const { objectKey, missingRef } of read.missing) {
    result.missingInSource.push({ profileId: record.id, blobKey: missingRef === null ? objectKey : missingRef });
  }
  const writes: Array<[string, Uint8Array]> = [];
  if (parts.length > 0) writes.push([`${dir}/pack`, Buffer.concat(parts, packLength)]);
  const pgo = record.pgoBlobKey === null ? undefined : read.get(record.pgoBlobKey);
  if (pgo !== undefined) writes.push([`${dir}/pgo`, pgo]);
  for (const [to, bytes] of writes) {
    await target.blobs.put(to, bytes);
    const back = await target.blobs.get(to);
    if (back === null || !sameBytes(back, bytes)) {
      throw new MigrationMismatchError(`profile ${record.id}: blob ${to} reads back different from what the source's references name`);
    }
    result.blobsVerified++;
    result.bytesCopied += bytes.byteLength;
  }
  await target.index.insert(copy);
  result.copied++;
  result.done++;
}

interface NamedBytes {
  /** The bytes of each reference that could be read. */
  get(ref: string): Uint8Array | undefined;
  /** Objects the source no longer has (missingRef null), or too short for a reference (missingRef the reference). */
  missing: Array<{ objectKey: string; missingRef: string | null }>;
}

/**
 * Reads the bytes of every reference a record names, with one read per object: the span from its
 * first to its last range (a save's ranges of an object are adjacent), or the whole object for a
 * plain key.
 */
async function readNamedBytes(record: ProfileRecord, blobs: MigrationSource['blobs']): Promise<NamedBytes> {
  const refs: string[] = [];
  if (!record.rawDeleted) {
    for (const a of record.attachments) refs.push(a.blobKey);
    if (record.preparedBlobKey !== null) refs.push(record.preparedBlobKey);
  }
  if (record.pgoBlobKey !== null) refs.push(record.pgoBlobKey);
  const byObject = new Map<string, Array<{ ref: string; range: { offset: number; length: number } | null }>>();
  for (const ref of refs) {
    const { objectKey, range } = parseBlobRef(ref);
    const list = byObject.get(objectKey) ?? [];
    list.push({ ref, range });
    byObject.set(objectKey, list);
  }
  const bytesOf = new Map<string, Uint8Array>();
  const missing: NamedBytes['missing'] = [];
  for (const [objectKey, named] of byObject) {
    const whole = named.some((n) => n.range === null);
    let start = 0;
    let end = 0;
    if (!whole) {
      start = Math.min(...named.map((n) => n.range!.offset));
      end = Math.max(...named.map((n) => n.range!.offset + n.range!.length));
    }
    let span: Uint8Array | null;
    try {
      span = whole ? await blobs.get(objectKey) : await blobs.getRange(objectKey, start, end - start);
    } catch (err) {
      if (!(err instanceof BlobRangeError)) throw err;
      // Shorter than the span: read each range alone, and report those past the end.
      span = null;
      for (const n of named) {
        try {
          const bytes = await blobs.getRange(objectKey, n.range!.offset, n.range!.length);
          if (bytes === null) missing.push({ objectKey, missingRef: null });
          else bytesOf.set(n.ref, bytes);
        } catch (inner) {
          if (!(inner instanceof BlobRangeError)) throw inner;
          missing.push({ objectKey, missingRef: n.ref });
        }
      }
      continue;
    }
    if (span === null) {
      missing.push({ objectKey, missingRef: null });
      continue;
    }
    for (const n of named) {
      if (n.range === null) bytesOf.set(n.ref, span);
      else if (n.range.offset - start + n.range.length <= span.byteLength) {
        bytesOf.set(n.ref, span.subarray(n.range.offset - start, n.range.offset - start + n.range.length));
      } else {
        // A plain key's whole object shorter than a range of it: damaged, reported.
        missing.push({ objectKey, missingRef: n.ref });
      }
    }
  }
  return { get: (ref) => bytesOf.get(ref), missing };
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
