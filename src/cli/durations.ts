import { durationMs } from '../time/parse-time.js';
import { CliError } from './errors.js';

/** Milliseconds per unit of Go's time.ParseDuration. */
const GO_UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const GO_DURATION = /^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h)){1,12}$/;
const GO_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/**
 * Returns a duration written as Go's time.ParseDuration reads it (`1h30m`, `2h45m30.5s`,
 * `1.5h`, `300ms`), the form datadog-pgo's -from and -timeout take, in ms; or null.
 */
function goDurationMs(text: string): number | null {
  if (!GO_DURATION.test(text) || text.length > 100) return null;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(GO_PART)) ms += Number(n) * GO_UNIT_MS[unit];
  return Number.isFinite(ms) ? ms : null;
}

/**
 * Returns a duration flag in ms: ours ("90s", "72h", "7d", "1w") or Go's ("1h30m", "1.5h"), so
 * flags copied from a Go tool's command line read the same. Throws CliError naming the flag.
 */
export function parseDuration(value: string, flag: string): number {
  const ms = durationMs(value) ?? goDurationMs(value.trim());
  if (ms === null) throw new CliError(`${flag} must be a duration such as 90s, 15m, 72h, 1h30m or 7d, got ${JSON.stringify(value)}`);
  return ms;
}

/**
 * Returns `now-<value>` for a duration flag such as `--from 72h`, checked as parseDuration checks
 * it. The server reads the same durations, so the user's own words travel to the server and come
 * back in its messages ("between now-72h and now"), never a conversion such as now-259200s.
 */
export function agoFromNow(value: string, flag: string): string {
  parseDuration(value, flag);
  return `now-${value.trim()}`;
}
