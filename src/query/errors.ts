/**
 * A query the user must fix. The message says what was expected, where, and what was found
 * (`expected ")" at column 17, found end of query`); `offset` (0-based, in UTF-16 code units,
 * for slicing the query string) and `column` (1-based, in characters, for showing to people)
 * point at the same place.
 */
export class QuerySyntaxError extends Error {
  override readonly name = 'QuerySyntaxError';

  constructor(
    message: string,
    readonly offset: number,
    readonly column: number,
  ) {
    super(message);
  }
}
