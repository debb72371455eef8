import type { Profile } from '../pprof/profile.js';
import { valueIndex } from '../pprof/profile.js';
import type { ProfileRecord } from '../store/types.js';

/** The label dd-trace-go's tracer puts on samples taken while a request of an endpoint runs. */
export const TRACE_ENDPOINT_LABEL = 'trace endpoint';

/** What one stored profile contributes to the impact report. */
export interface ProfileFigures {
  /** Wall-clock nanoseconds the profile covers (its start to its end). */
  wallNanos: number;
  /**
   * CPU nanoseconds used over the whole wall-clock period, or null without a CPU profile. The
   * CPU profile may cover less than the period (dd-trace-go's CPU duration can be shorter than
   * its period) while endpoint_counts cover all of it, so CPU is scaled up to the period, as
   * Datadog does.
   */
  cpuNanos: number | null;
  /** Requests over the period (the sum of endpoint_counts), or null when the client sent none. */
  requests: number | null;
  /** The factor from CPU in the CPU profile to CPU over the period (≥ 1; 1 when they match). */
  cpuScale: number;
}

/** The impact report's figures of one profile, from its index row alone (nothing decoded). */
export function profileFigures(record: ProfileRecord): ProfileFigures {
  const wallNanos = Math.max(0, (record.end - record.start) * 1e6);
  const cpuScale = record.durationNanos > 0 && wallNanos > record.durationNanos ? wallNanos / record.durationNanos : 1;
  const cpuNanos = record.cpuCores === null || record.durationNanos <= 0 ? null : record.cpuCores * record.durationNanos * cpuScale;
  let requests: number | null = null;
  if (record.endpointCounts !== null) {
    requests = 0;
    for (const n of Object.values(record.endpointCounts)) if (Number.isFinite(n) && n > 0) requests += n;
  }
  return { wallNanos, cpuNanos, requests, cpuScale };
}

/**
 * CPU nanoseconds of a decoded CPU profile per value of its `trace endpoint` label. Samples
 * without the label (the runtime's own work, GC, background goroutines) belong to no endpoint,
 * so these sums are smaller than the profile's total.
 */
export function cpuByEndpoint(p: Profile): Map<string, number> {
  const out = new Map<string, number>();
  const vi = valueIndex(p, 'cpu', 'nanoseconds');
  if (vi < 0) return out;
  const s = p.samples;
  const width = p.sampleTypes.length >> 1;
  for (let i = 0; i < s.count; i++) {
    for (let l = s.labelStart[i]; l < s.labelStart[i + 1]; l++) {
      if (s.labelStr[l] <= 0 || p.strings[s.labelKey[l]] !== TRACE_ENDPOINT_LABEL) continue;
      const endpoint = p.strings[s.labelStr[l]];
      out.set(endpoint, (out.get(endpoint) ?? 0) + s.values[i * width + vi]);
      break;
    }
  }
  return out;
}
