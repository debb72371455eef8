import type { TimelineJson, TimelineMarkerJson, TimelineSeriesJson, TimelineSplit } from '../api/types.js';
import type { ProfileRecord } from '../store/types.js';

/** Most buckets one timeline has: a chart is at most a few thousand pixels wide, and each bucket costs every series a number. */
export const MAX_TIMELINE_BUCKETS = 1000;
/** Most series drawn: past this the smallest are summed into one "other" series, so a busy deploy history stays readable. */
export const MAX_TIMELINE_SERIES = 12;
/** Most markers of each kind: the first appearances, oldest first. */
export const MAX_TIMELINE_MARKERS = 100;

/** The label of the series that sums the smallest values when there are more than MAX_TIMELINE_SERIES. */
export const OTHER_SERIES = '(other)';

export interface TimelineWindow {
  /** Window, ms since the epoch; `to` is after `from`. */
  from: number;
  to: number;
  /** Bucket length in ms, at least 1; buckets start at `from`, the last one ends at `to` (and may be shorter). */
  step: number;
  split: TimelineSplit;
}

/** The value of the split a profile belongs to ("" when the profile does not say). */
function splitValue(r: ProfileRecord, split: TimelineSplit): string {
  if (split === 'pgo') return r.pgo === null ? '' : String(r.pgo);
  return r.version;
}

function splitLabel(value: string, split: TimelineSplit): string {
  if (value === OTHER_SERIES) return value;
  if (split === 'pgo') return value === '' ? 'pgo not sent' : `pgo:${value}`;
  return value === '' ? '(no version)' : value;
}

/** CPU seconds of one profile: its mean cores over its profiled duration; null without a CPU profile. */
export function profileCpuSeconds(r: ProfileRecord): number | null {
  if (r.cpuCores === null || !Number.isFinite(r.cpuCores) || !(r.durationNanos > 0)) return null;
  return (r.cpuCores * r.durationNanos) / 1e9;
}

/** Requests the profile's period served, summed over dd-trace-go's endpoint counts; null when none were sent. */
export function profileRequests(r: ProfileRecord): number | null {
  if (r.endpointCounts === null) return null;
  let sum = 0;
  for (const v of Object.values(r.endpointCounts)) if (Number.isFinite(v) && v > 0) sum += v;
  return sum;
}

/**
 * Calls `add(bucket, share)` for every bucket the profile's period [start, end] overlaps inside
 * the window, with the share (0..1] of the period that falls in it. A profile of zero length
 * puts its whole value in the bucket holding its start. The shares sum to the part of the
 * period inside the window, so a profile half outside counts half.
 */
function spread(r: ProfileRecord, w: TimelineWindow, buckets: number, add: (bucket: number, share: number) => void): void {
  const span = r.end - r.start;
  if (!(span > 0)) {
    if (r.start < w.from || r.start > w.to) return;
    add(Math.min(buckets - 1, Math.floor((r.start - w.from) / w.step)), 1);
    return;
  }
  const lo = Math.max(r.start, w.from);
  const hi = Math.min(r.end, w.to);
  if (!(hi > lo)) return;
  const first = Math.min(buckets - 1, Math.floor((lo - w.from) / w.step));
  const last = Math.min(buckets - 1, Math.floor((hi - w.from) / w.step));
  for (let b = first; b <= last; b++) {
    const bStart = w.from + b * w.step;
    const bEnd = b === buckets - 1 ? w.to : bStart + w.step;
    const overlap = Math.min(hi, bEnd) - Math.max(lo, bStart);
    if (overlap > 0) add(b, overlap / span);
  }
}

interface Accumulating {
  value: string;
  firstStart: number;
  profiles: number;
  cpuSeconds: Float64Array;
  countedCpuSeconds: Float64Array;
  requests: Float64Array;
}

/** Number of buckets of a window: the last one may be shorter than the step. */
export function bucketCount(from: number, to: number, step: number): number {
  return Math.ceil((to - from) / step);
}

/**
 * Returns the CPU timeline of `records` in the window: per split value (version or pgo) and
 * bucket, the CPU seconds the profiles spent there, CPU cores (those seconds over the bucket's
 * length) and, for profiles that carry dd-trace-go's endpoint counts, requests and CPU seconds per
 * request. Each profile's CPU time is spread over the buckets its period overlaps in proportion
 * to the overlap, so the buckets of all series sum to the profiles' CPU time inside the window.
 * Markers give the first profile of each version and pgo value that was not there from the
 * window's start. Computed from the index records alone: no profile is read.
 */
export function buildTimeline(
  records: readonly ProfileRecord[],
  w: TimelineWindow,
): Pick<TimelineJson, 'buckets' | 'series' | 'markers' | 'totals'> & { withCpu: number; withRequests: number } {
  if (!(w.to > w.from) || !(w.step >= 1)) throw new RangeError(`a timeline needs from < to and a step of at least 1 ms`);
  const buckets = bucketCount(w.from, w.to, w.step);
  if (buckets > MAX_TIMELINE_BUCKETS) throw new RangeError(`${buckets} buckets is over the limit of ${MAX_TIMELINE_BUCKETS}`);
  const bySplit = new Map<string, Accumulating>();
  let withCpu = 0;
  let withRequests = 0;
  for (const r of records) {
    const cpu = profileCpuSeconds(r);
    const requests = profileRequests(r);
    const value = splitValue(r, w.split);
    let s = bySplit.get(value);
    if (s === undefined) {
      s = {
        value,
        firstStart: r.start,
        profiles: 0,
        cpuSeconds: new Float64Array(buckets),
        countedCpuSeconds: new Float64Array(buckets),
        requests: new Float64Array(buckets),
      };
      bySplit.set(value, s);
    }
    s.profiles++;
    s.firstStart = Math.min(s.firstStart, r.start);
    if (cpu !== null) withCpu++;
    if (requests !== null) withRequests++;
    const into = s;
    spread(r, w, buckets, (b, share) => {
      if (cpu !== null) into.cpuSeconds[b] += cpu * share;
      if (requests !== null) {
        into.requests[b] += requests * share;
        if (cpu !== null) into.countedCpuSeconds[b] += cpu * share;
      }
    });
  }
  const series = mergeSmallest([...bySplit.values()], buckets);
  const bucketSeconds = Array.from(
    { length: buckets },
    (_, b) => (Math.min(w.to, w.from + (b + 1) * w.step) - (w.from + b * w.step)) / 1000,
  );
  let totalCpu = 0;
  let totalRequests = 0;
  let totalCounted = 0;
  const out: TimelineSeriesJson[] = series.map((s) => {
    const cpuPerRequest: Array<number | null> = [];
    for (let b = 0; b < buckets; b++) {
      totalCpu += s.cpuSeconds[b];
      totalRequests += s.requests[b];
      totalCounted += s.countedCpuSeconds[b];
      cpuPerRequest.push(s.requests[b] > 0 ? s.countedCpuSeconds[b] / s.requests[b] : null);
    }
    return {
      value: s.value,
      label: splitLabel(s.value, w.split),
      profiles: s.profiles,
      cpuSeconds: Array.from(s.cpuSeconds),
      cpuCores: Array.from(s.cpuSeconds, (v, b) => v / bucketSeconds[b]),
      requests: Array.from(s.requests),
      cpuPerRequest,
    };
  });
  return {
    buckets,
    series: out,
    markers: [...markersOf(records, w, 'version'), ...markersOf(records, w, 'pgo')].sort((a, b) => a.atMs - b.atMs),
    totals: { cpuSeconds: totalCpu, requests: totalRequests, cpuPerRequest: totalRequests > 0 ? totalCounted / totalRequests : null },
    withCpu,
    withRequests,
  };
}

/** The series oldest first; past MAX_TIMELINE_SERIES the ones with the least CPU are summed into one "other" series. */
function mergeSmallest(all: Accumulating[], buckets: number): Accumulating[] {
  const byAge = (a: Accumulating, b: Accumulating) => a.firstStart - b.firstStart || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
  if (all.length <= MAX_TIMELINE_SERIES) return all.sort(byAge);
  const sum = (s: Accumulating) => s.cpuSeconds.reduce((a, b) => a + b, 0);
  const ranked = all.sort((a, b) => sum(b) - sum(a) || byAge(a, b));
  const kept = ranked.slice(0, MAX_TIMELINE_SERIES - 1);
  const other: Accumulating = {
    value: OTHER_SERIES,
    firstStart: Number.POSITIVE_INFINITY,
    profiles: 0,
    cpuSeconds: new Float64Array(buckets),
    countedCpuSeconds: new Float64Array(buckets),
    requests: new Float64Array(buckets),
  };
  for (const s of ranked.slice(MAX_TIMELINE_SERIES - 1)) {
    other.profiles += s.profiles;
    other.firstStart = Math.min(other.firstStart, s.firstStart);
    for (let b = 0; b < buckets; b++) {
      other.cpuSeconds[b] += s.cpuSeconds[b];
      other.countedCpuSeconds[b] += s.countedCpuSeconds[b];
      other.requests[b] += s.requests[b];
    }
  }
  return [...kept.sort(byAge), other];
}

/**
 * Where a new version or pgo value first appears in the window, oldest first: values already
 * running at the window's start get no marker, and a value returning after a rollback is not
 * marked again (hosts of a rolling deploy interleave, so only first appearances are meaningful).
 * Profiles that do not say their version or pgo flag are left out.
 */
function markersOf(records: readonly ProfileRecord[], w: TimelineWindow, kind: 'version' | 'pgo'): TimelineMarkerJson[] {
  const sorted = records.filter((r) => splitValue(r, kind) !== '').sort((a, b) => a.start - b.start || a.end - b.end);
  const seen = new Set<string>();
  const markers: TimelineMarkerJson[] = [];
  let previous: string | null = null;
  for (const r of sorted) {
    const value = splitValue(r, kind);
    if (!seen.has(value)) {
      seen.add(value);
      // The first value of the window, or one already running when the window opened, is no change.
      if (previous !== null && r.start >= w.from && markers.length < MAX_TIMELINE_MARKERS) {
        markers.push({ kind, at: new Date(r.start).toISOString(), atMs: r.start, value, previous });
      }
    }
    previous = value;
  }
  return markers;
}
