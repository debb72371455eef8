import { InvalidBlobKeyError } from './errors.js';

/** One stored blob as `Blobs.list` reports it. */
export interface BlobInfo {
  key: string;
  /** Bytes stored. */
  size: number;
  /** When the blob was last written, ms since the epoch (the storage's clock). */
  modifiedMs: number;
}

/**
 * Immutable byte strings by key: raw attachments and trimmed PGO forms. Keys are made by the
 * store and must pass `checkBlobKey`; every method rejects a bad key with InvalidBlobKeyError.
 */
export interface Blobs {
  /**
   * Stores `bytes` under `key`, replacing what was there. When the promise resolves the bytes
   * are durable; readers never see a partly written blob, only the old bytes or the new ones.
   */
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Returns the bytes stored under `key`, or null when there are none. */
  get(key: string): Promise<Uint8Array | null>;
  /**
   * Returns exactly `length` bytes at `offset` of the blob under `key`, or null when there is no
   * such blob. Rejects with BlobRangeError when the blob is shorter than `offset + length` (never
   * fewer or other bytes), and with RangeError when offset or length is not a non-negative safe
   * integer.
   */
  getRange(key: string, offset: number, length: number): Promise<Uint8Array | null>;
  /** Removes `key`; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Every stored blob whose key starts with `prefix` (default: every blob), in no particular
   * order; blobs written or deleted during the walk may or may not appear. Object stores list a
   * prefix without reading the rest, which is why blob keys start with their write hour.
   */
  list(prefix?: string): AsyncIterable<BlobInfo>;
  /** Sum of the sizes of all stored blobs. */
  totalBytes(): Promise<number>;
  /** Releases resources; calling it twice is harmless. */
  close(): Promise<void>;
}

/** Whether `offset`, `length` and their sum are non-negative safe integers: a byte range a blob can hold. */
export function isBlobRange(offset: number, length: number): boolean {
  return (
    Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 0 && Number.isSafeInteger(offset + length)
  );
}

/** Throws RangeError unless `offset`, `length` and their sum are non-negative safe integers. */
export function checkBlobRange(offset: number, length: number): void {
  if (!isBlobRange(offset, length)) {
    throw new RangeError(`invalid blob range: offset ${offset} and length ${length} must be non-negative safe integers`);
  }
}

/** Longest key accepted, so that a key fits in one file name (255 bytes) with room to spare. */
export const MAX_BLOB_KEY_LENGTH = 200;

// Segments separated by single "/"; a segment may not start with "." (so no "." or ".." and no
// hidden files) and holds only characters that are safe in file names, URLs and S3 keys.
const BLOB_KEY = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

/**
 * Throws InvalidBlobKeyError unless `key` is 1–200 characters of `[A-Za-z0-9._/-]`, split by
 * single slashes into segments that do not start with "." (no "..", no leading or trailing "/").
 */
export function checkBlobKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_BLOB_KEY_LENGTH || !BLOB_KEY.test(key)) {
    throw new InvalidBlobKeyError(
      `invalid blob key ${JSON.stringify(key)}: expected 1 to ${MAX_BLOB_KEY_LENGTH} characters of [A-Za-z0-9._-] in segments separated by "/", none starting with "."`,
    );
  }
}
