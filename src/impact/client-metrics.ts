/**
 * The figures a profiling client sends beside its profiles: dd-trace-go's `metrics.json`, a JSON
 * array of `[name, value]` pairs computed from runtime.MemStats and runtime.NumGoroutine over the
 * profile's period (dd-trace-go v2.12: go_alloc_bytes_per_sec, go_allocs_per_sec,
 * go_frees_per_sec, go_heap_growth_bytes_per_sec, go_gcs_per_sec, go_gc_pause_time,
 * go_max_gc_pause_time, go_num_goroutine). It carries no heap-in-use level: its memory figures are
 * rates over the period.
 */

/** dd-trace-go's attachment name. */
export const CLIENT_METRICS_ATTACHMENT = 'metrics.json';
/** Largest metrics.json read (decompressed): dd-trace-go's is about 300 bytes. */
export const MAX_CLIENT_METRICS_BYTES = 64 * 1024;
/** Most pairs read from one file; the rest are ignored. */
export const MAX_CLIENT_METRICS = 256;
/** Longest metric name kept. */
const MAX_NAME_LENGTH = 200;

/** The memory and goroutine figures of metrics.json the regression guard compares, with their unit. */
export const CLIENT_GUARD_FIGURES = [
  { name: 'go_num_goroutine', unit: 'count' },
  { name: 'go_alloc_bytes_per_sec', unit: 'bytes_per_second' },
  { name: 'go_heap_growth_bytes_per_sec', unit: 'bytes_per_second' },
] as const;

export type ClientGuardFigure = (typeof CLIENT_GUARD_FIGURES)[number]['name'];

/** Why a metrics.json could not be read. */
export class ClientMetricsError extends Error {}

/**
 * The finite numeric figures of one metrics.json, by name. Pairs that are not a string and a
 * finite number are skipped (a client may add figures of other shapes); anything that is not a
 * JSON array of pairs, or is larger than MAX_CLIENT_METRICS_BYTES, is a ClientMetricsError. A name
 * sent twice keeps its first value.
 */
export function parseClientMetrics(bytes: Uint8Array): Map<string, number> {
  if (bytes.length > MAX_CLIENT_METRICS_BYTES) {
    throw new ClientMetricsError(`metrics.json is ${bytes.length} bytes, more than the ${MAX_CLIENT_METRICS_BYTES} read`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new ClientMetricsError(`metrics.json is not UTF-8 JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new ClientMetricsError('metrics.json is not a JSON array of [name, value] pairs');
  const out = new Map<string, number>();
  for (const pair of parsed.slice(0, MAX_CLIENT_METRICS)) {
    if (!Array.isArray(pair) || pair.length !== 2) continue;
    const [name, value] = pair as unknown[];
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || out.has(name)) continue;
    out.set(name, value);
  }
  return out;
}
