/**
 * Returns how long to wait before the next scrape of a target after `failures` consecutive
 * failures (at least 1): the interval, doubled for each failure after the first, never more
 * than `maxMs` (and never less than the interval). `jitter` in [0, 1) adds up to a tenth below the cap, so
 * several schedulers backing off from one busy target do not retry in lockstep.
 */
export function backoffDelay(failures: number, intervalMs: number, maxMs: number, jitter = 0): number {
  const cap = Math.max(intervalMs, maxMs);
  // 2^30 times any interval is beyond every cap: stop doubling before the number overflows.
  const doubled = intervalMs * 2 ** Math.min(Math.max(failures - 1, 0), 30);
  return Math.round(Math.min(cap, doubled * (1 + 0.1 * Math.min(Math.max(jitter, 0), 0.999))));
}

/** New targets are first scraped within this time of being found, so a new config shows results quickly. */
export const FIRST_SCRAPE_WINDOW_MS = 5000;

/**
 * Returns the phase of a target's scrapes within its interval, from a hash of its key: the same
 * target always gets the same phase (as in Prometheus), and many targets spread over the
 * interval instead of all scraping at once.
 */
export function scrapePhase(key: string, intervalMs: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % Math.max(1, Math.floor(intervalMs));
}

/**
 * Returns the next time on a target's grid (`anchor` plus whole intervals) strictly after
 * `now`: a scrape that overran skips the grid points it missed instead of running late ones.
 */
export function nextGridTime(anchor: number, intervalMs: number, now: number): number {
  let next = anchor + Math.ceil((now - anchor) / intervalMs) * intervalMs;
  if (next <= now) next += intervalMs;
  return next;
}
