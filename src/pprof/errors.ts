/**
 * A problem with a profile's bytes or contents that the user must fix (wrong file, corrupt
 * upload, unsupported value). The message names the field or the limit that failed and never
 * includes a stack trace when shown to users.
 */
export class ProfileError extends Error {
  override readonly name = 'ProfileError';
}
