import { tQuantile } from './student-t.js';

/**
 * An estimate from n independent observations: its value, its standard error, and the degrees
 * of freedom of its t interval (n - 1).
 */
export interface Estimate {
  value: number;
  standardError: number;
  n: number;
}

/** A value with the bounds of its confidence interval. */
export interface Interval {
  value: number;
  low: number;
  high: number;
}

/** The mean of `values` (at least one) and its standard error (0 with a single value). */
export function meanEstimate(values: readonly number[]): Estimate {
  const n = values.length;
  if (n === 0) throw new RangeError('a mean needs at least one value');
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return { value: mean, standardError: n > 1 ? Math.sqrt(squares / (n - 1) / n) : 0, n };
}

/**
 * The ratio Σnumerator / Σdenominator over observations (e.g. CPU time over requests, one pair
 * per profile) and its standard error by the delta method:
 * SE² = Σ(num_i − R·den_i)² / (n (n − 1) mean(den)²). This is the ratio a user measures by
 * dividing totals (what getrusage over the same period gives), and unlike the mean of per-profile
 * ratios it does not overweight profiles with few requests. Needs at least one observation with a
 * positive denominator sum.
 */
export function ratioEstimate(pairs: ReadonlyArray<{ numerator: number; denominator: number }>): Estimate {
  const n = pairs.length;
  let num = 0;
  let den = 0;
  for (const p of pairs) {
    num += p.numerator;
    den += p.denominator;
  }
  if (n === 0 || !(den > 0)) throw new RangeError('a ratio needs observations whose denominators sum to more than zero');
  const ratio = num / den;
  if (n === 1) return { value: ratio, standardError: 0, n };
  const meanDen = den / n;
  let squares = 0;
  for (const p of pairs) squares += (p.numerator - ratio * p.denominator) ** 2;
  return { value: ratio, standardError: Math.sqrt(squares / (n * (n - 1))) / meanDen, n };
}

/** The two-sided confidence interval of one estimate at `level` (0.95 by default), t with n − 1 df. */
export function estimateInterval(e: Estimate, level = 0.95): Interval {
  if (e.n < 2) return { value: e.value, low: Number.NEGATIVE_INFINITY, high: Number.POSITIVE_INFINITY };
  const half = tQuantile(0.5 + level / 2, e.n - 1) * e.standardError;
  return { value: e.value, low: e.value - half, high: e.value + half };
}
