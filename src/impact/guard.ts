import type { ImpactGuardJson } from '../api/types.js';
import { estimateInterval, meanEstimate } from './estimate.js';
import { MIN_PROFILES } from './minimums.js';
import type { ResourceFigures } from './resource-figures.js';
import { welchDifference } from './welch.js';

/** Functions named as having grown, per figure. */
const MAX_GREW = 10;
/** Newly inlined functions named as --no-inline candidates. */
const MAX_CANDIDATES = 20;
const LEVEL = 0.95;
/**
 * A rise is flagged only when it is significant and also material: at least this share of before
 * and at least this much. Heap in use of a small service swings by megabytes with buffers of its
 * libraries (a compressor's window, a metrics client's pool) and goroutine counts with requests in
 * flight; a flag on those would teach users to ignore it. golang/go#65532 was +18% memory and +35%
 * goroutine stacks.
 */
export const MATERIAL_RISE = { fraction: 0.1, bytes: 32 * 1024 * 1024, bytesPerSecond: 32 * 1024 * 1024, count: 100 } as const;

/** One figure the guard watches, as read from each side's profiles. */
export interface GuardInput {
  metric: ImpactGuardJson['metric'];
  unit: ImpactGuardJson['unit'];
  /** Where the figures come from (profiles unless said). */
  source?: ImpactGuardJson['source'];
  before: readonly ResourceFigures[];
  after: readonly ResourceFigures[];
}

function meanByFunction(figures: readonly ResourceFigures[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of figures) for (const [name, v] of f.byFunction) out.set(name, (out.get(name) ?? 0) + v / figures.length);
  return out;
}

/**
 * Compares one resource (heap in use, goroutines) between the sides: the mean per profile with
 * its 95% interval, Welch's interval of the rise, and `flagged` when the rise is significant
 * (the interval lies above zero) and material (MATERIAL_RISE). A flagged figure names the functions whose share grew most and,
 * from the after side's stacks, the functions inlined there but never inlined before: with PGO,
 * the candidates for `hotpath pgo --no-inline` (golang/go#65532: inlining into long-running
 * goroutines grows their stacks and what they keep alive).
 */
export function guardFigure(input: GuardInput): ImpactGuardJson {
  const b = input.before.length > 0 ? meanEstimate(input.before.map((f) => f.total)) : null;
  const a = input.after.length > 0 ? meanEstimate(input.after.map((f) => f.total)) : null;
  const interval = (e: typeof a) => {
    if (e === null) return null;
    const i = estimateInterval(e, LEVEL);
    return { value: i.value, low: Number.isFinite(i.low) ? i.low : null, high: Number.isFinite(i.high) ? i.high : null };
  };
  const base: ImpactGuardJson = {
    metric: input.metric,
    unit: input.unit,
    source: input.source ?? 'profiles',
    beforeProfiles: input.before.length,
    afterProfiles: input.after.length,
    before: interval(b),
    after: interval(a),
    rise: null,
    relativeRise: null,
    verdict: 'not enough data',
    flagged: false,
    grew: [],
    noInlineCandidates: [],
  };
  if (b === null || a === null || b.n < MIN_PROFILES || a.n < MIN_PROFILES) return base;
  const d = welchDifference(b, a, LEVEL);
  const verdict = d.low > 0 ? 'more' : d.high < 0 ? 'less' : 'not significant';
  const floor =
    input.unit === 'bytes' ? MATERIAL_RISE.bytes : input.unit === 'bytes_per_second' ? MATERIAL_RISE.bytesPerSecond : MATERIAL_RISE.count;
  const flagged = verdict === 'more' && d.value >= floor && d.value >= MATERIAL_RISE.fraction * b.value;
  let grew: ImpactGuardJson['grew'] = [];
  let candidates: string[] = [];
  if (flagged) {
    const before = meanByFunction(input.before);
    const after = meanByFunction(input.after);
    grew = [...after.entries()]
      .map(([name, v]) => ({ function: name, before: before.get(name) ?? 0, after: v }))
      .filter((g) => g.after > g.before)
      .sort((x, y) => y.after - y.before - (x.after - x.before) || (x.function < y.function ? -1 : 1))
      .slice(0, MAX_GREW);
    const inlinedBefore = new Set<string>();
    for (const f of input.before) for (const n of f.inlined) inlinedBefore.add(n);
    const inStacksAfter = after;
    const newly = new Set<string>();
    for (const f of input.after) for (const n of f.inlined) if (!inlinedBefore.has(n) && inStacksAfter.has(n)) newly.add(n);
    // Heaviest first: the functions most of the growth passes through.
    candidates = [...newly].sort((x, y) => (after.get(y) ?? 0) - (after.get(x) ?? 0) || (x < y ? -1 : 1)).slice(0, MAX_CANDIDATES);
  }
  return {
    ...base,
    rise: { value: d.value, low: d.low, high: d.high },
    relativeRise: b.value > 0 ? { value: d.value / b.value, low: d.low / b.value, high: d.high / b.value } : null,
    verdict,
    flagged,
    grew,
    noInlineCandidates: candidates,
  };
}
