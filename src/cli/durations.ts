import { durationMs } from '../time/parse-time.js';
import { CliError } from './errors.js';

/** Returns a duration flag ("90s", "72h", "7d") in ms, or throws CliError naming the flag. */
export function parseDuration(value: string, flag: string): number {
  const ms = durationMs(value);
  if (ms === null) throw new CliError(`${flag} must be a duration such as 90s, 15m, 72h or 7d, got ${JSON.stringify(value)}`);
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
