import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { fixture } from '../testing/fixtures.js';
import { plain } from '../testing/profiles.js';
import { ProfileBuilder } from './builder.js';
import { decodeProfile, decodeProfileTables } from './decode.js';
import { encodeProfile } from './encode.js';
import { ProfileError } from './errors.js';
import { type MergeOptions, mergeProfiles } from './merge.js';
import { EncodedProfileMerger } from './merge-encoded.js';
import { emptyProfile, type Profile } from './profile.js';
import { ProtoWriter } from './proto-writer.js';

const CPU_FIXTURES = ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof', 'cpu-json.pprof', 'cpu-sort.pprof'];

/** The merge of `inputs` (uncompressed profile.proto) by EncodedProfileMerger, or its error. */
function mergeEncoded(inputs: Uint8Array[], options: MergeOptions = {}): unknown {
  try {
    const merger = new EncodedProfileMerger(options, inputs.length);
    for (const bytes of inputs) merger.add(decodeProfileTables(bytes));
    return plain(merger.finish());
  } catch (err) {
    if (err instanceof ProfileError) return `ProfileError: ${err.message}`;
    throw err;
  }
}

/** The merge of `inputs` decoded one by one then merged by mergeProfiles, or its error. */
function mergeDecoded(inputs: Uint8Array[], options: MergeOptions = {}): unknown {
  try {
    return plain(
      mergeProfiles(
        inputs.map((bytes) => decodeProfile(bytes)),
        options,
      ),
    );
  } catch (err) {
    if (err instanceof ProfileError) return `ProfileError: ${err.message}`;
    throw err;
  }
}

function assertSameMerge(inputs: Uint8Array[], what: string): void {
  for (const options of [{}, { dropLabels: true }]) {
    assert.deepEqual(mergeEncoded(inputs, options), mergeDecoded(inputs, options), `${what} ${JSON.stringify(options)}`);
  }
}

/** A deterministic pseudo-random generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random CPU profile drawn from a small universe of functions, mappings and addresses, so
 * that profiles made with different seeds share functions, locations and whole samples.
 * Ids are dense, sparse or huge (varints of 4 and 5 bytes); values include zeros and
 * negatives (samples that cancel out); labels are string and numeric, in any order.
 */
function randomProfile(seed: number): Profile {
  const rnd = random(seed);
  const pick = (n: number): number => Math.floor(rnd() * n);
  const b = ProfileBuilder.goCpu();
  b.header.durationNanos = BigInt(pick(1000));
  b.header.timeNanos = BigInt(pick(3));
  const idStyle = pick(3);
  const id = (i: number): number => (idStyle === 0 ? i + 1 : idStyle === 1 ? 1000 + i * 977 : 2 ** 28 + i * 2 ** 21 + 5);
  const mappings: number[] = [];
  for (let i = 0, n = pick(3); i < n; i++) {
    const start = BigInt(0x400000 * (i + 1) + 0x1000 * pick(3));
    mappings.push(b.addMapping({ start, limit: start + 0x10000n, filename: `/bin/m${i}`, buildId: pick(2) ? `b${i}` : '', id: id(i) }));
  }
  const functions: number[] = [];
  for (let i = 0, n = 1 + pick(6); i < n; i++) {
    const k = pick(8);
    functions.push(b.addFunction(`f${k}`, `f${k % 3}.go`, k % 2, `f${k}`, id(i)));
  }
  const locations: number[] = [];
  for (let i = 0, n = 1 + pick(40); i < n; i++) {
    const lines = [];
    for (let l = 0, nl = pick(3); l < nl; l++)
      lines.push({ fn: pick(5) === 0 ? -1 : functions[pick(functions.length)], line: pick(4), column: pick(2) });
    const mapping = mappings.length > 0 && pick(3) > 0 ? mappings[pick(mappings.length)] : -1;
    locations.push(b.addLocation(lines, { mapping, address: BigInt(0x400000 + pick(24)), isFolded: pick(6) === 0, id: id(i) }));
  }
  for (let i = 0, n = pick(60); i < n; i++) {
    const stack: number[] = [];
    for (let j = 0, depth = pick(6); j < depth; j++) stack.push(locations[pick(Math.min(locations.length, 8))]);
    const values = [pick(4) - (pick(5) === 0 ? 2 : 0), pick(3) * 10];
    const labels = [];
    for (let l = 0, nl = pick(3); l < nl; l++) {
      labels.push(
        pick(2) ? { key: `k${pick(3)}`, str: `v${pick(2)}` } : { key: `k${pick(3)}`, num: pick(3) - 1, numUnit: pick(2) ? 'bytes' : '' },
      );
    }
    b.addSample(stack, values, labels);
  }
  return b.finish();
}

/**
 * Encodes p with its samples written the unusual ways the format allows: labels first,
 * values unpacked, location ids half packed and half unpacked, then the rest of the profile
 * (a protobuf message may repeat fields in any order; the decoder must take them all).
 */
function encodeScrambled(p: Profile): Uint8Array {
  const w = new ProtoWriter();
  const s = p.samples;
  const V = p.sampleTypes.length >> 1;
  for (let i = 0; i < s.count; i++) {
    const m = w.begin(2);
    for (let l = s.labelStart[i]; l < s.labelStart[i + 1]; l++) {
      const lm = w.begin(3);
      w.intField(3, s.labelNum[l]);
      w.uintField(4, s.labelNumUnit[l]);
      w.uintField(2, s.labelStr[l]);
      w.uintField(1, s.labelKey[l]);
      w.end(lm);
    }
    for (let j = 0; j < V; j++) {
      w.tag(2, 0);
      w.signed(s.values[i * V + j]);
    }
    const a = s.locStart[i];
    const b = s.locStart[i + 1];
    const mid = (a + b) >> 1;
    for (let j = a; j < mid; j++) {
      w.tag(1, 0);
      w.varint(p.locations.id[s.locs[j]]);
    }
    if (b > mid) {
      const packed = w.begin(1);
      for (let j = mid; j < b; j++) w.varint(p.locations.id[s.locs[j]]);
      w.end(packed);
    }
    w.end(m);
  }
  const rest = { ...p, samples: emptyProfile().samples };
  return Buffer.concat([w.finish(), encodeProfile(rest)]);
}

describe('EncodedProfileMerger', () => {
  it('gives exactly mergeProfiles on the real profiles', () => {
    const inputs = CPU_FIXTURES.map((name) => gunzipSync(readFileSync(fixture(name))));
    assertSameMerge(inputs, 'fixtures');
    assertSameMerge([inputs[1], inputs[0], inputs[1]], 'a profile merged twice');
  });

  it('gives exactly mergeProfiles on random profiles, however their samples are encoded', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const profiles = [];
      for (let i = 0, n = 1 + (seed % 4); i < n; i++) profiles.push(randomProfile(seed * 10 + i));
      assertSameMerge(profiles.map(encodeProfile), `seed ${seed}`);
      assertSameMerge(profiles.map(encodeScrambled), `seed ${seed}, scrambled`);
    }
  });

  it('rejects what decodeProfile rejects, with the same message', () => {
    const cases: Array<[string, Uint8Array]> = [];
    let w = new ProtoWriter();
    let m = w.begin(2);
    let packed = w.begin(1);
    w.varint(77);
    w.end(packed);
    w.end(m);
    w.bytesField(6, new Uint8Array(0));
    cases.push(['a missing location', w.finish()]);

    w = new ProtoWriter();
    for (const t of [1, 2]) {
      m = w.begin(1);
      w.uintField(1, t);
      w.end(m);
    }
    m = w.begin(2);
    packed = w.begin(2);
    w.varint(5);
    w.end(packed);
    w.end(m);
    for (const str of ['', 'a', 'b']) w.bytesField(6, Buffer.from(str));
    cases.push(['too few values', w.finish()]);

    w = new ProtoWriter();
    m = w.begin(1);
    w.uintField(1, 1);
    w.end(m);
    m = w.begin(2);
    packed = w.begin(2);
    w.varint(5);
    w.varint(6);
    w.end(packed);
    w.end(m);
    for (const str of ['', 'a']) w.bytesField(6, Buffer.from(str));
    cases.push(['too many values', w.finish()]);

    w = new ProtoWriter();
    m = w.begin(1);
    w.uintField(1, 1);
    w.end(m);
    m = w.begin(2);
    w.tag(2, 0);
    w.varint(1);
    const lm = w.begin(3);
    w.uintField(1, 1);
    w.uintField(2, 40);
    w.end(lm);
    w.end(m);
    for (const str of ['', 'a']) w.bytesField(6, Buffer.from(str));
    cases.push(['a label string out of range', w.finish()]);

    w = new ProtoWriter();
    m = w.begin(2);
    w.tag(1, 2);
    w.varint(5);
    w.varint(0x81);
    w.end(m);
    w.bytesField(6, new Uint8Array(0));
    cases.push(['a truncated location list', w.finish()]);

    w = new ProtoWriter();
    m = w.begin(2);
    w.tag(1, 2);
    w.varint(1);
    w.varint(0x81); // a varint of two bytes in a field of one
    w.end(m);
    w.bytesField(6, new Uint8Array(0));
    cases.push(['a location id that runs past its field', w.finish()]);

    for (const [what, bad] of cases) {
      const expected = mergeDecoded([bad]);
      assert.match(String(expected), /^ProfileError: /, what);
      assert.deepEqual(mergeEncoded([bad]), expected, what);
    }
  });

  it('rejects an incompatible profile before merging it', () => {
    const cpu = gunzipSync(readFileSync(fixture('cpu-small-1.pprof')));
    const heap = gunzipSync(readFileSync(fixture('heap.pprof')));
    const merger = new EncodedProfileMerger();
    merger.add(decodeProfileTables(cpu));
    assert.throws(() => merger.add(decodeProfileTables(heap)), /incompatible (period|sample) types/);
    assert.throws(() => new EncodedProfileMerger().finish(), /no profiles to merge/);
  });

  it('refuses, in both mergers, sums of sample values that leave ±2^53 (the decoder would refuse the merged file)', () => {
    // One samples/count sample of value 2^53 - 1, found by the fuzzer: two of them add up past 2^53.
    const big = Buffer.from('0a0408011002120910ffffffffffffff0f3200320773616d706c65733205636f756e74', 'hex');
    const encoded = mergeEncoded([big, big]);
    assert.match(String(encoded), /^ProfileError: merged sample value \d+ is outside ±2\^53/);
    assert.throws(
      () => mergeProfiles([decodeProfile(big), decodeProfile(big)]),
      (err: unknown) => err instanceof ProfileError,
    );
    // One of them alone merges (and stays decodable).
    assert.equal(decodeProfile(encodeProfile(mergeProfiles([decodeProfile(big)]))).samples.values[0], 2 ** 53 - 1);
  });

  it('merges one input with itself, the same decoded tables added twice, within its budget', () => {
    // Each read of the samples is charged on its own. A profile whose one sample is a 2M-frame
    // stack spends most of its budget on that stack (4 bytes per 1-byte location id); two reads
    // summed would pass it. Found by the fuzzer, on a 1 MB profile of that shape.
    const frames = 2 * 1024 * 1024;
    const varint = (v: number): number[] => {
      const out: number[] = [];
      for (; v >= 0x80; v = Math.floor(v / 0x80)) out.push((v % 0x80) | 0x80);
      out.push(v);
      return out;
    };
    const stack = Buffer.concat([Buffer.from([0x0a, ...varint(frames)]), Buffer.alloc(frames, 0x01), Buffer.from([0x10, 0x01])]);
    const raw = Buffer.concat([
      Buffer.from([0x0a, 0x04, 0x08, 0x01, 0x10, 0x02]), // sample_type samples/count
      Buffer.from([0x12, ...varint(stack.length)]),
      stack,
      Buffer.from([0x22, 0x02, 0x08, 0x01]), // location 1
      Buffer.from([0x32, 0x00, 0x32, 0x07, ...Buffer.from('samples'), 0x32, 0x05, ...Buffer.from('count')]),
    ]);
    const tables = decodeProfileTables(raw);
    const merger = new EncodedProfileMerger({}, 2);
    merger.add(tables);
    merger.add(tables);
    const merged = merger.finish();
    assert.equal(merged.samples.count, 1);
    assert.equal(merged.samples.values[0], 2);
    assert.equal(merged.samples.locs.length, frames);
  });
});
