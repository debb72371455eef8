import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { fixture } from '../testing/fixtures.js';
import { AMPLIFICATION_CASES } from './amplification.testing.js';
import { DECODE_BUDGET_SLACK_BYTES, DECODED_BYTES_PER_INPUT_BYTE, DecodeBudget } from './budget.js';
import { decodeProfile, decodeProfileTables } from './decode.js';
import { ProfileError } from './errors.js';
import { EncodedProfileMerger } from './merge-encoded.js';
import { parseProfile } from './parse.js';

const MB = 1024 * 1024;
const REAL_FIXTURES = ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof', 'cpu-json.pprof', 'cpu-sort.pprof', 'heap.pprof'];

/** Runs `decode` and returns its ProfileError and how much ArrayBuffer memory grew meanwhile. */
function refusal(decode: () => unknown): { error: ProfileError; grewBytes: number } {
  const before = process.memoryUsage().arrayBuffers;
  try {
    decode();
  } catch (err) {
    const grewBytes = process.memoryUsage().arrayBuffers - before;
    assert.ok(err instanceof ProfileError, `a ProfileError, not ${String(err)}`);
    return { error: err, grewBytes };
  }
  assert.fail('the input was accepted');
}

describe('DecodeBudget', () => {
  it('is K x the input size plus a constant', () => {
    const b = new DecodeBudget(10 * MB);
    assert.equal(b.limitBytes, 10 * MB * DECODED_BYTES_PER_INPUT_BYTE + DECODE_BUDGET_SLACK_BYTES);
  });

  it('refuses a charge that does not fit, naming it, and charges nothing then', () => {
    const b = new DecodeBudget(MB, 3 * MB);
    b.charge(2 * MB, 'first');
    assert.throws(
      () => b.charge(2 * MB, 'sample labels'),
      /^ProfileError: sample labels would need 4\.0 MB decoded from 1\.0 MB: not a plausible profile/,
    );
    assert.equal(b.usedBytes, 2 * MB);
    b.charge(MB, 'last');
    assert.equal(b.usedBytes, 3 * MB);
  });

  it('names the largest table when the tables do not fit together', () => {
    const b = new DecodeBudget(MB, 3 * MB);
    assert.throws(
      () =>
        b.chargeTables([
          { what: '10 mapping records', bytes: MB },
          { what: '99 string_table entries', bytes: 2.5 * MB },
        ]),
      /^ProfileError: 99 string_table entries would need 3\.5 MB decoded from 1\.0 MB/,
    );
    assert.equal(b.usedBytes, 0);
  });
});

describe('decode budget on real profiles', () => {
  for (const name of REAL_FIXTURES) {
    it(`${name} needs well under K bytes per byte`, () => {
      const raw = gunzipSync(readFileSync(fixture(name)));
      const budget = new DecodeBudget(raw.length, Number.POSITIVE_INFINITY);
      decodeProfile(raw, budget);
      // Measured 2.7-3.7 (heap.pprof, 3 KB, ~5 from fixed minimums covered by the constant).
      assert.ok(
        budget.usedBytes < (DECODED_BYTES_PER_INPUT_BYTE - 1) * raw.length + 64 * 1024,
        `${budget.usedBytes} bytes charged for ${raw.length}`,
      );
    });
  }
});

describe('amplification inputs are refused in bounded memory', () => {
  for (const c of AMPLIFICATION_CASES) {
    for (const size of [MB, 16 * MB]) {
      it(`${c.name}, ${size / MB} MB: ${c.upFront ? 'before allocating any table' : 'within the budget'}`, () => {
        const raw = c.make(size);
        const limit = new DecodeBudget(raw.length).limitBytes;
        const { error, grewBytes } = refusal(() => decodeProfile(raw));
        assert.match(error.message, c.refusal);
        // Up to 2 MB: the header is decoded first, and 100,000 sample types take 1.4 MB of it.
        if (c.upFront) assert.ok(grewBytes < 2 * MB, `${grewBytes} bytes allocated before the refusal`);
        else assert.ok(grewBytes <= limit, `${grewBytes} bytes allocated, over the budget of ${limit}`);
      });
    }
    it(`${c.name}: the encoded merger refuses it too`, () => {
      const raw = c.make(4 * MB);
      const { error } = refusal(() => new EncodedProfileMerger().add(decodeProfileTables(raw)));
      assert.match(error.message, c.refusal);
    });
    it(`${c.name}: gzip of it is refused by parseProfile`, () => {
      const { error } = refusal(() => parseProfile(gzipSync(c.make(MB), { level: 1 })));
      assert.match(error.message, c.refusal);
    });
  }
});
