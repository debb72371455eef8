const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Returns a duration such as "500ms", "90s", "15m", "72h", "7d" or "1w" in ms, or null when it is not one. */
export function durationMs(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : null;
}

/**
 * Returns a time parameter as ms since the epoch. Accepts `now`, `now-<duration>` (`now-72h`),
 * RFC 3339 and plain ms since the epoch. Throws RangeError naming the parameter otherwise.
 */
export function parseTimeParam(value: string, name: string, now: number): number {
  const v = value.trim();
  if (v === 'now') return now;
  if (v.startsWith('now-')) {
    const ago = durationMs(v.slice(4));
    if (ago !== null) return now - ago;
  }
  if (/^\d{1,16}$/.test(v)) return Number(v);
  if (/^\d{4}-\d{2}-\d{2}T/.test(v)) {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return ms;
  }
  throw new RangeError(`"${name}" must be now, now-<N><s|m|h|d|w>, RFC 3339 or ms since the epoch, got ${JSON.stringify(value)}`);
}

/**
 * Returns the window [from, to] in ms since the epoch from `from` and `to` parameters (each as
 * parseTimeParam reads it; missing ones take the defaults, `to` defaulting to now). Throws
 * RangeError naming the bad parameter.
 */
export function parseWindow(
  q: { from?: string; to?: string },
  defaultFrom: string,
  now: number = Date.now(),
): { from: number; to: number } {
  return { from: parseTimeParam(q.from ?? defaultFrom, 'from', now), to: parseTimeParam(q.to ?? 'now', 'to', now) };
}
