import { durationMs } from '../time/parse-time.js';
import { CliError } from './errors.js';

/** Returns a duration flag ("90s", "72h", "7d") in ms, or throws CliError naming the flag. */
export function parseDuration(value: string, flag: string): number {
  const ms = durationMs(value);
  if (ms === null) throw new CliError(`${flag} must be a duration such as 90s, 15m, 72h or 7d, got ${JSON.stringify(value)}`);
  return ms;
}
