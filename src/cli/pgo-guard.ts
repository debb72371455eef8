import type { ImpactGuardJson, ImpactJson } from '../api/types.js';
import { guardNote } from '../impact/report.js';

/** How `hotpath pgo` logs; its own logger, so that the lines look like the rest of its output. */
export interface GuardLog {
  warn(msg: string, attrs?: Record<string, unknown>): void;
  debug(msg: string, attrs?: Record<string, unknown>): void;
}

/** Longest the guard may add to `hotpath pgo`: it runs after the file is written and must not hold up a build. */
const GUARD_TIMEOUT_MS = 10_000;

/**
 * After `hotpath pgo` wrote its file: for each query, asks the server's impact report whether the
 * service's pgo:true profiles hold significantly more heap or goroutines than its pgo:false ones
 * in the same window, and logs a WARN line per flagged figure with a `pgo-regression` field
 * (the guard's JSON: rise, functions that grew, --no-inline candidates). Never fails: a server
 * without the report, a key without profiles_read or a timeout is logged at debug level only.
 */
export async function warnOnPgoRegression(
  server: string,
  key: string | undefined,
  queries: readonly string[],
  from: string,
  log: GuardLog,
  /** How to reach the server: the caller's fetch, which knows its CA file. */
  get: (url: URL, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<Response> = (url, init) => fetch(url, init),
): Promise<ImpactGuardJson[]> {
  const flagged: ImpactGuardJson[] = [];
  for (const query of queries) {
    const url = new URL('/api/v1/impact', server);
    url.searchParams.set('before', `${query} pgo:false`);
    url.searchParams.set('after', `${query} pgo:true`);
    url.searchParams.set('from', from);
    try {
      const res = await get(url, {
        headers: key ? { authorization: `Bearer ${key}` } : {},
        signal: AbortSignal.timeout(GUARD_TIMEOUT_MS),
      });
      if (!res.ok) {
        log.debug('no PGO regression check', {
          query,
          status: res.status,
          reason: ((await res.json().catch(() => ({}))) as { error?: string }).error,
        });
        continue;
      }
      const report = (await res.json()) as ImpactJson;
      for (const g of report.guard ?? []) {
        if (!g.flagged) continue;
        flagged.push(g);
        log.warn(`PGO regression: ${guardNote(g)}`, { query, 'pgo-regression': g });
      }
    } catch (err) {
      log.debug('no PGO regression check', { query, reason: (err as Error).message });
    }
  }
  return flagged;
}
