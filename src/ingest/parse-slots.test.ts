import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IngestError } from './errors.js';
import { ParseSlots } from './parse-slots.js';

/** A task that runs until `finish` is called, recording when it started. */
function held(log: string[], name: string): { task: () => Promise<string>; finish: () => void } {
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    task: async () => {
      log.push(`start ${name}`);
      await done;
      return name;
    },
    finish,
  };
}

const busy = (err: unknown) => err instanceof IngestError && err.status === 503 && err.reason === 'busy';

describe('ParseSlots', () => {
  it('runs at most `concurrency` tasks at once, the waiting ones in arrival order', async () => {
    const slots = new ParseSlots(1, 10, 60_000, 'requests');
    const log: string[] = [];
    const a = held(log, 'a');
    const b = held(log, 'b');
    const c = held(log, 'c');
    const results = [slots.run(a.task), slots.run(b.task), slots.run(c.task)];
    await Promise.resolve();
    assert.deepEqual(log, ['start a']);
    assert.equal(slots.queued, 2);
    a.finish();
    assert.equal(await results[0], 'a');
    assert.deepEqual(log, ['start a', 'start b']);
    b.finish();
    c.finish();
    assert.deepEqual(await Promise.all(results), ['a', 'b', 'c']);
    assert.deepEqual(log, ['start a', 'start b', 'start c']);
    assert.equal(slots.inFlight, 0);
  });

  it('frees the slot when a task fails', async () => {
    const slots = new ParseSlots(1, 10, 60_000, 'requests');
    await assert.rejects(
      slots.run(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await slots.run(async () => 'next'), 'next');
  });

  it('refuses with 503 when the queue is full', async () => {
    const slots = new ParseSlots(1, 1, 60_000, 'OTLP requests');
    const log: string[] = [];
    const a = held(log, 'a');
    const b = held(log, 'b');
    const first = slots.run(a.task);
    const second = slots.run(b.task);
    await assert.rejects(
      slots.run(async () => 'c'),
      (err) => busy(err) && /already parsing 1 OTLP requests and 1 are already waiting/.test(String(err)),
    );
    a.finish();
    b.finish();
    assert.deepEqual(await Promise.all([first, second]), ['a', 'b']);
  });

  it('refuses with 503 a request that waits longer than the timeout, and forgets it', async () => {
    const slots = new ParseSlots(1, 5, 1, 'requests');
    const log: string[] = [];
    const a = held(log, 'a');
    const first = slots.run(a.task);
    await assert.rejects(
      slots.run(async () => 'late'),
      (err) => busy(err) && /within 1 ms/.test(String(err)),
    );
    assert.equal(slots.queued, 0);
    a.finish();
    assert.equal(await first, 'a');
    assert.equal(await slots.run(async () => 'after'), 'after');
  });
});
