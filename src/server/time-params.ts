import { parseTime, parseTimeWindow, TimeParamError } from '../time/parse-time.js';
import { HttpError } from './http-error.js';

export { durationMs } from '../time/parse-time.js';

function asHttpError(err: unknown): unknown {
  return err instanceof TimeParamError ? new HttpError(400, 'bad_parameter', err.message) : err;
}

/**
 * Returns a time query parameter as ms since the epoch (see parseTime in src/time). Throws
 * HttpError 400 (code bad_parameter) naming the parameter when it is malformed or out of range.
 */
export function parseTimeParam(value: string, name: string, now: number): number {
  try {
    return parseTime(value, name, now);
  } catch (err) {
    throw asHttpError(err);
  }
}

/** Returns the window [from, to] of `from` and `to` query parameters; throws HttpError 400 naming the bad one. */
export function parseWindow(
  q: { from?: string; to?: string },
  defaultFrom: string,
  now: number = Date.now(),
): { from: number; to: number } {
  try {
    return parseTimeWindow(q, defaultFrom, now);
  } catch (err) {
    throw asHttpError(err);
  }
}
