import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { decodeProfile } from '../pprof/decode.js';
import { encodeProfile } from '../pprof/encode.js';
import type { Profile } from '../pprof/profile.js';
import { fixtureProfile } from '../testing/profiles.js';
import { mainModuleOf } from './main-module.js';
import { decodePreparedForm, encodePreparedBytes, encodePreparedForm, PreparedFormError, preparedFormOf } from './prepared-form.js';

const FIXTURES = ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-json.pprof', 'cpu-sort.pprof', 'heap.pprof'];

/** `p` without any sample labels, through a real encode and decode. */
function withoutLabels(p: Profile): Profile {
  const q = decodeProfile(encodeProfile(p));
  q.samples.labelStart = new Uint32Array(q.samples.count + 1);
  q.samples.labelKey = new Int32Array(0);
  q.samples.labelStr = new Int32Array(0);
  q.samples.labelNum = new Float64Array(0);
  q.samples.labelNumUnit = new Int32Array(0);
  return decodeProfile(encodeProfile(q));
}

/** Asserts that decoding `bytes` fails with a PreparedFormError (and nothing else) whose message matches. */
function refused(bytes: Uint8Array, message?: RegExp): void {
  assert.throws(
    () => decodePreparedForm(bytes),
    (err: Error) => err instanceof PreparedFormError && (message === undefined || message.test(err.message)),
  );
}

/** `body` with its CRC-32 appended, as encodePreparedBytes seals a form, so the decoder reaches the structure checks. */
function sealed(body: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(body.length + 4);
  out.set(Array.from(body));
  new DataView(out.buffer).setUint32(body.length, crc32(out.subarray(0, body.length)), true);
  return out;
}

describe('prepared form', () => {
  for (const name of FIXTURES) {
    it(`round-trips the real profile ${name}`, () => {
      const p = fixtureProfile(name);
      const form = preparedFormOf(p);
      assert.deepEqual(decodePreparedForm(encodePreparedForm(p)), form);
      assert.equal(form.mainModule, mainModuleOf(p));
      assert.deepEqual(
        form.sampleTypes.map((t) => `${t.type}/${t.unit}`),
        Array.from(
          { length: p.sampleTypes.length / 2 },
          (_, i) => `${p.strings[p.sampleTypes[2 * i]]}/${p.strings[p.sampleTypes[2 * i + 1]]}`,
        ),
      );
      // Every value of the profile is in the form, column by column.
      const V = form.sampleTypes.length;
      for (let c = 0; c < V; c++) {
        let raw = 0;
        let prepared = 0;
        for (let i = 0; i < p.samples.count; i++) raw += p.samples.values[i * V + c];
        for (let n = 0; n < form.parent.length; n++) prepared += form.self[n * V + c];
        assert.equal(prepared, raw);
      }
      for (let n = 1; n < form.parent.length; n++) assert.ok(form.parent[n] < n, 'parents come first');
    });
  }

  it('encodes real profiles to exactly the bytes of format version 1 as first written', () => {
    // SHA-256 (first 128 bits) of the encoded bytes when the format was fixed: stored forms and
    // the flame benchmark's cached data stay readable, and a faster encoder must match them. A
    // CRC of the sealed bytes would not do: it is the same constant for every form.
    const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex').slice(0, 32);
    const pinned: Array<[string, number, string]> = [
      ['cpu-small-1.pprof', 14971, 'e2fc4f88f59bb7331c4d59db70bb8b82'],
      ['cpu-small-2.pprof', 18269, '6c4cabf53dbcbf45f904fabdcb14a1f7'],
      ['cpu-small-3.pprof', 15616, '3ab68e96d52c51527cdf625be7ba4be9'],
      ['cpu-json.pprof', 19179, '2f8b4021576edca26d6abade6708c6c2'],
      ['cpu-sort.pprof', 5374, '0ce0957990cf112110ecc76f9f677fc4'],
      ['heap.pprof', 690, 'cf34afa31c194b29c513884c565b00b4'],
    ];
    for (const [name, length, sha] of pinned) {
      const b = encodePreparedForm(fixtureProfile(name));
      assert.deepEqual([name, b.length, digest(b)], [name, length, sha]);
    }
    // Float values, frames without a function ("?") and names beyond ASCII (lone surrogates too).
    const form = preparedFormOf(fixtureProfile('cpu-small-1.pprof'));
    form.self[form.self.findIndex((v) => v !== 0)] = -2.5;
    const floats = encodePreparedBytes(form);
    assert.deepEqual([floats.length, digest(floats)], [18500, 'eab0a7f37fc1c05000c123e0eaf1574d']);
    const unknown = fixtureProfile('cpu-json.pprof');
    for (let l = 0; l < unknown.locations.lineFunction.length; l += 7) unknown.locations.lineFunction[l] = -1;
    const withUnknown = encodePreparedForm(unknown);
    assert.deepEqual([withUnknown.length, digest(withUnknown)], [19792, 'f7ce50772d65811eab501bf493a54d66']);
    const unicode = fixtureProfile('cpu-small-2.pprof');
    for (let f = 0; f < unicode.functions.count; f += 5)
      unicode.strings[unicode.functions.name[f]] = `pkg/ünï.函数${f}.\u{1F600}\uD800x\uDC00`;
    const withUnicode = encodePreparedForm(unicode);
    assert.deepEqual([withUnicode.length, digest(withUnicode)], [18412, '9313ca208716b7034ed00d50d78d3cbe']);
  });

  it('is as small for a labelled profile as for the same profile without labels', () => {
    const p = fixtureProfile('cpu-small-2.pprof');
    assert.ok(p.samples.labelKey.length > 0, 'the fixture has labels');
    assert.deepEqual(encodePreparedForm(p), encodePreparedForm(withoutLabels(p)));
  });

  it('keeps values that are not non-negative integers as float64', () => {
    const form = preparedFormOf(fixtureProfile('cpu-small-1.pprof'));
    form.self[form.self.findIndex((v) => v !== 0)] = -2.5;
    assert.deepEqual(decodePreparedForm(encodePreparedBytes(form)), form);
  });

  it('refuses every cut-short prefix with a PreparedFormError', () => {
    const bytes = encodePreparedForm(fixtureProfile('cpu-sort.pprof'));
    for (let n = 0; n < bytes.length; n++) refused(bytes.subarray(0, n));
  });

  it('refuses a wrong magic, an unknown version or flags, a bad checksum and trailing bytes, naming them', () => {
    const bytes = encodePreparedForm(fixtureProfile('cpu-sort.pprof'));
    const body = bytes.subarray(0, bytes.length - 4);
    const changed = (at: number, value: number) => {
      const b = body.slice();
      b[at] = value;
      return sealed(b);
    };
    refused(changed(0, 0x47), /not a prepared flame form/);
    refused(changed(3, 9), /version 9/);
    refused(changed(4, 0x80), /unknown prepared form flags/);
    refused(sealed([...body, 0]), /1 bytes after the end/);
    const flipped = bytes.slice();
    flipped[bytes.length >> 1] ^= 1;
    refused(flipped, /checksum mismatch/);
  });

  it('refuses counts larger than the bytes left before allocating for them', () => {
    // Header, no columns, no main module, one name ("total"), then 2^25 nodes in a few bytes.
    const head = [0x48, 0x50, 0x46, 1, 0, 0, 0, 1, 5, ...new TextEncoder().encode('total')];
    refused(sealed([...head, 0x80, 0x80, 0x80, 0x10, 1, 1]), /node count 33554432 needs more than/);
    refused(sealed([0x48, 0x50, 0x46, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f]), /value column count .* over the limit/);
    refused(sealed([0x48, 0x50, 0x46, 1, 0, 1, 0xff, 0xff, 0x03, 0x61]), /sample type of 65535 bytes runs past the end/);
  });

  it('refuses a parent that is not an earlier node and a name beyond the table', () => {
    const head = [0x48, 0x50, 0x46, 1, 0, 0, 0, 1, 5, ...new TextEncoder().encode('total')];
    refused(sealed([...head, 1, 2, 0, 0]), /node 1 names parent -1/);
    refused(sealed([...head, 1, 1, 3, 0]), /node 1 names function 3, beyond the 1 names/);
  });

  it('never throws anything but PreparedFormError on corrupted bytes, checksum resealed or not', () => {
    const bytes = encodePreparedForm(fixtureProfile('cpu-small-2.pprof'));
    // A fixed pseudo-random walk (xorshift), so every run corrupts the same bytes.
    let x = 0x2545f491;
    const next = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
    for (let trial = 0; trial < 2000; trial++) {
      const b = bytes.slice();
      for (let k = 0; k < 1 + (trial % 4); k++) b[5 + (next() % (b.length - 9))] = next() & 0xff;
      try {
        decodePreparedForm(trial % 2 === 0 ? b : sealed(b.subarray(0, b.length - 4)));
      } catch (err) {
        assert.ok(err instanceof PreparedFormError, `trial ${trial}: ${(err as Error).stack}`);
      }
    }
  });
});
