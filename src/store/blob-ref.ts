import { type Blobs, checkBlobKey, isBlobRange } from './blobs.js';
import { InvalidBlobKeyError } from './errors.js';

/**
 * A blob reference: what a profile record names where it stores a blob key. Either a plain key
 * (the whole object; every profile stored before packs, and the PGO form) or a byte range of an
 * object, written `<objectKey>#<offset>+<length>` with both numbers in decimal without leading
 * zeros. `#` and `+` are not in the blob key alphabet (`checkBlobKey`), so a ranged reference can
 * never be read as a plain key, nor a plain key as a range.
 */
export interface BlobRef {
  /** The object that holds the bytes. */
  objectKey: string;
  /** The bytes of the object the reference names; null: all of them. */
  range: { offset: number; length: number } | null;
}

/** Longest reference accepted: a key of at most 200 characters and two numbers of at most 16 digits. */
export const MAX_BLOB_REF_LENGTH = 200 + 1 + 16 + 1 + 16;

const RANGED = /^([^#]+)#(0|[1-9][0-9]{0,15})\+(0|[1-9][0-9]{0,15})$/;

/**
 * Parses a reference. Throws InvalidBlobKeyError, naming the reference and what is wrong with it,
 * unless it is a valid plain key or a valid key followed by `#offset+length` whose offset,
 * length and end are safe integers.
 */
export function parseBlobRef(ref: string): BlobRef {
  if (typeof ref !== 'string' || ref.length > MAX_BLOB_REF_LENGTH) {
    throw new InvalidBlobKeyError(`invalid blob reference: expected a string of at most ${MAX_BLOB_REF_LENGTH} characters`);
  }
  if (!ref.includes('#')) {
    checkBlobKey(ref);
    return { objectKey: ref, range: null };
  }
  const m = RANGED.exec(ref);
  if (m === null) {
    throw new InvalidBlobKeyError(
      `invalid blob reference ${JSON.stringify(ref)}: expected a blob key, or a blob key followed by "#<offset>+<length>" in decimal without leading zeros`,
    );
  }
  const offset = Number(m[2]);
  const length = Number(m[3]);
  if (!isBlobRange(offset, length)) {
    throw new InvalidBlobKeyError(
      `invalid blob reference ${JSON.stringify(ref)}: offset and length must end within ${Number.MAX_SAFE_INTEGER}`,
    );
  }
  checkBlobKey(m[1]);
  return { objectKey: m[1], range: { offset, length } };
}

/** The reference to `length` bytes at `offset` of the object `objectKey`; throws InvalidBlobKeyError for a bad key or range. */
export function formatBlobRef(objectKey: string, offset: number, length: number): string {
  checkBlobKey(objectKey);
  if (!isBlobRange(offset, length)) {
    throw new InvalidBlobKeyError(
      `invalid blob range ${offset}+${length} of ${JSON.stringify(objectKey)}: expected non-negative safe integers`,
    );
  }
  return `${objectKey}#${offset}+${length}`;
}

/** The object key of a reference (throws InvalidBlobKeyError for a bad one, like parseBlobRef). */
export function blobObjectKey(ref: string): string {
  return parseBlobRef(ref).objectKey;
}

/**
 * Returns the bytes a reference names: the whole object for a plain key, else exactly the range.
 * Null when the object is missing; rejects with BlobRangeError when it is shorter than the range,
 * and with InvalidBlobKeyError for a malformed reference.
 */
export async function readBlobRef(blobs: Pick<Blobs, 'get' | 'getRange'>, ref: string): Promise<Uint8Array | null> {
  const { objectKey, range } = parseBlobRef(ref);
  return range === null ? await blobs.get(objectKey) : await blobs.getRange(objectKey, range.offset, range.length);
}
