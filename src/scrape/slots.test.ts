import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScrapeSlots } from './slots.js';

describe('ScrapeSlots', () => {
  it('grants at most `size` slots, then serves waiters in arrival order as slots are released', async () => {
    const slots = new ScrapeSlots(2);
    const signal = new AbortController().signal;
    const a = await slots.acquire(signal);
    const b = await slots.acquire(signal);
    const order: string[] = [];
    const c = slots.acquire(signal).then((release) => {
      order.push('c');
      return release;
    });
    const d = slots.acquire(signal).then((release) => {
      order.push('d');
      return release;
    });
    assert.equal(slots.running, 2);
    assert.equal(slots.queued, 2);
    a();
    a(); // a second release of the same slot frees nothing more
    const releaseC = await c;
    assert.deepEqual(order, ['c']);
    assert.equal(slots.running, 2);
    b();
    (await d)();
    releaseC();
    assert.deepEqual(order, ['c', 'd']);
    assert.equal(slots.running, 0);
    assert.equal(slots.queued, 0);
  });

  it('drops a waiter whose signal aborts, without taking a slot', async () => {
    const slots = new ScrapeSlots(1);
    const release = await slots.acquire(new AbortController().signal);
    const stop = new AbortController();
    const waiting = slots.acquire(stop.signal);
    stop.abort(new Error('stopped'));
    await assert.rejects(waiting, /stopped/);
    assert.equal(slots.queued, 0);
    release();
    assert.equal(slots.running, 0);
    await assert.rejects(slots.acquire(stop.signal), /stopped/);
  });
});
