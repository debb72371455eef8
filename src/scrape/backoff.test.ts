import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, nextGridTime, scrapePhase } from './backoff.js';

describe('backoffDelay', () => {
  it('waits the interval after one failure, then doubles per failure up to the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((f) => backoffDelay(f, 10_000, 300_000));
    assert.deepEqual(delays, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it('never waits less than the interval, even with a smaller cap', () => {
    assert.equal(backoffDelay(5, 60_000, 1000), 60_000);
  });

  it('stays finite and capped after any number of failures', () => {
    assert.equal(backoffDelay(1_000_000, 1000, 600_000), 600_000);
    assert.equal(backoffDelay(Number.MAX_SAFE_INTEGER, 2 ** 31 - 1, 2 ** 31 - 1), 2 ** 31 - 1);
  });

  it('adds up to a tenth of jitter, below the cap', () => {
    assert.equal(backoffDelay(2, 10_000, 300_000, 0.5), 21_000);
    assert.ok(backoffDelay(2, 10_000, 300_000, 0.999) < 22_000);
    assert.equal(backoffDelay(20, 10_000, 300_000, 0.9), 300_000);
    // Out-of-range jitter is clamped, never a negative or runaway wait.
    assert.equal(backoffDelay(1, 10_000, 300_000, -5), 10_000);
    assert.ok(backoffDelay(1, 10_000, 300_000, 7) < 11_000);
  });
});

describe('scrapePhase', () => {
  it('is the same for a target every time, within the interval, and spreads targets out', () => {
    const offsets = Array.from({ length: 200 }, (_, i) => scrapePhase(`["api","10.0.0.${i}:6060",[]]`, 60_000));
    assert.deepEqual(
      offsets,
      Array.from({ length: 200 }, (_, i) => scrapePhase(`["api","10.0.0.${i}:6060",[]]`, 60_000)),
    );
    assert.ok(offsets.every((o) => Number.isInteger(o) && o >= 0 && o < 60_000));
    // 200 targets over ten 6-second slices: every slice gets some.
    const slices = new Set(offsets.map((o) => Math.floor(o / 6000)));
    assert.equal(slices.size, 10);
  });
});

describe('nextGridTime', () => {
  it('returns the first grid point after now, skipping the ones a long scrape overran', () => {
    assert.equal(nextGridTime(1000, 60_000, 1500), 61_000);
    assert.equal(nextGridTime(1000, 60_000, 61_000), 121_000);
    assert.equal(nextGridTime(1000, 60_000, 250_000), 301_000);
    // Before the anchor: the anchor itself, or the grid point before it that is still ahead.
    assert.equal(nextGridTime(100_000, 60_000, 10_000), 40_000);
    assert.equal(nextGridTime(100_000, 60_000, 40_000), 100_000);
  });
});
