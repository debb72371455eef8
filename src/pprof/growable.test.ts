import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GrowableInt32, projectedCapacity } from './growable.js';

describe('projectedCapacity', () => {
  it('doubles until 1/16 of the input is read', () => {
    assert.equal(projectedCapacity(100, 101, 100, 10, 1000, 1e9), 200);
  });

  it('then projects the final count from the rate so far, plus 1/16', () => {
    // 1000 elements from 1/4 of the input: 4000 in all.
    assert.equal(projectedCapacity(1000, 1001, 1000, 250, 1000, 1e9), Math.ceil(4000 * 1.0625) + 64);
  });

  it('grows by 1/8 at least, to what is needed at least, never above the most the input can hold', () => {
    // The projection (1127) is below 1/8 more than now (1000 + 125 + 16).
    assert.equal(projectedCapacity(1000, 1001, 1000, 1000, 1000, 1e9), 1141);
    assert.equal(projectedCapacity(10, 5000, 10, 500, 1000, 1e9), 5000);
    assert.equal(projectedCapacity(1000, 1001, 1000, 100, 1000, 1200), 1200);
  });
});

describe('Growable resize', () => {
  it('keeps the elements and sets the exact capacity', () => {
    const g = new GrowableInt32(4);
    for (let i = 0; i < 5; i++) g.push(i);
    g.resize(100);
    assert.equal(g.data.length, 100);
    assert.deepEqual(Array.from(g.finish()), [0, 1, 2, 3, 4]);
    g.resize(1);
    assert.equal(g.data.length, 5, 'never below the length');
  });
});
