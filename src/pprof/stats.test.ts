import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fixture } from '../testing/fixtures.js';
import { ProfileBuilder } from './builder.js';
import { parseProfile } from './parse.js';
import type { Profile } from './profile.js';
import { functionTotals, profileStats } from './stats.js';

/**
 * Samples (leaf first), values [samples/count, cpu/nanoseconds], duration 2 s:
 * 0. inl (inlined into leaf) ← rec ← rec ← main   [3, 1.5e9]
 * 1. rec ← main                                   [1, 0.5e9]
 * 2. a ← main                                     [2, 1e9]
 * 3. b ← main                                     [2, 1e9]
 */
function statsProfile(types = ['samples/count', 'cpu/nanoseconds']): Profile {
  const b = new ProfileBuilder();
  b.setSampleTypes(
    types.map((t) => {
      const [type, unit] = t.split('/');
      return { type, unit };
    }),
  );
  b.setPeriodType('cpu', 'nanoseconds');
  b.header.durationNanos = 2_000_000_000n;
  b.header.timeNanos = 1_700_000_000_123_456_789n;
  b.addMapping({ start: 0x1000n, limit: 0x2000n, filename: '/bin/app' });
  const fMain = b.addFunction('main.main', 'main.go', 1);
  const fRec = b.addFunction('main.rec', 'main.go', 10);
  const fLeaf = b.addFunction('main.leaf', 'main.go', 20);
  const fInl = b.addFunction('main.inl', 'main.go', 30);
  const fB = b.addFunction('main.b', 'main.go', 40);
  const fA = b.addFunction('main.a', 'main.go', 50);
  const lMain = b.addLocation([{ fn: fMain, line: 2 }]);
  const lRec1 = b.addLocation([{ fn: fRec, line: 11 }]);
  const lRec2 = b.addLocation([{ fn: fRec, line: 12 }]);
  const lLeaf = b.addLocation([
    { fn: fInl, line: 31 },
    { fn: fLeaf, line: 21 },
  ]);
  const lA = b.addLocation([{ fn: fA, line: 51 }]);
  const lB = b.addLocation([{ fn: fB, line: 41 }]);
  // The CPU time goes to a cpu/nanoseconds column wherever it is, the count to any other.
  const values = (count: number, cpu: number) => types.map((t) => (t === 'cpu/nanoseconds' ? cpu : count));
  b.addSample([lLeaf, lRec1, lRec2, lMain], values(3, 1.5e9));
  b.addSample([lRec1, lMain], values(1, 0.5e9));
  b.addSample([lA, lMain], values(2, 1e9));
  b.addSample([lB, lMain], values(2, 1e9));
  return b.finish();
}

describe('profileStats', () => {
  it('computes totals, sample count, CPU cores and start time', () => {
    const s = profileStats(statsProfile());
    assert.deepEqual(s.sampleTypes, ['samples/count', 'cpu/nanoseconds']);
    assert.deepEqual(s.totals, [8, 4e9]);
    assert.equal(s.durationNanos, 2e9);
    assert.equal(s.cpuCores, 2, 'sum(cpu/nanoseconds) / duration');
    assert.equal(s.sampleRecords, 4);
    assert.equal(s.sampleCount, 8, 'the sum of samples/count, not the number of records');
    assert.equal(s.start, '2023-11-14T22:13:20.123Z');
    assert.equal(s.locations, 6);
    assert.equal(s.functions, 6);
    assert.equal(s.mappings, 1);
    assert.equal(s.topValueType, 'cpu/nanoseconds');
  });

  it('puts flat on the innermost line of the leaf location and counts a recursive function once per sample', () => {
    const s = profileStats(statsProfile());
    assert.deepEqual(s.topFlat, [
      { name: 'main.inl', flat: 1.5e9, cum: 1.5e9 },
      { name: 'main.a', flat: 1e9, cum: 1e9 },
      { name: 'main.b', flat: 1e9, cum: 1e9 },
      { name: 'main.rec', flat: 0.5e9, cum: 2e9 },
      { name: 'main.leaf', flat: 0, cum: 1.5e9 },
      { name: 'main.main', flat: 0, cum: 4e9 },
    ]);
    assert.deepEqual(s.topCum, [
      { name: 'main.main', flat: 0, cum: 4e9 },
      { name: 'main.rec', flat: 0.5e9, cum: 2e9 },
      { name: 'main.inl', flat: 1.5e9, cum: 1.5e9 },
      { name: 'main.leaf', flat: 0, cum: 1.5e9 },
      { name: 'main.a', flat: 1e9, cum: 1e9 },
      { name: 'main.b', flat: 1e9, cum: 1e9 },
    ]);
  });

  it('keeps the top n of each list', () => {
    const s = profileStats(statsProfile(), 2);
    assert.deepEqual(
      s.topFlat.map((f) => f.name),
      ['main.inl', 'main.a'],
    );
    assert.deepEqual(
      s.topCum.map((f) => f.name),
      ['main.main', 'main.rec'],
    );
  });

  it('uses cpu/nanoseconds wherever it is, or the value type asked for', () => {
    const cpuSecond = profileStats(statsProfile(['samples/count', 'cpu/nanoseconds']));
    const cpuFirst = profileStats(statsProfile(['cpu/nanoseconds', 'samples/count']));
    assert.equal(cpuFirst.topValueType, 'cpu/nanoseconds');
    assert.equal(cpuFirst.cpuCores, 2);
    assert.equal(cpuFirst.sampleCount, 8);
    assert.deepEqual(cpuFirst.topFlat, cpuSecond.topFlat);
    assert.deepEqual(cpuFirst.topCum, cpuSecond.topCum);
    assert.equal(cpuFirst.topFlat[0].flat, 1.5e9);

    const counts = profileStats(statsProfile(), 10, 'samples/count');
    assert.equal(counts.topValueType, 'samples/count');
    assert.deepEqual(counts.topCum[0], { name: 'main.main', flat: 0, cum: 8 });
    assert.deepEqual(counts.topFlat[0], { name: 'main.inl', flat: 3, cum: 3 });
  });

  it('uses the first sample type and the number of records without cpu/nanoseconds or samples/count', () => {
    const s = profileStats(statsProfile(['alloc/bytes', 'other/count']));
    assert.equal(s.cpuCores, null);
    assert.equal(s.sampleCount, 4);
    assert.equal(s.topValueType, 'alloc/bytes');
    assert.equal(s.topFlat[0].flat, 3);
  });

  it('gives null CPU cores for a heap profile', () => {
    const p = parseProfile(readFileSync(fixture('heap.pprof')));
    const s = profileStats(p);
    assert.equal(s.cpuCores, null);
    assert.equal(s.topValueType, 'alloc_objects/count');
    assert.equal(s.sampleCount, p.samples.count);
    assert.ok(s.topFlat.length > 0);
  });

  it('gives null CPU cores without a duration and a null start without a time', () => {
    const p = statsProfile();
    p.durationNanos = 0n;
    p.timeNanos = 0n;
    const s = profileStats(p);
    assert.equal(s.cpuCores, null);
    assert.equal(s.start, null);
  });

  it('computes CPU cores for a real CPU profile', () => {
    const p = parseProfile(readFileSync(fixture('cpu-small-1.pprof')));
    const s = profileStats(p);
    let cpu = 0;
    let count = 0;
    for (let i = 0; i < p.samples.count; i++) {
      count += p.samples.values[2 * i];
      cpu += p.samples.values[2 * i + 1];
    }
    assert.equal(s.cpuCores, cpu / Number(p.durationNanos));
    assert.equal(s.sampleCount, count);
    assert.ok(s.cpuCores !== null && s.cpuCores > 0);
  });
});

describe('functionTotals', () => {
  it('merges function rows with the same name and skips zero-weight samples', () => {
    const b = new ProfileBuilder();
    b.setSampleTypes([{ type: 'samples', unit: 'count' }]);
    const f1 = b.addFunction('main.f', 'a.go', 1);
    const f2 = b.addFunction('main.f', 'b.go', 9);
    const g = b.addFunction('main.g', 'a.go', 5);
    b.addSample([b.addLocation([{ fn: f1, line: 2 }]), b.addLocation([{ fn: f2, line: 10 }])], [5]);
    b.addSample([b.addLocation([{ fn: g, line: 6 }])], [0]);
    const t = functionTotals(b.finish(), 0);
    assert.deepEqual(t.flat, [{ name: 'main.f', flat: 5, cum: 5 }]);
    assert.deepEqual(t.cum, [{ name: 'main.f', flat: 5, cum: 5 }]);
  });
});
