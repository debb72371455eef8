import { CliError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Returns a duration flag ("90s", "72h", "7d") in ms, or throws CliError naming the flag. */
export function parseDuration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(value.trim());
  if (!m) throw new CliError(`${flag} must be a duration such as 90s, 15m, 72h or 7d, got ${JSON.stringify(value)}`);
  return Number(m[1]) * UNIT_MS[m[2]];
}
