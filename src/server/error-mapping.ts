import { IngestError } from '../ingest/errors.js';
import { PgoSelectionError, type PgoSelectionProblem } from '../pgo/errors.js';
import { ProfileError } from '../pprof/errors.js';
import { QuerySyntaxError } from '../query/errors.js';
import { BlobRangeError, StoreUnavailableError } from '../store/errors.js';
import { TimeParamError } from '../time/parse-time.js';
import { HttpError } from './http-error.js';

/** Error codes that mean the data directory's file system has no room left (errno, SQLite result). */
const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** The status of each reason a PGO build refuses its selection; the reason is the answer's code. */
const PGO_SELECTION_STATUS: Record<PgoSelectionProblem, number> = { query: 400, no_profiles: 404, unreadable_pgo: 422, incompatible: 422 };

function codeOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}

/** True when `err` is a write refused because the disk (or the user's quota) is full. */
export function isDiskFull(err: unknown): boolean {
  return DISK_FULL_CODES.has(codeOf(err) as string);
}

/**
 * Returns the answer for a failed request, or null when the failure is a bug (answer 500 and log
 * it). Every mapping goes by type or by error code, never by message text:
 * - HttpError as it is; IngestError with its status and reason;
 * - QuerySyntaxError: 400 with the column; ProfileError (a stored profile that cannot be read
 *   or combined) and BlobRangeError (its stored bytes are shorter than the record says): 422;
 * - a malformed query parameter (TimeParamError, a schema validation failure): 400 bad_parameter
 *   naming it; PgoSelectionError: its problem as the code (see PGO_SELECTION_STATUS);
 * - a full disk (ENOSPC, EDQUOT, SQLITE_FULL): 507, code disk_full;
 * - StoreUnavailableError (the index database or blob store is down or overloaded): 503 store_unavailable with
 *   Retry-After, since the same request can succeed once it is back;
 * - fastify's own refusals: a body over `bodyLimit` 413, a request timeout 408, any other error
 *   fastify or Node's parser marked with a 4xx statusCode (malformed request, aborted body)
 *   that status.
 */
export function toHttpError(err: unknown, bodyLimit: number): HttpError | null {
  if (err instanceof HttpError) return err;
  if (err instanceof IngestError) {
    // 503 is intake's "busy, not broken": say when to come back, as the intake gate does.
    return new HttpError(err.status, err.reason, err.message, err.status === 503 ? { headers: { 'retry-after': '5' } } : undefined);
  }
  if (err instanceof QuerySyntaxError) return new HttpError(400, 'query', `query: ${err.message}`, { details: { column: err.column } });
  if (err instanceof ProfileError) return new HttpError(422, 'profile', err.message);
  if (err instanceof TimeParamError) return new HttpError(400, 'bad_parameter', err.message);
  if (err instanceof PgoSelectionError) {
    return new HttpError(PGO_SELECTION_STATUS[err.problem], err.problem, err.message, { details: { ...err.details } });
  }
  if (err instanceof BlobRangeError) {
    return new HttpError(422, 'profile', `the stored data of this profile is damaged: ${err.message}`);
  }
  if (err instanceof StoreUnavailableError) {
    return new HttpError(503, 'store_unavailable', "the server's storage (index database or blob store) is unavailable; retry later", {
      headers: { 'retry-after': '5' },
    });
  }
  if (isDiskFull(err)) {
    return new HttpError(
      507,
      'disk_full',
      "the disk of the server's data directory is full: nothing was stored; retry when space is freed",
      {
        headers: { 'retry-after': '60' },
      },
    );
  }
  const code = codeOf(err);
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new HttpError(413, 'body_size', `request body is larger than the limit of ${bodyLimit} bytes`);
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return new HttpError(408, 'timeout', 'the request was not received within the request timeout');
  const status = typeof err === 'object' && err !== null ? (err as { statusCode?: unknown }).statusCode : undefined;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, 'bad_request', err instanceof Error ? err.message : 'bad request');
  }
  return null;
}

/**
 * Returns the answer to a request that failed before any route saw it (Node's `clientError`: a
 * header or request timeout, headers over the size limit, a malformed request), or null when the
 * client is already gone and nothing can be sent.
 */
export function clientErrorAnswer(err: unknown, timeouts: { requestMs: number; headersMs: number }): HttpError | null {
  const code = codeOf(err);
  if (code === 'ECONNRESET' || code === 'EPIPE') return null;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new HttpError(
      408,
      'timeout',
      `the request was not received in time (headers within ${timeouts.headersMs / 1000} s, the whole request within ${timeouts.requestMs / 1000} s)`,
    );
  }
  if (code === 'HPE_HEADER_OVERFLOW') return new HttpError(431, 'header_size', 'the request headers are larger than the limit');
  return new HttpError(400, 'bad_request', 'malformed HTTP request');
}
