/** Why a default.pgo could not be built from a selection; each maps to one HTTP answer (see src/server/error-mapping.ts). */
export type PgoSelectionProblem =
  /** A query does not parse (400, with the column). */
  | 'query'
  /** No stored CPU profile matches any query (404, with the resolved queries). */
  | 'no_profiles'
  /** A stored PGO form cannot be read (422, naming the profile). */
  | 'unreadable_pgo'
  /** The selected forms cannot be merged into one profile (422). */
  | 'incompatible';

/**
 * A PGO build refused because of what the request selected, not because of a bug: the problem,
 * a message for the user that names the query or profile at fault, and extra fields for the
 * answer (the query column, the resolved queries).
 */
export class PgoSelectionError extends Error {
  override readonly name = 'PgoSelectionError';
  constructor(
    readonly problem: PgoSelectionProblem,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}
