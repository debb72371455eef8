import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProfileRecord } from '../store/types.js';
import { AnswerCache, answerKey } from './answer-cache.js';

const rec = (id: string, rawDeleted = false) => ({ id, rawDeleted }) as ProfileRecord;

describe('answer cache', () => {
  it('keys by route, every parameter, and the exact selection in order with its deleted raw data', () => {
    const base = answerKey('flamegraph', ['cpu.pprof:cpu', 50000], [[rec('a'), rec('b')]]);
    assert.equal(answerKey('flamegraph', ['cpu.pprof:cpu', 50000], [[rec('a'), rec('b')]]), base);
    const others = [
      answerKey('diff', ['cpu.pprof:cpu', 50000], [[rec('a'), rec('b')]]),
      answerKey('flamegraph', ['cpu.pprof:samples', 50000], [[rec('a'), rec('b')]]),
      answerKey('flamegraph', ['cpu.pprof:cpu', 100], [[rec('a'), rec('b')]]),
      answerKey('flamegraph', ['cpu.pprof:cpu', 50000], [[rec('b'), rec('a')]]),
      answerKey('flamegraph', ['cpu.pprof:cpu', 50000], [[rec('a'), rec('b'), rec('c')]]),
      answerKey('flamegraph', ['cpu.pprof:cpu', 50000], [[rec('a'), rec('b', true)]]),
      answerKey('flamegraph', ['cpu.pprof:cpu', 50000], [[rec('a')], [rec('b')]]),
      answerKey('flamegraph', ['cpu.pprof:cpu', 50000], [[rec('ab')]]),
    ];
    assert.equal(new Set([base, ...others]).size, others.length + 1);
  });

  it('evicts the least recently used past its bytes and its entries', () => {
    const c = new AnswerCache(100, 3);
    c.set('a', 'x'.repeat(20));
    c.set('b', 'x'.repeat(20));
    assert.equal(c.get('a')?.length, 20); // a is now the most recent
    c.set('c', 'x'.repeat(20)); // 120 bytes: b goes
    assert.equal(c.get('b'), undefined);
    assert.ok(c.get('a') !== undefined && c.get('c') !== undefined);
    assert.ok(c.bytes <= 100);
    c.set('d', 'x');
    c.set('e', 'x');
    assert.equal(c.size, 3);
    c.set('huge', 'x'.repeat(51));
    assert.equal(c.get('huge'), undefined, 'larger than the whole cache: not kept');
  });
});
