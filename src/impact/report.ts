import type {
  ImpactDifferenceJson,
  ImpactEndpointJson,
  ImpactGuardJson,
  ImpactIntervalJson,
  ImpactJson,
  ImpactSideJson,
  ImpactVerdict,
} from '../api/types.js';
import type { ProfileRecord } from '../store/types.js';
import { CLIENT_GUARD_FIGURES } from './client-metrics.js';
import { type Estimate, estimateInterval, type Interval, meanEstimate, ratioEstimate } from './estimate.js';
import { guardFigure } from './guard.js';
import { MIN_PROFILES, MIN_REQUESTS } from './minimums.js';
import { profileFigures } from './profile-figures.js';
import type { ResourceFigures } from './resource-figures.js';
import { welchDifference } from './welch.js';

export { MIN_PROFILES, MIN_REQUESTS };
/** Most endpoint rows in a report (those with the most requests). */
export const MAX_ENDPOINT_ROWS = 20;
const LEVEL = 0.95;

/** One side of the report as the caller selected it. */
export interface ImpactSideInput {
  query: string;
  /** The selected profiles (newest first). */
  records: readonly ProfileRecord[];
  /**
   * CPU nanoseconds per `trace endpoint` label of the profiles whose CPU profile was decoded
   * (as in the CPU profile, before scaling to the period); profiles absent here count in no
   * endpoint row.
   */
  endpointCpu: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Heap in use and goroutines of the profiles read for the regression guard; none when absent. */
  heap?: readonly ResourceFigures[];
  goroutines?: readonly ResourceFigures[];
  /** The figures of the client's metrics.json (see client-metrics.ts), one map per profile that sent one. */
  clientMetrics?: ReadonlyArray<ReadonlyMap<string, number>>;
}

export interface ImpactInput {
  from: string;
  to: string;
  before: ImpactSideInput;
  after: ImpactSideInput;
  /** Caveats the caller adds (limits reached, profiles that could not be decoded). */
  notes?: string[];
}

interface SideFigures {
  json: ImpactSideJson;
  perRequest: Estimate | null;
  cores: Estimate | null;
}

function intervalJson(i: Interval): ImpactIntervalJson {
  return { value: i.value, low: Number.isFinite(i.low) ? i.low : null, high: Number.isFinite(i.high) ? i.high : null };
}

function sideFigures(side: ImpactSideInput): SideFigures {
  const counted: Array<{ numerator: number; denominator: number }> = [];
  const cores: number[] = [];
  let requests = 0;
  let seconds = 0;
  for (const r of side.records) {
    const f = profileFigures(r);
    if (f.cpuNanos === null) continue;
    cores.push(f.cpuNanos / Math.max(1, f.wallNanos));
    seconds += f.wallNanos / 1e9;
    if (f.requests !== null) {
      counted.push({ numerator: f.cpuNanos, denominator: f.requests });
      requests += f.requests;
    }
  }
  const perRequest = requests > 0 ? ratioEstimate(counted) : null;
  const coreEstimate = cores.length > 0 ? meanEstimate(cores) : null;
  return {
    perRequest,
    cores: coreEstimate,
    json: {
      query: side.query,
      profiles: side.records.length,
      profilesWithCpu: cores.length,
      profilesWithCounts: counted.length,
      requests,
      seconds,
      cpuPerRequestNanos: perRequest === null ? null : intervalJson(estimateInterval(perRequest, LEVEL)),
      cpuCores: coreEstimate === null ? null : intervalJson(estimateInterval(coreEstimate, LEVEL)),
    },
  };
}

const NOT_ENOUGH: ImpactDifferenceJson = {
  absolute: { value: 0, low: null, high: null },
  relative: null,
  df: null,
  verdict: 'not enough data',
};

/** after − before by Welch, with the verdict: "not significant" whenever the interval holds zero. */
function difference(before: Estimate | null, after: Estimate | null): ImpactDifferenceJson {
  if (before === null || after === null || before.n < MIN_PROFILES || after.n < MIN_PROFILES) return NOT_ENOUGH;
  const d = welchDifference(before, after, LEVEL);
  const verdict: ImpactVerdict = d.low > 0 ? 'more' : d.high < 0 ? 'less' : 'not significant';
  // Relative bounds divide the interval by before's value; its own uncertainty is small next to
  // the difference's whenever the verdict matters.
  const relative = before.value > 0 ? { value: d.value / before.value, low: d.low / before.value, high: d.high / before.value } : null;
  return { absolute: intervalJson(d), relative: relative === null ? null : intervalJson(relative), df: d.df, verdict };
}

/** Formats a figure in the report's unit: nanoseconds per request as µs or ms, cores with 3 digits. */
export function formatImpactValue(value: number, unit: ImpactJson['unit']): string {
  if (unit === 'cores') return `${value.toFixed(3)} cores`;
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)} ms`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(1)} µs`;
  return `${value.toFixed(0)} ns`;
}

/** Formats a fraction as a signed percentage ("+3.1%", "−12.0%"). */
export function formatPercent(fraction: number): string {
  const pct = fraction * 100;
  return `${pct >= 0 ? '+' : '−'}${Math.abs(pct).toFixed(1)}%`;
}

function summaryOf(
  metric: ImpactJson['metric'],
  unit: ImpactJson['unit'],
  before: ImpactSideJson,
  after: ImpactSideJson,
  d: ImpactDifferenceJson,
): string {
  const what = metric === 'cpu_per_request' ? 'CPU per request' : 'CPU (cores)';
  if (d.verdict === 'not enough data') {
    const have = (s: ImpactSideJson) => (metric === 'cpu_per_request' ? s.profilesWithCounts : s.profilesWithCpu);
    const short = [
      have(before) < MIN_PROFILES ? `before has ${have(before)}` : '',
      have(after) < MIN_PROFILES ? `after has ${have(after)}` : '',
    ].filter((s) => s !== '');
    const which = metric === 'cpu_per_request' ? 'CPU profiles with request counts' : 'CPU profiles';
    return `Not enough data for ${what}: ${short.join(', ') || 'too few requests'} ${which}; at least ${MIN_PROFILES} per side are needed (widen the window or wait for more profiles).`;
  }
  const figure = (s: ImpactSideJson) => (metric === 'cpu_per_request' ? s.cpuPerRequestNanos : s.cpuCores);
  const b = figure(before);
  const a = figure(after);
  const values = b !== null && a !== null ? `${formatImpactValue(b.value, unit)} → ${formatImpactValue(a.value, unit)}` : '';
  const rel = d.relative;
  const range =
    rel !== null && rel.low !== null && rel.high !== null
      ? `${formatPercent(rel.value)} (95% CI ${formatPercent(rel.low)} to ${formatPercent(rel.high)})`
      : `${formatImpactValue(d.absolute.value, unit)}`;
  if (d.verdict === 'not significant') return `No significant change in ${what}: ${range}, ${values}.`;
  return `${what} ${d.verdict === 'less' ? 'fell' : 'rose'} ${range}: ${values}.`;
}

function endpointRows(before: ImpactSideInput, after: ImpactSideInput): ImpactEndpointJson[] {
  const totals = new Map<string, { before: number; after: number }>();
  const add = (side: ImpactSideInput, which: 'before' | 'after') => {
    for (const r of side.records) {
      if (r.endpointCounts === null || r.cpuCores === null) continue;
      for (const [endpoint, n] of Object.entries(r.endpointCounts)) {
        if (!(n > 0)) continue;
        const t = totals.get(endpoint) ?? { before: 0, after: 0 };
        t[which] += n;
        totals.set(endpoint, t);
      }
    }
  };
  add(before, 'before');
  add(after, 'after');
  const chosen = [...totals.entries()]
    .sort((x, y) => y[1].before + y[1].after - (x[1].before + x[1].after) || (x[0] < y[0] ? -1 : 1))
    .slice(0, MAX_ENDPOINT_ROWS);
  const estimate = (side: ImpactSideInput, endpoint: string): { requests: number; estimate: Estimate | null } => {
    const pairs: Array<{ numerator: number; denominator: number }> = [];
    let requests = 0;
    for (const r of side.records) {
      const cpu = side.endpointCpu.get(r.id);
      if (cpu === undefined || r.endpointCounts === null) continue;
      const n = r.endpointCounts[endpoint];
      const count = typeof n === 'number' && n > 0 ? n : 0;
      pairs.push({ numerator: (cpu.get(endpoint) ?? 0) * profileFigures(r).cpuScale, denominator: count });
      requests += count;
    }
    return { requests, estimate: requests >= MIN_REQUESTS ? ratioEstimate(pairs) : null };
  };
  return chosen.map(([endpoint, counts]) => {
    const b = estimate(before, endpoint);
    const a = estimate(after, endpoint);
    return {
      endpoint,
      beforeRequests: counts.before,
      afterRequests: counts.after,
      beforeCpuPerRequestNanos: b.estimate === null ? null : intervalJson(estimateInterval(b.estimate, LEVEL)),
      afterCpuPerRequestNanos: a.estimate === null ? null : intervalJson(estimateInterval(a.estimate, LEVEL)),
      difference: difference(b.estimate, a.estimate),
    };
  });
}

const GUARD_LABELS: Record<ImpactGuardJson['metric'], string> = {
  heap_inuse_bytes: 'heap in use',
  goroutines: 'goroutines',
  go_num_goroutine: 'goroutines (metrics.json)',
  go_alloc_bytes_per_sec: 'allocation rate (metrics.json)',
  go_heap_growth_bytes_per_sec: 'heap growth rate (metrics.json)',
};

/** What a guard figure is, in words ("heap in use", "allocation rate (metrics.json)"). */
export function guardLabel(metric: ImpactGuardJson['metric']): string {
  return GUARD_LABELS[metric] ?? metric;
}

/** The metrics.json figure `name` of each profile that sent it, as guard input (no per-function split). */
function clientFigures(maps: ReadonlyArray<ReadonlyMap<string, number>> | undefined, name: string): ResourceFigures[] {
  const out: ResourceFigures[] = [];
  for (const m of maps ?? []) {
    const v = m.get(name);
    if (v !== undefined) out.push({ total: v, byFunction: new Map(), inlined: new Set() });
  }
  return out;
}

/** The warning line of a flagged guard figure: what rose, by how much, through which functions. */
export function guardNote(g: ImpactGuardJson): string {
  const label = guardLabel(g.metric);
  const what = label.charAt(0).toUpperCase() + label.slice(1);
  const rel = g.relativeRise;
  const by =
    rel !== null && rel.low !== null && rel.high !== null
      ? `${formatPercent(rel.value)} (95% CI ${formatPercent(rel.low)} to ${formatPercent(rel.high)})`
      : '';
  const grew = g.grew
    .slice(0, 3)
    .map((x) => x.function)
    .join(', ');
  const candidates = g.noInlineCandidates.slice(0, 5).join(', ');
  return `${what} rose ${by}${grew ? `, mostly through ${grew}` : ''}.${candidates ? ` Newly inlined there: ${candidates} (candidates for hotpath pgo --no-inline).` : ''}`;
}

/**
 * The impact report of two selections of profiles. CPU per request when both sides have at least
 * MIN_PROFILES CPU profiles with request counts and MIN_REQUESTS requests: the ratio of total CPU
 * to total requests with its delta-method interval, and Welch's interval for the difference.
 * Otherwise average CPU cores, with a note that load is not accounted for. The verdict is "not
 * significant" whenever the 95% interval of the difference includes zero, "not enough data" below
 * the minimums. Endpoint rows use the `trace endpoint` label's CPU of the decoded profiles only.
 * The guard compares heap in use and goroutines per profile, and the memory and goroutine figures
 * of the client's metrics.json (those either side sent), and flags a significant, material rise;
 * a flagged one adds a note naming what grew.
 */
export function impactReport(input: ImpactInput): ImpactJson {
  const before = sideFigures(input.before);
  const after = sideFigures(input.after);
  const notes = [...(input.notes ?? [])];
  const countsOk = (s: SideFigures) => s.json.profilesWithCounts >= MIN_PROFILES && s.json.requests >= MIN_REQUESTS;
  const perRequest = countsOk(before) && countsOk(after);
  const metric: ImpactJson['metric'] = perRequest ? 'cpu_per_request' : 'cpu_cores';
  const unit: ImpactJson['unit'] = perRequest ? 'nanoseconds' : 'cores';
  if (!perRequest) {
    const missing = [
      countsOk(before) ? '' : `before (${before.json.profilesWithCounts} of ${before.json.profilesWithCpu} CPU profiles)`,
      countsOk(after) ? '' : `after (${after.json.profilesWithCounts} of ${after.json.profilesWithCpu} CPU profiles)`,
    ].filter((s) => s !== '');
    notes.push(
      `Compared in CPU cores, so load is not accounted for: a side that served more requests uses more CPU whatever the build. Too few profiles carry request counts: ${missing.join(' and ')}. Run dd-trace-go's tracer beside its profiler and set DD_PROFILING_ENDPOINT_COUNT_ENABLED=true to compare CPU per request.`,
    );
  }
  const d = perRequest ? difference(before.perRequest, after.perRequest) : difference(before.cores, after.cores);
  const guard = [
    guardFigure({ metric: 'heap_inuse_bytes', unit: 'bytes', before: input.before.heap ?? [], after: input.after.heap ?? [] }),
    guardFigure({ metric: 'goroutines', unit: 'count', before: input.before.goroutines ?? [], after: input.after.goroutines ?? [] }),
  ];
  for (const { name, unit } of CLIENT_GUARD_FIGURES) {
    const b = clientFigures(input.before.clientMetrics, name);
    const a = clientFigures(input.after.clientMetrics, name);
    if (b.length > 0 || a.length > 0) guard.push(guardFigure({ metric: name, unit, source: 'metrics.json', before: b, after: a }));
  }
  for (const g of guard.filter((x) => x.flagged)) notes.push(guardNote(g));
  return {
    from: input.from,
    to: input.to,
    level: LEVEL,
    metric,
    unit,
    before: before.json,
    after: after.json,
    difference: d,
    summary: summaryOf(metric, unit, before.json, after.json, d),
    notes,
    endpoints: perRequest ? endpointRows(input.before, input.after) : [],
    guard,
  };
}
