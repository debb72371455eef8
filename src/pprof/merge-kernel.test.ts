import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { fixture } from '../testing/fixtures.js';
import { AMPLIFICATION_CASES } from './amplification.testing.js';
import { ProfileBuilder } from './builder.js';
import { decodeProfileTables } from './decode.js';
import { encodeProfile, encodeProfileChunks } from './encode.js';
import { checkCompatible } from './merge.js';
import { EncodedProfileMerger } from './merge-encoded.js';
import { kernelAvailable, mergeWithKernel } from './merge-kernel.js';
import { validateProfile } from './validate.js';

const MIB = 1 << 20;

function raw(name: string): Buffer {
  return gunzipSync(readFileSync(fixture(name)));
}

/**
 * The TypeScript merge of `inputs` as `hotpath merge` runs it (merge-run.ts), encoded: the
 * bytes the kernel must give. Throws what that path throws.
 */
function typescriptMerge(inputs: Uint8Array[], dropLabels: boolean): Uint8Array {
  const merger = new EncodedProfileMerger({ dropLabels }, inputs.length);
  const first = decodeProfileTables(inputs[0]).profile;
  for (let i = 0; i < inputs.length; i++) {
    const t = decodeProfileTables(inputs[i]);
    validateProfile(t.profile);
    if (i > 0) checkCompatible([first, t.profile], i + 1);
    merger.add(t);
  }
  return encodeProfile(merger.finish());
}

function kernelBytes(inputs: Uint8Array[], dropLabels: boolean, chunkBytes = MIB): Uint8Array {
  const k = mergeWithKernel(inputs, dropLabels, chunkBytes);
  assert.ok(k.ok, `the kernel merges these inputs (declined: ${k.ok ? '' : k.reason})`);
  assert.ok(Buffer.concat(k.pieces).equals(k.bytes), 'the pieces make up the output');
  return k.bytes;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

describe('merge kernel', () => {
  it('is built (npm run build compiles src/pprof/merge-kernel.as.ts)', () => {
    assert.ok(kernelAvailable(), 'dist/wasm/merge-kernel.wasm is missing');
  });

  // Real Go profiles: CPU profiles with and without labels, one heap profile (4 sample types).
  const sets: Array<[string, string[]]> = [
    ['three CPU profiles', ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof']],
    [
      'five CPU profiles of two programs',
      ['cpu-json.pprof', 'cpu-sort.pprof', 'cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof'],
    ],
    ['one profile', ['cpu-small-2.pprof']],
    ['a profile with itself', ['cpu-small-2.pprof', 'cpu-small-2.pprof']],
    ['heap profiles', ['heap.pprof', 'heap.pprof']],
  ];
  for (const [name, files] of sets) {
    for (const dropLabels of [false, true]) {
      it(`${name}${dropLabels ? ', labels dropped' : ''}: the same bytes as the TypeScript merge`, () => {
        const inputs = files.map(raw);
        const expected = typescriptMerge(inputs, dropLabels);
        assert.ok(same(kernelBytes(inputs, dropLabels), expected));
      });
    }
  }

  it('cuts the output where encodeProfileChunks cuts it', () => {
    const inputs = ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof'].map(raw);
    const merger = new EncodedProfileMerger({}, inputs.length);
    for (const b of inputs) merger.add(decodeProfileTables(b));
    const merged = merger.finish();
    const chunk = 4096;
    const expected: Uint8Array[] = [];
    // The pieces are handed over in order while encoding, and the last one is returned.
    expected.push(encodeProfileChunks(merged, chunk, (piece) => expected.push(piece.slice())));
    const k = mergeWithKernel(inputs, false, chunk);
    assert.ok(k.ok);
    assert.ok(expected.length > 10, `${expected.length} pieces`);
    assert.equal(k.pieces.length, expected.length);
    for (let i = 0; i < expected.length; i++) assert.ok(same(k.pieces[i], expected[i]), `piece ${i}`);
  });

  it('merges like the TypeScript code: a binary loaded at two addresses, string and numeric labels, comments, negative values', () => {
    const b = ProfileBuilder.goCpu();
    const f = b.addFunction('main.work', 'main.go', 10);
    const g = b.addFunction('main.main', 'main.go', 3);
    const m = b.addMapping({ start: 0x400000n, limit: 0x500000n, filename: '/bin/app', buildId: 'abc' });
    const l1 = b.addLocation([{ fn: f, line: 12 }], { mapping: m, address: 0x401000n });
    const l2 = b.addLocation(
      [
        { fn: f, line: 14, column: 3 },
        { fn: g, line: 5 },
      ],
      { mapping: m, address: 0x402000n },
    );
    b.addSample(
      [l1, l2],
      [1, 10_000_000],
      [
        { key: 'span id', str: '7' },
        { key: 'bytes', num: -42, numUnit: 'bytes' },
      ],
    );
    b.addSample([l2], [2, 20_000_000], [{ key: 'span id', str: '7' }]);
    b.addSample([l1, l2], [-1, -5_000_000]);
    b.header.comments = Int32Array.of(b.string('first'), b.string('second'));
    b.header.timeNanos = 1_700_000_000_000_000_000n;
    b.header.durationNanos = 30_000_000_000n;
    const one = encodeProfile(b.finish());
    const c = ProfileBuilder.goCpu();
    const h = c.addFunction('main.work', 'main.go', 10);
    // The same binary loaded elsewhere: its addresses are rebased onto the first mapping.
    const n = c.addMapping({ start: 0x800000n, limit: 0x900000n, filename: '/bin/app', buildId: 'abc' });
    const l3 = c.addLocation([{ fn: h, line: 12 }], { mapping: n, address: 0x801000n });
    c.addSample([l3], [3, 30_000_000], [{ key: 'span id', str: '8' }]);
    c.header.comments = Int32Array.of(c.string('second'), c.string('third'));
    c.header.timeNanos = 1_600_000_000_000_000_000n;
    const two = encodeProfile(c.finish());
    for (const dropLabels of [false, true]) {
      assert.ok(same(kernelBytes([one, two], dropLabels), typescriptMerge([one, two], dropLabels)));
    }
  });

  describe('declines what it does not do exactly like the TypeScript code, which then decides', () => {
    const declines = (inputs: Uint8Array[], reason: RegExp): void => {
      const k = mergeWithKernel(inputs, false, MIB);
      assert.equal(k.ok, false);
      if (!k.ok) assert.match(k.reason, reason);
    };

    it('a non-ASCII string', () => {
      const b = ProfileBuilder.goCpu();
      const loc = b.addLocation([{ fn: b.addFunction('main.größe'), line: 1 }]);
      b.addSample([loc], [1, 1]);
      declines([encodeProfile(b.finish())], /non-ASCII/);
    });

    it('profiles of other sample types', () => {
      declines([raw('cpu-small-1.pprof'), raw('heap.pprof')], /incompatible/);
    });

    it('values that cancel out', () => {
      const b = ProfileBuilder.goCpu();
      const loc = b.addLocation([{ fn: b.addFunction('main.f'), line: 1 }]);
      b.addSample([loc], [1, 5]);
      b.addSample([loc], [-1, -5]);
      declines([encodeProfile(b.finish())], /summing to zero/);
    });

    it('a truncated profile, an empty one', () => {
      const p = raw('cpu-small-1.pprof');
      declines([p.subarray(0, p.length - 7)], /runs past/);
      declines([new Uint8Array(0)], /runs past/);
    });

    for (const c of AMPLIFICATION_CASES) {
      it(`an amplification input (${c.name}), which decodeProfile refuses`, () => {
        declines([c.make(256 * 1024)], /./);
      });
    }
  });

  it('never merges what the TypeScript code refuses, and merges the rest alike (mutated real profiles)', () => {
    const original = raw('cpu-small-2.pprof');
    // mulberry32: a seeded generator, so a failure is reproducible.
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    let merged = 0;
    let refused = 0;
    for (let round = 0; round < 600; round++) {
      const mutated = Buffer.from(original);
      const kind = random(4);
      let input: Buffer = mutated;
      if (kind === 0) {
        for (let k = 0; k <= random(4); k++) mutated[random(mutated.length)] = random(256);
      } else if (kind === 3) {
        // Varint payload bits only (the continuation bit kept): mostly still a profile.
        for (let k = 0; k <= random(4); k++) {
          const at = random(mutated.length);
          mutated[at] = (mutated[at] & 0x80) | random(128);
        }
      } else if (kind === 1) {
        input = mutated.subarray(0, random(mutated.length));
      } else {
        const at = random(mutated.length);
        input = Buffer.concat([mutated.subarray(0, at), Buffer.from([random(256), random(256)]), mutated.subarray(at)]);
      }
      const inputs = [original, input];
      let expected: Uint8Array | null = null;
      try {
        expected = typescriptMerge(inputs, false);
      } catch {
        expected = null;
      }
      const k = mergeWithKernel(inputs, false, MIB);
      if (expected === null) {
        refused++;
        assert.equal(k.ok, false, `round ${round}: the kernel merged an input the TypeScript code refuses`);
      } else if (k.ok) {
        merged++;
        assert.ok(same(k.bytes, expected), `round ${round}: other bytes than the TypeScript merge`);
      }
    }
    // Both outcomes were exercised.
    assert.ok(merged > 20, `${merged} mutated inputs merged by the kernel`);
    assert.ok(refused > 20, `${refused} mutated inputs refused`);
  });
});
