import type { Interval } from './estimate.js';

/** A small seeded generator (mulberry32): the same seed gives the same resamples, so a run is reproducible. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Most resamples a bootstrap draws: beyond ~10,000 the percentiles no longer move. */
export const MAX_RESAMPLES = 100_000;

/**
 * The percentile bootstrap interval of the mean of `values` (e.g. paired differences of adjacent
 * measurement slices): `resamples` means of samples drawn with replacement, and the interval
 * between their (1 − level)/2 and (1 + level)/2 quantiles. It assumes nothing about the shape of
 * the distribution, which matters for CPU measurements on a shared machine (skewed by
 * neighbours' bursts). Needs at least two values; reproducible for a given seed.
 */
export function bootstrapMeanInterval(
  values: readonly number[],
  options: { level?: number; resamples?: number; seed?: number } = {},
): Interval {
  const n = values.length;
  if (n < 2) throw new RangeError('a bootstrap interval needs at least two values');
  const level = options.level ?? 0.95;
  const resamples = Math.min(options.resamples ?? 10_000, MAX_RESAMPLES);
  const random = generator(options.seed ?? 1);
  let sum = 0;
  for (const v of values) sum += v;
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(random() * n)];
    means[r] = s / n;
  }
  means.sort();
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))];
  return { value: sum / n, low: at((1 - level) / 2), high: at((1 + level) / 2) };
}
