import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootstrapMeanInterval } from './bootstrap.js';
import { estimateInterval, meanEstimate, ratioEstimate } from './estimate.js';
import { tCdf, tQuantile } from './student-t.js';
import { welchDifference } from './welch.js';

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected} ± ${tolerance}`);

describe("Student's t", () => {
  it('quantiles equal the published table values', () => {
    // Two-sided 95% factors and others, from standard t tables.
    close(tQuantile(0.975, 1), 12.7062047, 1e-6, 't(0.975, 1)');
    close(tQuantile(0.975, 2), 4.30265273, 1e-7, 't(0.975, 2)');
    close(tQuantile(0.975, 10), 2.22813885, 1e-7, 't(0.975, 10)');
    close(tQuantile(0.975, 30), 2.04227246, 1e-7, 't(0.975, 30)');
    close(tQuantile(0.95, 5), 2.01504837, 1e-7, 't(0.95, 5)');
    close(tQuantile(0.995, 20), 2.84533971, 1e-7, 't(0.995, 20)');
    close(tQuantile(0.975, 1e9), 1.95996398, 1e-6, 'normal limit');
    close(tQuantile(0.025, 10), -2.22813885, 1e-7, 'lower tail');
  });

  it('the CDF is the quantile inverted, for fractional degrees of freedom too', () => {
    for (const df of [1.5, 3.7, 24.9]) {
      for (const p of [0.6, 0.9, 0.975]) close(tCdf(tQuantile(p, df), df), p, 1e-10, `df ${df} p ${p}`);
    }
  });

  it('refuses probabilities and degrees of freedom outside their range', () => {
    assert.throws(() => tQuantile(1, 5), /0 < p < 1/);
    assert.throws(() => tQuantile(0.9, 0), /degrees of freedom/);
  });
});

describe('estimates and intervals', () => {
  it('a mean, its standard error and its t interval', () => {
    const e = meanEstimate([2, 4, 4, 4, 5, 5, 7, 9]);
    assert.equal(e.value, 5);
    // sample variance 32/7
    close(e.standardError, Math.sqrt(32 / 7 / 8), 1e-12, 'SE');
    const ci = estimateInterval(e);
    close(ci.high - ci.value, 2.36462425 * e.standardError, 1e-7, 'half width with t(0.975, 7)');
  });

  it('a ratio of totals, not the mean of per-observation ratios, with the delta-method error', () => {
    // 10 requests at 1 ms and 1 request at 10 ms: the totals say 20/11 ms per request.
    const e = ratioEstimate([
      { numerator: 10, denominator: 10 },
      { numerator: 10, denominator: 1 },
    ]);
    close(e.value, 20 / 11, 1e-12, 'ratio');
    const r = 20 / 11;
    const expected = Math.sqrt(((10 - r * 10) ** 2 + (10 - r) ** 2) / 2) / 5.5;
    close(e.standardError, expected, 1e-12, 'SE');
    assert.equal(
      ratioEstimate([
        { numerator: 3, denominator: 3 },
        { numerator: 6, denominator: 6 },
      ]).standardError,
      0,
    );
    assert.throws(() => ratioEstimate([{ numerator: 1, denominator: 0 }]), /more than zero/);
  });

  it("Welch's interval on the textbook example (unequal variances)", () => {
    // Welch's t-test, example 1 of the Wikipedia article: t = 2.46 (B − A), ν = 24.99.
    const a = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
    const b = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
    const ea = meanEstimate(a);
    const eb = meanEstimate(b);
    const d = welchDifference(ea, eb);
    const se = Math.sqrt(ea.standardError ** 2 + eb.standardError ** 2);
    close(d.value / se, 2.46, 0.005, 't statistic');
    close(d.df, 24.99, 0.005, 'Welch–Satterthwaite df');
    close(d.high - d.value, tQuantile(0.975, d.df) * se, 1e-9, 'half width');
    assert.ok(d.low > 0, 'significant at 5% (p = 0.021)');
  });

  it('an interval that straddles zero when the difference is within the noise', () => {
    const d = welchDifference(meanEstimate([10, 12, 11, 9]), meanEstimate([10.5, 11.5, 9.5, 11]));
    assert.ok(d.low < 0 && d.high > 0);
    assert.throws(() => welchDifference(meanEstimate([1]), meanEstimate([1, 2])), /two observations/);
  });
});

describe('bootstrap', () => {
  it('matches the t interval on well-behaved data and is reproducible for a seed', () => {
    // 200 values from a fixed sequence, roughly normal (sum of 12 uniforms).
    let x = 12345;
    const rnd = () => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x / 2147483648;
    };
    const values = Array.from({ length: 200 }, () => {
      let s = 0;
      for (let i = 0; i < 12; i++) s += rnd();
      return 10 + (s - 6);
    });
    const boot = bootstrapMeanInterval(values, { seed: 7 });
    const t = estimateInterval(meanEstimate(values));
    close(boot.value, t.value, 1e-12, 'mean');
    // Percentile bootstrap of a mean is slightly narrower than t; within 10% of its half width.
    close(boot.high - boot.low, t.high - t.low, 0.1 * (t.high - t.low), 'width');
    assert.deepEqual(bootstrapMeanInterval(values, { seed: 7 }), boot);
    assert.throws(() => bootstrapMeanInterval([1]), /at least two/);
  });
});
