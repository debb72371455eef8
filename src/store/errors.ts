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
