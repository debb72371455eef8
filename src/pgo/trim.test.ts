import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProfileBuilder } from '../pprof/builder.js';
import { decodeProfile } from '../pprof/decode.js';
import { encodeProfile } from '../pprof/encode.js';
import { ProfileError } from '../pprof/errors.js';
import type { Profile } from '../pprof/profile.js';
import { fixtureProfile, pgoSamplesOf as samplesOf } from '../testing/profiles.js';
import { computeCallEdges } from './call-edges.js';
import { trimForPgo } from './trim.js';

const CPU_FIXTURES = ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof', 'cpu-json.pprof', 'cpu-sort.pprof'];
const load = fixtureProfile;

const typeNames = (p: Profile): string[] => {
  const out: string[] = [];
  for (let i = 0; i < p.sampleTypes.length; i += 2) out.push(`${p.strings[p.sampleTypes[i]]}/${p.strings[p.sampleTypes[i + 1]]}`);
  return out;
};

/**
 * A profile with a mapping, labels and four-deep stacks: main → a → b (c inlined into b).
 * Columns: alloc/bytes, cpu/nanoseconds, extra/count, samples/count.
 */
function richProfile(): Profile {
  const b = new ProfileBuilder();
  b.setSampleTypes([
    { type: 'alloc', unit: 'bytes' },
    { type: 'cpu', unit: 'nanoseconds' },
    { type: 'extra', unit: 'count' },
    { type: 'samples', unit: 'count' },
  ]);
  b.setPeriodType('cpu', 'nanoseconds');
  b.header.period = 10_000_000n;
  b.header.durationNanos = 3_000_000_000n;
  b.header.timeNanos = 1_700_000_000_000_000_000n;
  b.header.comments = Int32Array.of(b.string('a comment'));
  b.header.dropFrames = b.string('runtime\\..*');
  const m = b.addMapping({ start: 0x400000n, limit: 0x500000n, filename: '/bin/app', buildId: 'abc' });
  const fMain = b.addFunction('main.main', 'main.go', 5);
  const fA = b.addFunction('main.a', 'main.go', 20);
  const fB = b.addFunction('main.b', 'main.go', 40);
  const fC = b.addFunction('main.c', 'main.go', 60);
  const lMain = b.addLocation([{ fn: fMain, line: 7 }], { mapping: m, address: 0x401000n });
  const lA = b.addLocation([{ fn: fA, line: 22 }], { mapping: m, address: 0x402000n });
  const lA2 = b.addLocation([{ fn: fA, line: 25 }], { mapping: m, address: 0x402100n });
  const lBC = b.addLocation(
    [
      { fn: fC, line: 61 },
      { fn: fB, line: 44 },
    ],
    { mapping: m, address: 0x403000n },
  );
  b.addSample([lBC, lA, lMain], [100, 10, 1, 1], [{ key: 'endpoint', str: '/x' }]);
  b.addSample([lBC, lA2, lMain], [200, 20, 2, 2], [{ key: 'endpoint', str: '/y' }]);
  b.addSample([lBC, lA], [300, 30, 3, 3]);
  b.addSample([lA, lMain], [400, 40, 4, 4]);
  return b.finish();
}

describe('trimForPgo', () => {
  it('keeps only samples/count and cpu/nanoseconds, in their original order', () => {
    const t = trimForPgo(richProfile());
    assert.deepEqual(typeNames(t), ['cpu/nanoseconds', 'samples/count']);
    assert.deepEqual(
      samplesOf(t).map((s) => s.values),
      [
        [40, 4],
        [20, 2],
        [40, 4],
      ],
    );

    const b = new ProfileBuilder();
    b.setSampleTypes([
      { type: 'samples', unit: 'count' },
      { type: 'alloc', unit: 'bytes' },
      { type: 'cpu', unit: 'nanoseconds' },
    ]);
    b.setPeriodType('cpu', 'nanoseconds');
    const f = b.addFunction('main.f', 'main.go', 1);
    b.addSample([b.addLocation([{ fn: f, line: 2 }], { address: 0x10n })], [3, 999, 30]);
    const u = trimForPgo(b.finish());
    assert.deepEqual(typeNames(u), ['samples/count', 'cpu/nanoseconds']);
    assert.deepEqual(Array.from(u.samples.values), [3, 30]);
  });

  it('throws ProfileError naming the sample types of a heap profile', () => {
    assert.throws(
      () => trimForPgo(load('heap.pprof')),
      (err: unknown) => {
        assert.ok(err instanceof ProfileError, `expected ProfileError, got ${String(err)}`);
        assert.match(err.message, /not a CPU profile/);
        assert.match(err.message, /\[alloc_objects\/count alloc_space\/bytes inuse_objects\/count inuse_space\/bytes\]/);
        return true;
      },
    );
  });

  it('throws ProfileError instead of summing values past 2^53, which no decoder of ours could read back', () => {
    const b = ProfileBuilder.goCpu();
    const f = b.addFunction('main.f', 'main.go', 1);
    const leaf = b.addLocation([{ fn: f, line: 2 }], { address: 0x10n });
    const caller = b.addLocation([{ fn: f, line: 3 }], { address: 0x20n });
    // Two stacks that become one when cut to two locations; each value alone is in range.
    b.addSample([leaf, caller, b.addLocation([{ fn: f, line: 4 }], { address: 0x30n })], [1, 2 ** 53 - 1]);
    b.addSample([leaf, caller, b.addLocation([{ fn: f, line: 5 }], { address: 0x40n })], [1, 1]);
    const p = decodeProfile(encodeProfile(b.finish()));
    assert.throws(
      () => trimForPgo(p),
      (err: unknown) => err instanceof ProfileError && /add up to more than 2\^53 cpu\/nanoseconds/.test(err.message),
    );
  });

  it('cuts stacks to two locations with all their inlined lines, and sums stacks that become equal', () => {
    const t = trimForPgo(richProfile());
    assert.deepEqual(samplesOf(t), [
      // Samples 1 and 3 differ only below the second location.
      { stack: ['1 main.c:61(60) main.b:44(40)', '2 main.a:22(20)'], values: [40, 4] },
      { stack: ['1 main.c:61(60) main.b:44(40)', '2 main.a:25(20)'], values: [20, 2] },
      { stack: ['1 main.a:22(20)', '2 main.main:7(5)'], values: [40, 4] },
    ]);
    for (let i = 0; i < t.samples.count; i++) assert.ok(t.samples.locStart[i + 1] - t.samples.locStart[i] <= 2);
  });

  it('keeps no labels, no mappings, no comments, and function start lines', () => {
    const p = richProfile();
    const t = trimForPgo(p);
    assert.equal(t.samples.labelKey.length, 0);
    assert.deepEqual(Array.from(t.samples.labelStart), new Array(t.samples.count + 1).fill(0));
    assert.equal(t.mappings.count, 0);
    assert.ok(Array.from(t.locations.mapping).every((m) => m === -1));
    assert.equal(t.comments.length, 0);
    assert.equal(t.dropFrames, 0);
    assert.deepEqual(
      Array.from({ length: t.functions.count }, (_, f) => `${t.strings[t.functions.name[f]]}(${t.functions.startLine[f]})`).sort(),
      ['main.a(20)', 'main.b(40)', 'main.c(60)', 'main.main(5)'],
    );
    assert.equal(t.period, p.period);
    assert.equal(t.durationNanos, p.durationNanos);
    assert.equal(t.timeNanos, p.timeNanos);
    assert.deepEqual(
      Array.from(t.periodType, (i) => t.strings[i]),
      ['cpu', 'nanoseconds'],
    );
  });

  it('drops samples that are zero in the kept columns and samples that sum to zero', () => {
    const b = new ProfileBuilder();
    b.setSampleTypes([
      { type: 'samples', unit: 'count' },
      { type: 'alloc', unit: 'bytes' },
    ]);
    b.setPeriodType('cpu', 'nanoseconds');
    const f = b.addFunction('main.f', 'main.go', 1);
    const g = b.addFunction('main.g', 'main.go', 10);
    const h = b.addFunction('main.h', 'main.go', 20);
    const lf = b.addLocation([{ fn: f, line: 2 }], { address: 0x10n });
    const lg = b.addLocation([{ fn: g, line: 11 }], { address: 0x20n });
    const lh = b.addLocation([{ fn: h, line: 21 }], { address: 0x30n });
    const lh2 = b.addLocation([{ fn: h, line: 22 }], { address: 0x40n });
    b.addSample([lf, lg], [0, 500]); // zero in the only kept column
    b.addSample([lg, lh], [5, 0]);
    b.addSample([lg, lh, lf], [-5, 0]); // same trimmed stack: cancels the previous one
    b.addSample([lg, lh2], [1, 0]);
    const t = trimForPgo(b.finish());
    // Negative values: the original addresses are kept (0x20, 0x40), not slots 1 and 2.
    assert.deepEqual(samplesOf(t), [{ stack: ['32 main.g:11(10)', '64 main.h:22(20)'], values: [1] }]);
  });

  it('is idempotent', () => {
    for (const p of [richProfile(), ...CPU_FIXTURES.map(load)]) {
      const once = trimForPgo(p);
      const twice = trimForPgo(once);
      assert.deepEqual(samplesOf(twice), samplesOf(once));
      assert.deepEqual(typeNames(twice), typeNames(once));
      assert.equal(twice.locations.count, once.locations.count);
      assert.equal(twice.functions.count, once.functions.count);
    }
  });

  it('does not modify its input', () => {
    const p = load('cpu-small-2.pprof');
    const before = samplesOf(p);
    const labels = Array.from(p.samples.labelKey);
    trimForPgo(p);
    assert.deepEqual(samplesOf(p), before);
    assert.deepEqual(Array.from(p.samples.labelKey), labels);
  });
});

describe('trimForPgo address slots (recursion)', () => {
  /**
   * main.rec calls itself on line 5: the leaf and its caller resolve to the same name, start
   * line and line. Only the address tells the compiler's graph that they are two nodes.
   */
  function recursiveProfile(): Profile {
    const b = ProfileBuilder.goCpu();
    const rec = b.addFunction('main.rec', 'main.go', 3);
    const top = b.addFunction('main.main', 'main.go', 10);
    const leaf = b.addLocation([{ fn: rec, line: 5 }], { address: 0x1000n });
    const caller = b.addLocation([{ fn: rec, line: 5 }], { address: 0x2000n });
    const main = b.addLocation([{ fn: top, line: 12 }], { address: 0x3000n });
    // Two location rows at one address (a profile may repeat an address): one node.
    const sameA = b.addLocation([{ fn: rec, line: 5 }], { address: 0x5000n });
    const sameB = b.addLocation([{ fn: rec, line: 5 }], { address: 0x5000n });
    b.addSample([leaf, caller, main], [3, 30]);
    b.addSample([sameA, sameB, main], [7, 70]);
    b.addSample([caller, main], [1, 10]);
    return b.finish();
  }

  it('keeps two distinct addresses for leaf and caller when the original addresses differ', () => {
    const t = trimForPgo(recursiveProfile());
    const s = t.samples;
    const first = [s.locs[s.locStart[0]], s.locs[s.locStart[0] + 1]];
    assert.notEqual(first[0], first[1], 'two locations');
    assert.deepEqual(
      first.map((l) => t.locations.address[l]),
      [1n, 2n],
    );
  });

  it('keeps one address for both when the original addresses are equal', () => {
    const t = trimForPgo(recursiveProfile());
    const s = t.samples;
    const second = [s.locs[s.locStart[1]], s.locs[s.locStart[1] + 1]];
    assert.deepEqual(
      second.map((l) => t.locations.address[l]),
      [1n, 1n],
    );
    assert.equal(second[0], second[1], 'the same trimmed location');
  });

  it('gives the same call edges as the untrimmed profile', () => {
    const p = recursiveProfile();
    const edges = computeCallEdges(p);
    // The 0x1000 ← 0x2000 sample is a real recursive edge; the one at 0x5000 is a self-edge;
    // main is below the two leaf locations except in the last sample.
    assert.deepEqual(edges.edges, [
      { caller: 'main.rec', callee: 'main.rec', offset: 2, weight: 3 },
      { caller: 'main.main', callee: 'main.rec', offset: 2, weight: 1 },
    ]);
    assert.deepEqual(computeCallEdges(trimForPgo(p)), edges);
  });

  for (const name of CPU_FIXTURES) {
    it(`gives the same call edges as the untrimmed real profile ${name}`, () => {
      const p = load(name);
      const expected = computeCallEdges(p);
      assert.ok(expected.edges.length > 10, 'the fixture has edges');
      const t = trimForPgo(p);
      assert.deepEqual(computeCallEdges(t), expected);
      assert.ok(t.samples.count <= p.samples.count);
      assert.ok(Array.from(t.locations.address).every((a) => a === 1n || a === 2n));
    });
  }
});

describe('trimForPgo with negative values (delta profiles)', () => {
  it('gives the same call edges when node weights cancel out across samples', () => {
    // main.x calls main.q from one address (+5) and main.r from another (-5). The compiler
    // keeps both main.x nodes (cum +5 and -5) and reports x→q 5 and x→r -5. Trimmed, both
    // callers become the one slot-2 node main.x whose cum is 0, so the compiler forgets it
    // and both of its edges disappear.
    const b = new ProfileBuilder();
    b.setSampleTypes([{ type: 'samples', unit: 'count' }]);
    b.setPeriodType('cpu', 'nanoseconds');
    const q = b.addFunction('main.q', 'm.go', 1);
    const x = b.addFunction('main.x', 'm.go', 10);
    const r = b.addFunction('main.r', 'm.go', 20);
    const m = b.addFunction('main.m', 'm.go', 30);
    const qa = b.addLocation([{ fn: q, line: 2 }], { address: 0x10n });
    const xa = b.addLocation([{ fn: x, line: 12 }], { address: 0x20n });
    const rb = b.addLocation([{ fn: r, line: 22 }], { address: 0x30n });
    const xb = b.addLocation([{ fn: x, line: 12 }], { address: 0x40n });
    const ma = b.addLocation([{ fn: m, line: 33 }], { address: 0x50n });
    b.addSample([qa, xa], [5]);
    b.addSample([rb, xb], [-5]);
    b.addSample([qa, ma], [1]);
    const p = b.finish();
    const expected = computeCallEdges(p);
    assert.deepEqual(expected.edges, [
      { caller: 'main.x', callee: 'main.q', offset: 2, weight: 5 },
      { caller: 'main.m', callee: 'main.q', offset: 3, weight: 1 },
      { caller: 'main.x', callee: 'main.r', offset: 2, weight: -5 },
    ]);
    // Slot addresses would merge the two main.x callers into one node whose weights cancel
    // out, and the compiler drops zero-weight nodes with their edges; profiles with negative
    // values therefore keep their original addresses.
    assert.deepEqual(computeCallEdges(trimForPgo(p)), expected);
  });
});
