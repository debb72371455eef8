/**
 * A refusal that a route decided on: the HTTP status, a short machine-readable code (the
 * `reason` label of hotpath_rejections_total and the `code` field of the JSON answer), a message
 * for the client that says what to fix, and optionally extra response headers (Retry-After) and
 * extra JSON fields (the column of a query error). The app's one error handler turns it into
 * the answer; routes throw it instead of writing error replies themselves.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly headers: Readonly<Record<string, string>>;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options: { headers?: Record<string, string>; details?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.headers = options.headers ?? {};
    this.details = options.details ?? {};
  }
}
