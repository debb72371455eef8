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

  it('admits by declared body bytes too: small uploads together, a large one alone, oldest first', async () => {
    const gate = new IntakeGate(10, 10, 60_000, 100);
    const small1 = await gate.acquire(never(), 30);
    const small2 = await gate.acquire(never(), 30);
    assert.ok('release' in small1 && 'release' in small2);
    assert.equal(gate.inFlightBytes, 60);
    // 60 + 50 > 100: the large one waits, and a small one behind it does not overtake it.
    const large = gate.acquire(never(), 50);
    const small3 = gate.acquire(never(), 10);
    assert.equal(gate.queued, 2);
    small1.release();
    const l = await large;
    const s3 = await small3;
    assert.ok('release' in l && 'release' in s3);
    assert.equal(gate.inFlightBytes, 90);
    // A request larger than the whole budget still runs, alone.
    const huge = gate.acquire(never(), 1000);
    small2.release();
    l.release();
    s3.release();
    const h = await huge;
    assert.ok('release' in h);
    assert.equal(gate.inFlightBytes, 100);
    h.release();
    assert.equal(gate.inFlightBytes, 0);
    assert.equal(gate.inFlight, 0);
  });

  it('lets waiters behind a large one in when the large one gives up', async () => {
    const gate = new IntakeGate(10, 10, 60_000, 100);
    const held = await gate.acquire(never(), 80);
    const leaving = new AbortController();
    const large = gate.acquire(leaving.signal, 50);
    const small = gate.acquire(never(), 10);
    leaving.abort();
    assert.deepEqual(await large, { refused: 'abandoned' });
    const s = await small;
    assert.ok('release' in s && 'release' in held);
    s.release();
    held.release();
    assert.equal(gate.inFlightBytes, 0);
  });
});
