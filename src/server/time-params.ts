const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Returns a time parameter as ms since the epoch. Accepts `now`, `now-72h` (s, m, h, d, w),
 * RFC 3339 and plain ms since the epoch. Throws RangeError naming the parameter otherwise.
 */
export function parseTimeParam(value: string, name: string, now: number): number {
  const v = value.trim();
  const relative = /^now(?:-(\d+)([smhdw]))?$/.exec(v);
  if (relative) return relative[1] === undefined ? now : now - Number(relative[1]) * UNIT_MS[relative[2]];
  if (/^\d{1,16}$/.test(v)) return Number(v);
  if (/^\d{4}-\d{2}-\d{2}T/.test(v)) {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return ms;
  }
  throw new RangeError(`"${name}" must be now, now-<N><s|m|h|d|w>, RFC 3339 or ms since the epoch, got ${JSON.stringify(value)}`);
}
