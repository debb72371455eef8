import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { encodeProfile } from '../pprof/encode.js';
import { ProfileError } from '../pprof/errors.js';
import { ProtoWriter } from '../pprof/proto-writer.js';
import { fixture } from '../testing/fixtures.js';
import { goCpuSpec, type OtlpSpec, otlpRequestBytes } from '../testing/otlp-request.js';
import { otlpProfileToPprof } from './otlp-convert.js';
import { decodeOtlpRequest } from './otlp-request.js';

const LIMITS = { maxProfiles: 16, maxResourceAttributes: 64 };

function decode(bytes: Uint8Array) {
  return decodeOtlpRequest(bytes, LIMITS);
}

/** Asserts that decoding `spec` (edited by `edit`) is refused with a ProfileError matching `message`. */
function refused(edit: (s: OtlpSpec) => void, message: RegExp): void {
  const spec = goCpuSpec();
  edit(spec);
  assert.throws(
    () => decode(otlpRequestBytes(spec)),
    (err: unknown) => err instanceof ProfileError && message.test(err.message),
  );
}

describe('decodeOtlpRequest: a valid request', () => {
  it('reads the dictionary, the resource and the samples with their values and attributes', () => {
    const req = decode(otlpRequestBytes(goCpuSpec()));
    assert.equal(req.dictionary.strings[3], 'main.burn');
    assert.equal(req.dictionary.locations.count, 5);
    assert.deepEqual([...req.dictionary.stacks.locs], [1, 2, 3, 4, 2, 3, 4]);
    assert.deepEqual(req.resources[0].attributes[0], ['service.name', 'checkout']);
    assert.equal(req.profiles.length, 1);
    const p = req.profiles[0];
    assert.equal(p.period, 10_000_000);
    assert.equal(p.timeUnixNano, 1_764_000_000_000_000_000n);
    assert.deepEqual([...p.samples.stack], [1, 2]);
    assert.deepEqual([...p.samples.value], [30_000_000, 10_000_000]);
    assert.deepEqual([...p.samples.attrs], [1, 2]);
    assert.deepEqual([...p.samples.attrStart], [0, 2, 2]);
    assert.equal(req.dictionary.attributes.value[1], 'req-1');
    assert.equal(req.dictionary.attributes.value[2], 4096);
  });

  it('sums per-timestamp values, and counts one per timestamp when a sample has timestamps only', () => {
    const spec = goCpuSpec();
    spec.resources[0].profiles[0].samples = [
      { stack: 1, values: [5, 7], timestamps: [1n, 2n] },
      { stack: 2, timestamps: [1n, 2n, 3n] },
    ];
    assert.deepEqual([...decode(otlpRequestBytes(spec)).profiles[0].samples.value], [12, 3]);
  });

  it('keeps every profile of every resource and scope, in order, with its resource', () => {
    const spec = goCpuSpec();
    const second = structuredClone(spec.resources[0]);
    second.attributes = [['service.name', 'cart']];
    spec.resources.push(second);
    const req = decode(otlpRequestBytes(spec));
    assert.deepEqual(
      req.profiles.map((p) => req.resources[p.resource].attributes[0][1]),
      ['checkout', 'cart'],
    );
  });

  it('an empty request has no profiles and a dictionary of zero entries', () => {
    const req = decode(new Uint8Array(0));
    assert.equal(req.profiles.length, 0);
    assert.deepEqual(req.dictionary.strings, ['']);
  });
});

describe('decodeOtlpRequest: hostile input is refused with a message naming the field', () => {
  it('every truncation of a valid request is decoded or refused with a ProfileError, never anything else', () => {
    const bytes = otlpRequestBytes(goCpuSpec());
    let refusals = 0;
    for (let n = 0; n < bytes.length; n++) {
      try {
        decode(bytes.subarray(0, n));
      } catch (err) {
        assert.ok(err instanceof ProfileError, `prefix of ${n} bytes: ${String(err)}`);
        refusals++;
      }
    }
    // Cutting inside a length-delimited field is always noticed.
    assert.ok(refusals > bytes.length / 2, `${refusals} of ${bytes.length} prefixes refused`);
  });

  it('random byte changes to a real request: decoded and converted, or refused with a ProfileError', () => {
    const recorded = readFileSync(fixture('intake/otlp-pprofile-v0.165.0.pb'));
    // A fixed xorshift sequence, so a failure is reproducible.
    let x = 0x9e3779b9;
    const next = (n: number) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    let refusals = 0;
    for (let round = 0; round < 300; round++) {
      const bytes = Buffer.from(recorded);
      for (let k = 0; k < 1 + next(4); k++) bytes[next(bytes.length)] = next(256);
      try {
        const req = decode(bytes);
        for (let i = 0; i < req.profiles.length; i++) encodeProfile(otlpProfileToPprof(req, i).profile);
      } catch (err) {
        assert.ok(err instanceof ProfileError, `round ${round}: ${String((err as Error).stack)}`);
        refusals++;
      }
    }
    assert.ok(refusals > 0 && refusals < 300, `${refusals} of 300 refused`);
  });

  it('a length that claims more bytes than remain', () => {
    // resource_profiles claiming 2^31 bytes.
    const w = new ProtoWriter();
    w.tag(1, 2);
    w.varint(2 ** 31);
    w.varint(0);
    assert.throws(() => decode(w.finish()), /resource_profiles at byte 6 claims 2147483648 bytes but only 1 remain/);
  });

  it('a huge count of tiny table entries is refused by the budget before its columns are allocated', () => {
    // 400,000 empty location_table entries: 0.8 MB of wire, far more as columns.
    const w = new ProtoWriter();
    const d = w.begin(2);
    for (let i = 0; i < 400_000; i++) w.end(w.begin(2));
    w.end(d);
    assert.throws(() => decode(w.finish()), /location_table entries would need \d+(\.\d)? MB decoded from 0\.8 MB/);
  });

  it('a stack_index past stack_table', () => {
    refused((s) => {
      s.resources[0].profiles[0].samples[1].stack = 9;
    }, /^profile 0 sample 1 stack_index is 9, outside stack_table \(3 entries\)$/);
  });

  it('a negative stack_index (int32 -1 on the wire)', () => {
    refused((s) => {
      s.resources[0].profiles[0].samples[0].stack = -1;
    }, /stack_index is -1, outside stack_table/);
  });

  it('a stack pointing past location_table', () => {
    refused((s) => {
      s.stacks = [[], [1, 77]];
    }, /stack_table\[1\] location 1 is 77, outside location_table \(5 entries\)/);
  });

  it('a line pointing past function_table', () => {
    refused((s) => {
      s.locations?.push({ lines: [{ fn: 40 }] });
    }, /location_table\[5\] line 0 function_index is 40, outside function_table/);
  });

  it('a location pointing past mapping_table', () => {
    refused((s) => {
      s.locations?.push({ mapping: 3 });
    }, /location_table\[5\]\.mapping_index is 3, outside mapping_table \(2 entries\)/);
  });

  it('a function name past string_table', () => {
    refused((s) => {
      s.functions?.push({ name: 1000 });
    }, /function_table\[5\]\.name_strindex is 1000, outside string_table \(11 entries\)/);
  });

  it('a sample attribute past attribute_table', () => {
    refused((s) => {
      s.resources[0].profiles[0].samples[0].attributes = [3];
    }, /sample 0 attribute index is 3, outside attribute_table \(3 entries\)/);
  });

  it('a link_index past link_table', () => {
    refused((s) => {
      s.resources[0].profiles[0].samples[0].link = 2;
    }, /sample 0 link_index is 2, outside link_table \(1 entry\)/);
  });

  it('a sample_type past string_table', () => {
    refused((s) => {
      s.resources[0].profiles[0].sampleType = [1, 99];
    }, /sample_type\.unit_strindex is 99, outside string_table/);
  });

  it('an index beyond int32 is refused, not wrapped into a valid one', () => {
    refused((s) => {
      s.functions?.push({ name: 2 ** 32 + 3 });
    }, /function_table\[5\]: name_strindex is 4294967299, outside the range of int32/);
  });

  it('string_table[0] that is not ""', () => {
    refused((s) => {
      s.strings[0] = 'x';
    }, /string_table\[0\] must be ""/);
  });

  it('values and timestamps of different counts', () => {
    refused((s) => {
      s.resources[0].profiles[0].samples[0] = { stack: 1, values: [1, 2], timestamps: [1n, 2n, 3n] };
    }, /sample 0 has 2 values and 3 timestamps/);
  });

  it('a sample with neither values nor timestamps', () => {
    refused((s) => {
      s.resources[0].profiles[0].samples[0] = { stack: 1 };
    }, /sample 0 has neither values nor timestamps/);
  });

  it('values that add up beyond 2^53', () => {
    refused((s) => {
      s.resources[0].profiles[0].samples[0] = { stack: 1, values: [2 ** 52, 2 ** 52, 2 ** 52] };
    }, /add up to .* beyond ±2\^53/);
  });

  it('more profiles than the limit', () => {
    refused((s) => {
      s.resources[0].profiles = Array.from({ length: 17 }, () => structuredClone(goCpuSpec().resources[0].profiles[0]));
    }, /^too many profiles in one request: more than 16/);
  });

  it('more resource attributes than the limit, counted before any is decoded', () => {
    refused((s) => {
      s.resources[0].attributes = Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'] as [string, string]);
    }, /^too many attributes in resource_profiles\[0\]\.resource: 65, the limit is 64/);
  });

  it('a field of the wrong wire type', () => {
    const w = new ProtoWriter();
    w.tag(1, 0);
    w.varint(5);
    assert.throws(() => decode(w.finish()), /resource_profiles has wire type 0, expected 2/);
  });
});
