import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IntakeGate } from './intake-gate.js';

const never = () => new AbortController().signal;

describe('IntakeGate', () => {
  it('lets maxInFlight through, queues maxQueued, refuses the rest, and hands a freed slot to the oldest waiter', async () => {
    const gate = new IntakeGate(2, 1, 60_000);
    const a = await gate.acquire(never());
    const b = await gate.acquire(never());
    assert.ok('release' in a && 'release' in b);
    const waiting = gate.acquire(never());
    assert.equal(gate.queued, 1);
    assert.deepEqual(await gate.acquire(never()), { refused: 'queue_full' });
    a.release();
    a.release(); // a second call frees nothing more
    const c = await waiting;
    assert.ok('release' in c);
    assert.equal(gate.inFlight, 2);
    assert.equal(gate.queued, 0);
    b.release();
    c.release();
    assert.equal(gate.inFlight, 0);
  });

  it('refuses a waiter after the queue timeout and one whose client left', async () => {
    const gate = new IntakeGate(1, 2, 10);
    const held = await gate.acquire(never());
    assert.deepEqual(await gate.acquire(never()), { refused: 'queue_timeout' });
    const leaving = new AbortController();
    const waiting = gate.acquire(leaving.signal);
    leaving.abort();
    assert.deepEqual(await waiting, { refused: 'abandoned' });
    assert.equal(gate.queued, 0);
    assert.ok('release' in held);
    held.release();
    assert.equal(gate.inFlight, 0, 'refused waiters took no slot');
    const gone = new AbortController();
    gone.abort();
    assert.deepEqual(await gate.acquire(gone.signal), { refused: 'abandoned' });
  });

  it('with no queue, refuses at once', async () => {
    const gate = new IntakeGate(1, 0, 1000);
    await gate.acquire(never());
    assert.deepEqual(await gate.acquire(never()), { refused: 'queue_full' });
    assert.throws(() => new IntakeGate(0, 0, 1), RangeError);
  });
});
