// Durations and points in time as users write them, for the server's query parameters and the
// CLI's flags alike; below both, so neither depends on the other.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** The longest duration read: the span of JavaScript dates (±100,000,000 days). */
const MAX_DURATION_MS = 8.64e15;

/** The times a parameter may name: 1970-01-01 to the last millisecond of 9999 (a date every client can print). */
const EARLIEST_MS = 0;
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** A time parameter that is malformed or out of range; the message names the parameter and says what it must be. */
export class TimeParamError extends RangeError {
  override readonly name = 'TimeParamError';
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Returns a duration such as "500ms", "90s", "15m", "72h", "7d" or "1w" in ms, or null when it is
 * not one or is longer than any date range (so the result is always a finite number).
 */
export function durationMs(text: string): number | null {
  const m = /^(\d{1,20}(?:\.\d{1,20})?)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2]];
  return ms <= MAX_DURATION_MS ? ms : null;
}

/**
 * Returns time parameter `name` as ms since the epoch, from 1970-01-01 to the end of 9999.
 * Accepts `now`, `now-<duration>` (`now-72h`), RFC 3339 and plain ms since the epoch. Throws
 * TimeParamError naming the parameter when the text is none of these or the time is out of that
 * range, so no later date arithmetic or formatting can fail on it.
 */
export function parseTime(value: string, name: string, now: number): number {
  const v = value.trim();
  let ms: number | null = null;
  if (v === 'now') ms = now;
  else if (v.startsWith('now-')) {
    const ago = durationMs(v.slice(4));
    if (ago !== null) ms = now - ago;
  } else if (/^\d{1,16}$/.test(v)) ms = Number(v);
  else if (/^\d{4}-\d{2}-\d{2}T/.test(v)) {
    const parsed = Date.parse(v);
    if (Number.isFinite(parsed)) ms = parsed;
  }
  if (ms === null) {
    throw new TimeParamError(
      name,
      `"${name}" must be now, now-<N><ms|s|m|h|d|w>, RFC 3339 or ms since the epoch, got ${JSON.stringify(value)}`,
    );
  }
  if (!(ms >= EARLIEST_MS && ms <= LATEST_MS)) {
    throw new TimeParamError(name, `"${name}" must be a time from 1970-01-01 to 9999-12-31, got ${JSON.stringify(value)}`);
  }
  return ms;
}

/**
 * Returns the window [from, to] in ms since the epoch from `from` and `to` (each as parseTime
 * reads it; missing ones take the defaults, `to` defaulting to now). Throws TimeParamError
 * naming the bad parameter.
 */
export function parseTimeWindow(
  q: { from?: string; to?: string },
  defaultFrom: string,
  now: number = Date.now(),
): { from: number; to: number } {
  return { from: parseTime(q.from ?? defaultFrom, 'from', now), to: parseTime(q.to ?? 'now', 'to', now) };
}
