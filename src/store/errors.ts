/** An insert named a profile id that is already stored; nothing of the new profile was written. */
export class ProfileExistsError extends Error {
  override readonly name = 'ProfileExistsError';

  constructor(readonly id: string) {
    super(`profile ${JSON.stringify(id)} already exists`);
  }
}

/** A blob key outside the safe form (see `checkBlobKey`); a bug in the caller, never user input. */
export class InvalidBlobKeyError extends TypeError {
  override readonly name = 'InvalidBlobKeyError';
}

/**
 * A backend (PostgreSQL, an S3 store) could not be reached or refused to serve, so the operation
 * did not happen or its outcome is unknown; the server answers 503 and the caller may retry.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A blob reference names a byte range its object does not hold in full (the object is shorter
 * than the range's end): the stored data is damaged or the reference is wrong. Never answered
 * with the bytes that are there, which would be the wrong bytes.
 */
export class BlobRangeError extends Error {
  override readonly name = 'BlobRangeError';
}
