import { HttpError } from './http-error.js';

/** At most this many digits: every accepted value is then a safe integer. */
const MAX_DIGITS = 15;

/**
 * Returns query parameter `name` of `q` as an integer from `min` to `max`, or `fallback` when it
 * is absent. Only plain decimal digits are accepted: `1e3`, `0x10`, ` 5`, `5.0`, `+5` and the
 * empty string are refused, although JavaScript's Number() would read them. Throws HttpError 400
 * (code bad_parameter) naming the parameter, the range and what was sent.
 */
export function integerParam(
  q: Readonly<Record<string, string | undefined>>,
  name: string,
  range: { min: number; max: number; fallback: number },
): number {
  const raw = q[name];
  if (raw === undefined) return range.fallback;
  const value = new RegExp(`^\\d{1,${MAX_DIGITS}}$`).test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= range.min && value <= range.max)) {
    throw new HttpError(
      400,
      'bad_parameter',
      `"${name}" must be an integer from ${range.min} to ${range.max} in decimal digits, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}
