import { blobHour } from './blob-hour.js';
import { type BlobRef, blobObjectKey, formatBlobRef, parseBlobRef, readBlobRef } from './blob-ref.js';
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
  let pgoBytes: Uint8Array | undefined;
  const place = (ref: string | null, into: 'pack' | 'pgo'): string => {
    const bytes = ref === null ? undefined : read.get(ref);
    if (bytes === undefined) {
      // Deleted by retention or lost by the source: named in the copy by a key that is never
      // written, so it reads as gone there too.
      return `${dir}/gone-${gone++}`;
    }
    if (into === 'pgo') {
      pgoBytes = bytes;
      return formatBlobRef(`${dir}/pgo`, 0, bytes.byteLength);
    }
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
  if (pgoBytes !== undefined) writes.push([`${dir}/pgo`, pgoBytes]);
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

type BlobRange = NonNullable<BlobRef['range']>;

interface NamedBytes {
  /** The bytes of each reference that could be read. */
  get(ref: string): Uint8Array | undefined;
  /** Objects the source no longer has (missingRef null), or too short for a reference (missingRef the reference). */
  missing: Array<{ objectKey: string; missingRef: string | null }>;
}

/**
 * Reads the bytes of every reference a record names, one read per object where it can: the whole
 * object for a plain key, the span of a record's ranges when they lie back to back (a save's
 * ranges of an object do), else each range alone, so no byte the record does not name is read.
 */
async function readNamedBytes(record: ProfileRecord, blobs: MigrationSource['blobs']): Promise<NamedBytes> {
  const byObject = new Map<string, Array<{ ref: string; range: BlobRange | null }>>();
  for (const ref of namedReferences(record)) {
    const { objectKey, range } = parseBlobRef(ref);
    const list = byObject.get(objectKey) ?? [];
    list.push({ ref, range });
    byObject.set(objectKey, list);
  }
  const bytesOf = new Map<string, Uint8Array>();
  const missing: NamedBytes['missing'] = [];
  /** Takes each named range out of `bytes`, which hold the object from `start` on. */
  const slice = (objectKey: string, named: Array<{ ref: string; range: BlobRange | null }>, bytes: Uint8Array, start: number) => {
    for (const { ref, range } of named) {
      if (range === null) bytesOf.set(ref, bytes);
      else if (range.offset - start + range.length <= bytes.byteLength) {
        bytesOf.set(ref, bytes.subarray(range.offset - start, range.offset - start + range.length));
      } else {
        // A whole object shorter than a range of it: damaged, reported.
        missing.push({ objectKey, missingRef: ref });
      }
    }
  };
  for (const [objectKey, named] of byObject) {
    if (named.some((n) => n.range === null)) {
      const whole = await blobs.get(objectKey);
      if (whole === null) missing.push({ objectKey, missingRef: null });
      else slice(objectKey, named, whole, 0);
      continue;
    }
    const span = adjacentSpan(named.map((n) => n.range as BlobRange));
    if (span !== null) {
      const bytes = await blobs.getRange(objectKey, span.offset, span.length).catch((err: unknown) => {
        // Shorter than the span: each range alone below, reporting those past the end.
        if (err instanceof BlobRangeError) return undefined;
        throw err;
      });
      if (bytes === null) {
        missing.push({ objectKey, missingRef: null });
        continue;
      }
      if (bytes !== undefined) {
        slice(objectKey, named, bytes, span.offset);
        continue;
      }
    }
    for (const { ref, range } of named) {
      try {
        const bytes = await blobs.getRange(objectKey, (range as BlobRange).offset, (range as BlobRange).length);
        if (bytes === null) missing.push({ objectKey, missingRef: null });
        else bytesOf.set(ref, bytes);
      } catch (err) {
        if (!(err instanceof BlobRangeError)) throw err;
        missing.push({ objectKey, missingRef: ref });
      }
    }
  }
  return { get: (ref) => bytesOf.get(ref), missing };
}

/** The span from the first to the last of `ranges` when no gap lies between them, else null. */
function adjacentSpan(ranges: readonly BlobRange[]): BlobRange | null {
  const sorted = [...ranges].sort((a, b) => a.offset - b.offset);
  let end = sorted[0].offset;
  for (const r of sorted) {
    if (r.offset > end) return null;
    end = Math.max(end, r.offset + r.length);
  }
  return { offset: sorted[0].offset, length: end - sorted[0].offset };
}

/**
 * The references of a record whose bytes a copy carries, in a fixed order: the attachments and
 * the prepared form unless retention deleted them (`rawDeleted`, the record's own by default),
 * then the PGO form.
 */
function namedReferences(record: ProfileRecord, rawDeleted = record.rawDeleted): string[] {
  const refs: string[] = [];
  if (!rawDeleted) {
    for (const a of record.attachments) refs.push(a.blobKey);
    if (record.preparedBlobKey !== null) refs.push(record.preparedBlobKey);
  }
  if (record.pgoBlobKey !== null) refs.push(record.pgoBlobKey);
  return refs;
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
 * The blob references of a record and of its copy that must read the same bytes (the copy's
 * attachments and nullable keys were checked to match the record's first).
 */
function referencePairs(record: ProfileRecord, copy: ProfileRecord): Array<[string, string]> {
  const theirs = namedReferences(copy, record.rawDeleted);
  return namedReferences(record).map((ref, i) => [ref, theirs[i]]);
}

/** Byte for byte: stronger than comparing checksums, and no slower once both copies are read. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
