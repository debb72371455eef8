import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixtureProfile, plain, samplesOf } from '../testing/profiles.js';
import { type LabelSpec, ProfileBuilder } from './builder.js';
import { ProfileError } from './errors.js';
import { mergeProfiles, ProfileMerger } from './merge.js';
import type { Profile } from './profile.js';

const CPU_FIXTURES = ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof', 'cpu-json.pprof', 'cpu-sort.pprof'];
const load = fixtureProfile;

/** A one-function, one-location CPU profile with one sample of the given values and labels. */
function tinyProfile(values: number[] = [1, 10], labels: LabelSpec[] = [], fn = 'main.f'): Profile {
  const b = ProfileBuilder.goCpu();
  const f = b.addFunction(fn, 'main.go', 10);
  const l = b.addLocation([{ fn: f, line: 12 }], { address: 0x1000n });
  b.addSample([l], values, labels);
  return b.finish();
}

const throwsProfileError = (fn: () => unknown, ...patterns: RegExp[]): void => {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProfileError, `expected ProfileError, got ${String(err)}`);
    for (const pattern of patterns) assert.match(err.message, pattern);
    return true;
  });
};

describe('mergeProfiles header', () => {
  const headerProfile = (h: {
    period: bigint;
    duration: bigint;
    time: bigint;
    comments: string[];
    docUrl?: string;
    drop?: string;
    keep?: string;
    types?: Array<{ type: string; unit: string }>;
    defaultType?: string;
  }): Profile => {
    const b = new ProfileBuilder();
    b.setSampleTypes(
      h.types ?? [
        { type: 'samples', unit: 'count' },
        { type: 'cpu', unit: 'nanoseconds' },
      ],
    );
    b.setPeriodType('cpu', 'nanoseconds');
    b.header.period = h.period;
    b.header.durationNanos = h.duration;
    b.header.timeNanos = h.time;
    b.header.comments = Int32Array.from(h.comments, (c) => b.string(c));
    if (h.docUrl) b.header.docUrl = b.string(h.docUrl);
    if (h.drop) b.header.dropFrames = b.string(h.drop);
    if (h.keep) b.header.keepFrames = b.string(h.keep);
    if (h.defaultType) b.header.defaultSampleType = b.string(h.defaultType);
    const f = b.addFunction('main.f', 'main.go', 3);
    b.addSample([b.addLocation([{ fn: f, line: 4 }], { address: 0x10n })], [1, 1]);
    return b.finish();
  };

  it('takes period max, duration sum, time min, comments once in order, doc_url/drop/keep from the first that has them', () => {
    const p1 = headerProfile({ period: 10n, duration: 100n, time: 0n, comments: ['a', 'b'], defaultType: 'cpu' });
    const p2 = headerProfile({ period: 30n, duration: 200n, time: 500n, comments: ['b', 'c'], docUrl: 'u2', drop: 'd2', keep: 'k2' });
    const p3 = headerProfile({ period: 20n, duration: 300n, time: 300n, comments: ['c', 'a', 'd'], docUrl: 'u3', drop: 'd3', keep: 'k3' });
    const m = mergeProfiles([p1, p2, p3]);
    assert.equal(m.period, 30n);
    assert.equal(m.durationNanos, 600n);
    assert.equal(m.timeNanos, 300n, 'the earliest non-zero start time (the leading 0 is ignored)');
    assert.deepEqual(
      Array.from(m.comments, (c) => m.strings[c]),
      ['a', 'b', 'c', 'd'],
    );
    assert.equal(m.strings[m.docUrl], 'u2');
    assert.equal(m.strings[m.dropFrames], 'd2');
    assert.equal(m.strings[m.keepFrames], 'k2');
    assert.equal(m.strings[m.defaultSampleType], 'cpu');
    assert.deepEqual(
      Array.from(m.periodType, (i) => m.strings[i]),
      ['cpu', 'nanoseconds'],
    );
  });

  it('takes the earliest time of the non-zero ones wherever the zeros are', () => {
    const t = (time: bigint) => headerProfile({ period: 1n, duration: 1n, time, comments: [] });
    assert.equal(mergeProfiles([t(900n), t(400n), t(700n)]).timeNanos, 400n);
    assert.equal(mergeProfiles([t(0n), t(0n), t(700n), t(800n)]).timeNanos, 700n);
    assert.equal(mergeProfiles([t(900n), t(0n), t(700n)]).timeNanos, 700n);
    // google/pprof's combineHeaders quirk (`if t == 0 || s.TimeNanos < t`): a 0 that comes
    // last resets the time to 0. The merge matches pprof here rather than "ignoring 0" literally.
    assert.equal(mergeProfiles([t(900n), t(0n)]).timeNanos, 0n);
  });

  it('period max ignores a smaller period after a larger one and a zero period', () => {
    const p = (period: bigint) => headerProfile({ period, duration: 0n, time: 0n, comments: [] });
    assert.equal(mergeProfiles([p(0n), p(7n), p(3n)]).period, 7n);
    assert.equal(mergeProfiles([p(7n), p(0n)]).period, 7n);
  });

  it('takes the sample types from the first profile', () => {
    const p1 = headerProfile({ period: 1n, duration: 1n, time: 1n, comments: [] });
    const p2 = headerProfile({ period: 1n, duration: 1n, time: 1n, comments: [] });
    const m = mergeProfiles([p1, p2]);
    assert.deepEqual(
      Array.from(m.sampleTypes, (i) => m.strings[i]),
      ['samples', 'count', 'cpu', 'nanoseconds'],
    );
  });
});

describe('mergeProfiles deduplication', () => {
  it('shares functions by (name, system name, file, start line) and keeps a different start line apart', () => {
    const make = (start: number, systemName = 'main.f', file = 'main.go'): Profile => {
      const b = ProfileBuilder.goCpu();
      const f = b.addFunction('main.f', file, start, systemName);
      b.addSample([b.addLocation([{ fn: f, line: 20 }], { address: 0x100n })], [1, 10]);
      return b.finish();
    };
    const same = mergeProfiles([make(10), make(10)]);
    assert.equal(same.functions.count, 1);
    assert.equal(same.locations.count, 1);
    assert.deepEqual(
      samplesOf(same).map((s) => s.values),
      [[2, 20]],
    );

    const otherStart = mergeProfiles([make(10), make(11)]);
    assert.equal(otherStart.functions.count, 2, 'a different start line is a different function');
    assert.deepEqual(Array.from(otherStart.functions.startLine), [10, 11]);
    assert.equal(otherStart.locations.count, 2, 'so the locations differ too');
    assert.equal(otherStart.samples.count, 2);

    assert.equal(mergeProfiles([make(10), make(10, 'main.f·sys')]).functions.count, 2, 'system name is part of the key');
    assert.equal(mergeProfiles([make(10), make(10, 'main.f', 'other.go')]).functions.count, 2, 'file is part of the key');
  });

  it('rebases addresses onto the first mapping when the same binary is mapped elsewhere', () => {
    const make = (start: bigint, addresses: bigint[], buildId = 'build-1'): Profile => {
      const b = ProfileBuilder.goCpu();
      const m = b.addMapping({ start, limit: start + 0x100000n, offset: 0n, filename: '/bin/app', buildId });
      const f = b.addFunction('main.f', 'main.go', 10);
      for (const a of addresses) b.addSample([b.addLocation([{ fn: f, line: 12 }], { mapping: m, address: a })], [1, 10]);
      return b.finish();
    };
    const p1 = make(0x400000n, [0x401234n]);
    // Same binary (same build id and size) at another base: 0x801234 is the same instruction.
    const p2 = make(0x800000n, [0x801234n, 0x801000n]);
    const m = mergeProfiles([p1, p2]);
    assert.equal(m.mappings.count, 1, 'one mapping for the one binary');
    assert.equal(m.mappings.memoryStart[0], 0x400000n);
    assert.equal(m.locations.count, 2);
    assert.deepEqual(samplesOf(m), [
      { stack: ['0x401234@/bin/app main.f:12(10)'], values: [2, 20], labels: [] },
      { stack: ['0x401000@/bin/app main.f:12(10)'], values: [1, 10], labels: [] },
    ]);

    // Another binary (different build id) is another mapping, so nothing is shared or rebased.
    const other = mergeProfiles([p1, make(0x800000n, [0x801234n], 'build-2')]);
    assert.equal(other.mappings.count, 2);
    assert.equal(other.locations.count, 2);
    assert.deepEqual(
      samplesOf(other).map((s) => s.stack),
      [['0x401234@/bin/app main.f:12(10)'], ['0x801234@/bin/app main.f:12(10)']],
    );
  });

  it('keeps the first mapping of the first profile even when no sample uses it', () => {
    const b = ProfileBuilder.goCpu();
    b.addMapping({ start: 0x400000n, limit: 0x500000n, filename: '/bin/main', buildId: 'main' });
    const lib = b.addMapping({ start: 0x7f0000n, limit: 0x7f1000n, filename: '/lib/libc.so', buildId: 'libc' });
    b.addMapping({ start: 0x900000n, limit: 0x901000n, filename: '/lib/unused.so', buildId: 'unused' });
    const f = b.addFunction('memcpy', 'memcpy.c', 1);
    b.addSample([b.addLocation([{ fn: f, line: 2 }], { mapping: lib, address: 0x7f0010n })], [1, 1]);
    const m = mergeProfiles([b.finish()]);
    assert.deepEqual(
      Array.from(m.mappings.filename, (i) => m.strings[i]),
      ['/bin/main', '/lib/libc.so'],
    );
    assert.deepEqual(Array.from(m.mappings.id), [1, 2]);
  });
});

describe('mergeProfiles samples', () => {
  it('sums samples with the same stack and labels, and keeps different labels apart', () => {
    const m = mergeProfiles([
      tinyProfile([1, 10], [{ key: 'endpoint', str: '/a' }]),
      tinyProfile([2, 20], [{ key: 'endpoint', str: '/a' }]),
      tinyProfile([4, 40], [{ key: 'endpoint', str: '/b' }]),
      tinyProfile([8, 80]),
    ]);
    assert.deepEqual(
      samplesOf(m).map((s) => [s.labels, s.values]),
      [
        [['endpoint=/a'], [3, 30]],
        [['endpoint=/b'], [4, 40]],
        [[], [8, 80]],
      ],
    );
    assert.equal(m.locations.count, 1);
  });

  it('ignores the order of string labels with different keys', () => {
    const m = mergeProfiles([
      tinyProfile(
        [1, 10],
        [
          { key: 'a', str: '1' },
          { key: 'b', str: '2' },
        ],
      ),
      tinyProfile(
        [2, 20],
        [
          { key: 'b', str: '2' },
          { key: 'a', str: '1' },
        ],
      ),
    ]);
    assert.equal(m.samples.count, 1);
    assert.deepEqual(samplesOf(m)[0].values, [3, 30]);
    assert.deepEqual([...samplesOf(m)[0].labels].sort(), ['a=1', 'b=2']);
  });

  it('keeps numeric labels apart by value and unit', () => {
    const m = mergeProfiles([
      tinyProfile([1, 1], [{ key: 'bytes', num: 5, numUnit: 'bytes' }]),
      tinyProfile([1, 1], [{ key: 'bytes', num: 5, numUnit: 'bytes' }]),
      tinyProfile([1, 1], [{ key: 'bytes', num: 6, numUnit: 'bytes' }]),
      tinyProfile([1, 1], [{ key: 'bytes', num: 5, numUnit: 'kilobytes' }]),
    ]);
    assert.deepEqual(
      samplesOf(m).map((s) => [s.labels, s.values]),
      [
        [['bytes#5bytes'], [2, 2]],
        [['bytes#6bytes'], [1, 1]],
        [['bytes#5kilobytes'], [1, 1]],
      ],
    );
  });

  it('merges samples by stack alone with dropLabels, and writes no labels', () => {
    const inputs = [
      tinyProfile([1, 10], [{ key: 'endpoint', str: '/a' }]),
      tinyProfile([2, 20], [{ key: 'endpoint', str: '/b' }]),
      tinyProfile([4, 40]),
    ];
    const m = mergeProfiles(inputs, { dropLabels: true });
    assert.deepEqual(samplesOf(m), [{ stack: ['0x1000 main.f:12(10)'], values: [7, 70], labels: [] }]);
    assert.equal(m.samples.labelKey.length, 0);
    assert.equal(mergeProfiles(inputs).samples.count, 3, 'without the option they stay apart');
  });

  it('drops all-zero samples and what only they use', () => {
    const b = ProfileBuilder.goCpu();
    const f = b.addFunction('main.f', 'main.go', 1);
    const g = b.addFunction('main.g', 'main.go', 5);
    const lf = b.addLocation([{ fn: f, line: 2 }], { address: 0x10n });
    const lg = b.addLocation([{ fn: g, line: 6 }], { address: 0x20n });
    b.addSample([lg], [0, 0]);
    b.addSample([lf], [0, 5]);
    b.addSample([lf, lg], [0, 0]);
    const m = mergeProfiles([b.finish()]);
    assert.deepEqual(samplesOf(m), [{ stack: ['0x10 main.f:2(1)'], values: [0, 5], labels: [] }]);
    assert.equal(m.locations.count, 1);
    assert.equal(m.functions.count, 1);
    assert.equal(m.strings[m.functions.name[0]], 'main.f');
  });

  it('drops samples whose values cancel out across profiles, and what only they use', () => {
    const delta = (values: number[], fn: string): Profile => tinyProfile(values, [], fn);
    const m = mergeProfiles([delta([5, 50], 'main.gone'), delta([1, 1], 'main.kept'), delta([-5, -50], 'main.gone')]);
    assert.deepEqual(samplesOf(m), [{ stack: ['0x1000 main.kept:12(10)'], values: [1, 1], labels: [] }]);
    assert.equal(m.functions.count, 1);
    assert.equal(m.locations.count, 1);
    assert.deepEqual(Array.from(m.locations.id), [1]);

    // Only all-zero sums are dropped: one column cancelling is not enough.
    const partial = mergeProfiles([delta([5, 50], 'main.f'), delta([-5, 0], 'main.f')]);
    assert.deepEqual(
      samplesOf(partial).map((s) => s.values),
      [[0, 50]],
    );
  });
});

describe('mergeProfiles compatibility', () => {
  it('throws ProfileError naming both period types', () => {
    const b = ProfileBuilder.goCpu();
    b.setPeriodType('space', 'bytes');
    b.addSample([], [1, 1]);
    throwsProfileError(() => mergeProfiles([tinyProfile(), b.finish()]), /period type/, /cpu\/nanoseconds/, /space\/bytes/);
  });

  it('throws ProfileError naming both sample type lists', () => {
    const b = new ProfileBuilder();
    b.setSampleTypes([
      { type: 'cpu', unit: 'nanoseconds' },
      { type: 'samples', unit: 'count' },
    ]);
    b.setPeriodType('cpu', 'nanoseconds');
    throwsProfileError(
      () => mergeProfiles([tinyProfile(), b.finish()]),
      /sample types/,
      /\[samples\/count cpu\/nanoseconds\]/,
      /\[cpu\/nanoseconds samples\/count\]/,
    );
    const fewer = new ProfileBuilder();
    fewer.setSampleTypes([{ type: 'samples', unit: 'count' }]);
    fewer.setPeriodType('cpu', 'nanoseconds');
    throwsProfileError(() => mergeProfiles([tinyProfile(), fewer.finish()]), /\[samples\/count cpu\/nanoseconds\]/, /\[samples\/count\]/);
  });

  it('throws ProfileError for no profiles', () => {
    throwsProfileError(() => mergeProfiles([]), /no profiles to merge/);
    throwsProfileError(() => new ProfileMerger(tinyProfile()).finish(), /no profiles to merge/);
  });

  it('ProfileMerger.add rejects an incompatible profile', () => {
    const first = tinyProfile();
    const merger = new ProfileMerger(first);
    merger.add(first);
    const heap = load('heap.pprof');
    throwsProfileError(() => merger.add(heap), /incompatible/);
  });
});

describe('mergeProfiles ids', () => {
  it('renumbers ids 1..n in order of first use: first mapping, then per location its mapping, functions, itself', () => {
    const b = ProfileBuilder.goCpu();
    b.addMapping({ start: 0x1000n, limit: 0x2000n, filename: '/bin/main', buildId: 'main', id: 5 });
    const lib = b.addMapping({ start: 0x9000n, limit: 0xa000n, filename: '/lib/x.so', buildId: 'x', id: 9 });
    const fA = b.addFunction('a', 'a.go', 1, 'a', 70);
    const fB = b.addFunction('b', 'b.go', 1, 'b', 60);
    const fC = b.addFunction('c', 'c.go', 1, 'c', 50);
    const unused = b.addFunction('unused', 'u.go', 1, 'unused', 1);
    const lB = b.addLocation([{ fn: fB, line: 2 }], { mapping: lib, address: 0x9010n, id: 400 });
    const lUnused = b.addLocation([{ fn: unused, line: 2 }], { address: 0x1n, id: 1 });
    // Innermost first: c is inlined into a.
    const lCA = b.addLocation(
      [
        { fn: fC, line: 3 },
        { fn: fA, line: 4 },
      ],
      { mapping: lib, address: 0x9020n, id: 300 },
    );
    b.addSample([lCA, lB], [1, 1]);
    b.addSample([lUnused], [0, 0]);
    b.addSample([lB], [1, 1]);
    const m = mergeProfiles([b.finish()]);
    assert.deepEqual(Array.from(m.mappings.id), [1, 2]);
    assert.deepEqual(
      Array.from(m.mappings.filename, (i) => m.strings[i]),
      ['/bin/main', '/lib/x.so'],
    );
    assert.deepEqual(Array.from(m.functions.id), [1, 2, 3]);
    assert.deepEqual(
      Array.from(m.functions.name, (i) => m.strings[i]),
      ['c', 'a', 'b'],
    );
    assert.deepEqual(Array.from(m.locations.id), [1, 2]);
    assert.deepEqual(Array.from(m.locations.address), [0x9020n, 0x9010n]);
    assert.deepEqual(samplesOf(m), [
      { stack: ['0x9020@/lib/x.so c:3(1) a:4(1)', '0x9010@/lib/x.so b:2(1)'], values: [1, 1], labels: [] },
      { stack: ['0x9010@/lib/x.so b:2(1)'], values: [1, 1], labels: [] },
    ]);
  });
});

describe('mergeProfiles on real profiles', () => {
  it('merging a profile with itself doubles every value and keeps the same samples', () => {
    for (const name of ['cpu-small-2.pprof', 'cpu-sort.pprof']) {
      const p = load(name);
      const once = mergeProfiles([p]);
      const twice = mergeProfiles([p, p]);
      assert.equal(once.samples.count, p.samples.count, `${name}: a Go CPU profile has no duplicate samples`);
      assert.equal(twice.samples.count, p.samples.count);
      assert.equal(twice.locations.count, once.locations.count);
      assert.equal(twice.functions.count, once.functions.count);
      assert.equal(twice.mappings.count, once.mappings.count);
      assert.deepEqual(Array.from(twice.samples.locs), Array.from(once.samples.locs));
      assert.deepEqual(
        Array.from(twice.samples.values),
        Array.from(once.samples.values, (v) => 2 * v),
      );
      assert.deepEqual(
        samplesOf(twice).map((s) => [s.stack, s.labels]),
        samplesOf(p).map((s) => [s.stack, s.labels]),
      );
      assert.deepEqual(
        samplesOf(twice).map((s) => s.values),
        samplesOf(p).map((s) => s.values.map((v) => 2 * v)),
      );
      assert.equal(twice.durationNanos, 2n * p.durationNanos);
      assert.equal(twice.timeNanos, p.timeNanos);
      assert.equal(twice.period, p.period);
    }
  });

  it('ProfileMerger.add one at a time gives exactly mergeProfiles', () => {
    const inputs = CPU_FIXTURES.map(load);
    const expected = plain(mergeProfiles(inputs));
    const merger = new ProfileMerger(inputs[0]);
    for (const p of inputs) merger.add(p);
    assert.deepEqual(plain(merger.finish()), expected);
    const sized = new ProfileMerger(inputs[0], {}, inputs);
    for (const p of inputs) sized.add(p);
    assert.deepEqual(plain(sized.finish()), expected);
  });

  it('ProfileMerger.add with dropLabels gives exactly mergeProfiles with dropLabels', () => {
    const inputs = [load('cpu-small-2.pprof'), load('cpu-small-1.pprof'), load('cpu-small-2.pprof')];
    const merger = new ProfileMerger(inputs[0], { dropLabels: true });
    for (const p of inputs) merger.add(p);
    const m = merger.finish();
    assert.deepEqual(plain(m), plain(mergeProfiles(inputs, { dropLabels: true })));
    assert.equal(m.samples.labelKey.length, 0);
  });

  it('does not modify its inputs', () => {
    const inputs = [...CPU_FIXTURES.map(load), tinyProfile([5, 5]), tinyProfile([-5, -5])];
    const before = inputs.map(plain);
    mergeProfiles(inputs);
    mergeProfiles(inputs, { dropLabels: true });
    assert.deepEqual(inputs.map(plain), before);
  });
});
