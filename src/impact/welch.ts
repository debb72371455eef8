import type { Estimate, Interval } from './estimate.js';
import { tQuantile } from './student-t.js';

/** The difference after − before of two independent estimates, with its interval. */
export interface Difference extends Interval {
  /** Welch–Satterthwaite degrees of freedom (fractional). */
  df: number;
}

/**
 * Welch's interval for `after.value − before.value`: the two sides may have different numbers
 * of observations and different variances (a PGO build at twice the load is noisier per second,
 * not per request). Degrees of freedom by Welch–Satterthwaite. Each side needs at least two
 * observations; when both standard errors are 0 the interval is the point itself.
 */
export function welchDifference(before: Estimate, after: Estimate, level = 0.95): Difference {
  if (before.n < 2 || after.n < 2) throw new RangeError("Welch's interval needs at least two observations on each side");
  const va = before.standardError ** 2;
  const vb = after.standardError ** 2;
  const value = after.value - before.value;
  const se = Math.sqrt(va + vb);
  if (se === 0) return { value, low: value, high: value, df: before.n + after.n - 2 };
  const df = (va + vb) ** 2 / (va ** 2 / (before.n - 1) + vb ** 2 / (after.n - 1));
  const half = tQuantile(0.5 + level / 2, df) * se;
  return { value, low: value - half, high: value + half, df };
}
