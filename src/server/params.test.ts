import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError } from './http-error.js';
import { integerParam } from './integer-param.js';
import { Throttle } from './throttled-log.js';
import { durationMs, parseTimeParam } from './time-params.js';

const NOW = Date.UTC(2026, 0, 1);

describe('integerParam', () => {
  const range = { min: 1, max: 1000, fallback: 50 };
  it('reads decimal digits in range, and the fallback when absent', () => {
    assert.equal(integerParam({}, 'limit', range), 50);
    assert.equal(integerParam({ limit: '1000' }, 'limit', range), 1000);
    assert.equal(integerParam({ limit: '007' }, 'limit', range), 7);
  });
  it('refuses every other spelling JavaScript would read as a number, with 400', () => {
    for (const value of ['1e3', '0x10', '0b1', ' 5', '5 ', '5.0', '', '-1', '+5', '0', '1001', 'Infinity', '1_0', '９']) {
      assert.throws(
        () => integerParam({ limit: value }, 'limit', range),
        (err: unknown) => err instanceof HttpError && err.status === 400 && err.code === 'bad_parameter' && err.message.includes('"limit"'),
        JSON.stringify(value),
      );
    }
  });
});

describe('parseTimeParam', () => {
  it('reads now, now-<duration>, RFC 3339 and epoch ms', () => {
    assert.equal(parseTimeParam('now', 'from', NOW), NOW);
    assert.equal(parseTimeParam('now-72h', 'from', NOW), NOW - 72 * 3_600_000);
    assert.equal(parseTimeParam('2025-06-01T00:00:00Z', 'from', NOW), Date.UTC(2025, 5, 1));
    assert.equal(parseTimeParam('1700000000000', 'to', NOW), 1_700_000_000_000);
  });
  it('refuses times outside 1970..9999 and durations beyond any date with 400, so formatting them cannot throw', () => {
    for (const value of [
      '1e300',
      '-99999999999999',
      'now-999999999d',
      'now-1e3d',
      '9999999999999999',
      '+275760-09-13T00:00:00Z',
      '10000-01-01T00:00:00Z',
    ]) {
      assert.throws(
        () => parseTimeParam(value, 'from', NOW),
        (err: unknown) => err instanceof HttpError && err.status === 400 && err.message.startsWith('"from" must be'),
        value,
      );
    }
    assert.equal(durationMs(`${'9'.repeat(20)}d`), null);
    assert.equal(durationMs('500ms'), 500);
  });
});

describe('Throttle', () => {
  it('passes one occurrence per interval and says how many were held back', () => {
    let t = 0;
    const throttle = new Throttle(60_000, () => t);
    assert.deepEqual(throttle.pass(), { suppressed: 0 });
    for (let i = 0; i < 5; i++) assert.equal(throttle.pass(), null);
    t = 59_999;
    assert.equal(throttle.pass(), null);
    t = 60_000;
    assert.deepEqual(throttle.pass(), { suppressed: 6 });
  });
});
