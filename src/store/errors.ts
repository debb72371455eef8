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
 * The index or key database cannot be reached (down, restarting, out of connections, too slow to
 * answer). Nothing of the call is known to be stored; the same call may succeed later, so the
 * server answers 503 with Retry-After. `cause` is the driver's error, for logs.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
