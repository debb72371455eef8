/**
 * A request that intake refuses: the HTTP status to answer, a short machine-readable reason
 * (the label of the rejection counter in /metrics) and a message for the client that says
 * what was wrong with which part of the request.
 */
export class IngestError extends Error {
  override readonly name = 'IngestError';
  readonly status: number;
  readonly reason: string;

  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}
