import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { fixture } from '../testing/fixtures.js';
import { plain } from '../testing/profiles.js';
import { ProfileBuilder } from './builder.js';
import { decodeProfile } from './decode.js';
import { encodeProfile, encodeProfileGzip } from './encode.js';
import { ProfileError } from './errors.js';
import { parseProfile } from './parse.js';
import { MAPPING_HAS_FUNCTIONS, MAPPING_HAS_INLINE_FRAMES, type Profile } from './profile.js';
import { ProtoWriter } from './proto-writer.js';

const REAL_FIXTURES = ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof', 'cpu-json.pprof', 'cpu-sort.pprof', 'heap.pprof'];

/** A profile that uses every field with edge values: negative int64, 2^64-1 addresses, columns, flags. */
function edgeCaseProfile(): Profile {
  const b = new ProfileBuilder();
  b.setSampleTypes([
    { type: 'samples', unit: 'count' },
    { type: 'delta', unit: 'bytes' },
  ]);
  b.setPeriodType('cpu', 'nanoseconds');
  b.header.period = 10_000_000n;
  b.header.timeNanos = -9223372036854775808n;
  b.header.durationNanos = 9223372036854775807n;
  b.header.comments = Int32Array.of(b.string('first comment'), b.string('second'));
  b.header.dropFrames = b.string('runtime\\..*');
  b.header.keepFrames = b.string('main\\..*');
  b.header.defaultSampleType = b.string('samples');
  b.header.docUrl = b.string('https://example.com/docs');
  const m = b.addMapping({
    start: 0x400000n,
    limit: 18446744073709551615n,
    offset: 18446744073709551614n,
    filename: '/bin/app',
    buildId: 'abc123',
    flags: MAPPING_HAS_FUNCTIONS | MAPPING_HAS_INLINE_FRAMES,
    id: 9007199254740991,
  });
  const f1 = b.addFunction('main.leaf', 'main.go', -5, 'main.leaf·sys');
  const f2 = b.addFunction('main.caller', 'main.go', 9007199254740991);
  const l1 = b.addLocation(
    [
      { fn: f1, line: -1, column: 7 },
      { fn: f2, line: 9007199254740991, column: -3 },
    ],
    { mapping: m, address: 18446744073709551615n, isFolded: true, id: 4294967297 },
  );
  const l2 = b.addLocation([{ fn: -1, line: 0 }], { address: 0n });
  b.addSample([l1, l2], [-1, -9007199254740991], [{ key: 'endpoint', str: '/a b' }]);
  b.addSample(
    [l2],
    [9007199254740991, 0],
    [
      { key: 'bytes', num: -42, numUnit: 'bytes' },
      { key: 'n', num: 3 },
    ],
  );
  b.addSample([], [0, 0]);
  return b.finish();
}

describe('decode/encode round trip', () => {
  for (const name of REAL_FIXTURES) {
    it(`is lossless on the real profile ${name}`, () => {
      const p = parseProfile(readFileSync(fixture(name)));
      assert.ok(p.samples.count > 0 && p.functions.count > 0, 'fixture has content');
      const bytes = encodeProfile(p);
      const q = decodeProfile(bytes);
      assert.deepEqual(plain(q), plain(p));
      assert.deepEqual(Buffer.from(encodeProfile(q)), Buffer.from(bytes), 'encoding is deterministic');
    });
  }

  it('is lossless for every field with edge values', () => {
    const p = edgeCaseProfile();
    const q = decodeProfile(encodeProfile(p));
    assert.deepEqual(plain(q), plain(p));
    assert.equal(q.locations.address[0], 18446744073709551615n);
    assert.equal(q.locations.id[0], 4294967297);
    assert.equal(q.samples.values[1], -9007199254740991);
    assert.equal(q.locations.lineColumn[1], -3);
    assert.equal(q.strings[q.docUrl], 'https://example.com/docs');
    assert.equal(q.timeNanos, -9223372036854775808n);
    assert.equal(q.functions.startLine[0], -5);
    assert.equal(q.samples.labelNum[1], -42);
  });

  it('reads unpacked repeated fields and any field order', () => {
    // Hand-written wire bytes: strings after samples, location ids and values unpacked,
    // comments unpacked, a location that comes after the sample that uses it.
    const w = new ProtoWriter();
    let m = w.begin(2); // sample
    w.tag(1, 0);
    w.varint(7); // location_id 7, unpacked
    w.tag(1, 0);
    w.varint(7);
    w.tag(2, 0);
    w.signed(-3); // value, unpacked
    w.end(m);
    m = w.begin(1); // sample_type
    w.uintField(1, 1);
    w.uintField(2, 2);
    w.end(m);
    m = w.begin(4); // location id 7
    w.uintField(1, 7);
    const line = w.begin(4);
    w.uintField(1, 3);
    w.intField(2, 12);
    w.intField(3, 5);
    w.end(line);
    w.end(m);
    m = w.begin(5); // function id 3
    w.uintField(1, 3);
    w.uintField(2, 3);
    w.intField(5, 10);
    w.end(m);
    for (const s of ['', 'samples', 'count', 'main.f']) w.bytesField(6, Buffer.from(s));
    w.tag(13, 0);
    w.varint(3);
    w.tag(13, 0);
    w.varint(1);
    w.tag(99, 0); // unknown field, skipped
    w.varint(1);
    const p = decodeProfile(w.finish());
    assert.equal(p.samples.count, 1);
    assert.deepEqual(Array.from(p.samples.locs), [0, 0]);
    assert.equal(p.samples.values[0], -3);
    assert.deepEqual(Array.from(p.comments), [3, 1]);
    assert.equal(p.strings[p.functions.name[p.locations.lineFunction[0]]], 'main.f');
    assert.equal(p.locations.lineColumn[0], 5);
    // Re-encoding packs the fields; decoding that gives the same model.
    assert.deepEqual(plain(decodeProfile(encodeProfile(p))), plain(p));
  });

  it('parses gzip, zstd and raw forms of the same profile identically', async () => {
    const { execFileSync } = await import('node:child_process');
    const raw = encodeProfile(parseProfile(readFileSync(fixture('cpu-small-1.pprof'))));
    const zstd = execFileSync('zstd', ['-q', '-c'], { input: raw });
    assert.deepEqual([...zstd.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
    const expected = plain(decodeProfile(raw));
    assert.deepEqual(plain(parseProfile(zstd)), expected);
    assert.deepEqual(plain(parseProfile(gzipSync(raw))), expected);
    assert.deepEqual(plain(parseProfile(raw)), expected);
  });
});

describe('bad input', () => {
  const gz = readFileSync(fixture('cpu-small-1.pprof'));

  const rejects = (bytes: Uint8Array, pattern: RegExp, options?: Parameters<typeof parseProfile>[1]): void => {
    assert.throws(
      () => parseProfile(bytes, options),
      (err: unknown) => {
        assert.ok(err instanceof ProfileError, `expected ProfileError, got ${String(err)}`);
        assert.match(err.message, pattern);
        return true;
      },
    );
  };

  it('rejects an empty file', () => rejects(new Uint8Array(0), /empty file/));

  it('rejects truncated gzip', () => rejects(gz.subarray(0, gz.length >> 1), /truncated gzip/));

  it('rejects truncated zstd', async () => {
    const { execFileSync } = await import('node:child_process');
    const zstd = execFileSync('zstd', ['-q', '-c'], { input: encodeProfile(parseProfile(gz)) });
    rejects(zstd.subarray(0, zstd.length >> 1), /zstd/);
  });

  it('rejects a corrupt protobuf', () => {
    const raw = Buffer.from(encodeProfile(parseProfile(gz)));
    rejects(raw.subarray(0, raw.length - 3), /truncated|claims|past the end/);
    rejects(Buffer.from('this is not a profile at all, just text\n'), /corrupt protobuf|truncated|wire type/);
  });

  it('rejects a gzip bomb over the limit without inflating it', () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    assert.ok(bomb.length < 128 * 1024);
    rejects(bomb, /exceeds the limit of 1048576 bytes/, { maxDecompressedBytes: 1 << 20 });
  });

  it('rejects a zstd bomb over the limit', async () => {
    const { execFileSync } = await import('node:child_process');
    const bomb = execFileSync('zstd', ['-q', '-19', '-c'], { input: Buffer.alloc(32 * 1024 * 1024), maxBuffer: 1 << 26 });
    rejects(bomb, /exceeds the limit of 1048576 bytes/, { maxDecompressedBytes: 1 << 20 });
  });

  it('rejects a string index out of range, naming the field', () => {
    const p = edgeCaseProfile();
    p.functions.name[1] = 999;
    rejects(encodeProfile(p), /function id 2 name refers to string index 999 but the string table has \d+ entries/);
  });

  it('rejects a string table that does not start with ""', () => {
    const p = edgeCaseProfile();
    p.strings[0] = 'x';
    rejects(encodeProfile(p), /string_table\[0\] must be ""/);
  });

  it('rejects a sample that refers to a missing location', () => {
    const w = new ProtoWriter();
    const m = w.begin(2);
    const packed = w.begin(1);
    w.varint(77);
    w.end(packed);
    w.end(m);
    w.bytesField(6, new Uint8Array(0));
    rejects(w.finish(), /sample 0 refers to location id 77, which does not exist/);
  });

  it('rejects a line that refers to a missing function', () => {
    const w = new ProtoWriter();
    const m = w.begin(4);
    w.uintField(1, 1);
    const line = w.begin(4);
    w.uintField(1, 5);
    w.end(line);
    w.end(m);
    w.bytesField(6, new Uint8Array(0));
    rejects(w.finish(), /function id 5, which does not exist/);
  });

  it('rejects a sample with the wrong number of values', () => {
    const w = new ProtoWriter();
    for (const t of [1, 2]) {
      const m = w.begin(1);
      w.uintField(1, t);
      w.end(m);
    }
    const m = w.begin(2);
    const packed = w.begin(2);
    w.varint(5);
    w.end(packed);
    w.end(m);
    for (const str of ['', 'a', 'b']) w.bytesField(6, Buffer.from(str));
    rejects(w.finish(), /sample 0 has 1 values but the profile has 2 sample types/);
  });

  it('rejects values beyond ±2^53 instead of rounding them', () => {
    const w = new ProtoWriter();
    let m = w.begin(1);
    w.uintField(1, 1);
    w.end(m);
    m = w.begin(2);
    w.tag(2, 0);
    w.bigVarint(2n ** 60n);
    w.end(m);
    w.bytesField(6, new Uint8Array(0));
    w.bytesField(6, Buffer.from('x'));
    rejects(w.finish(), /sample value is 1152921504606846976 which is outside ±2\^53/);
  });

  it('rejects duplicate ids', () => {
    const p = edgeCaseProfile();
    p.functions.id[1] = p.functions.id[0];
    rejects(encodeProfile(p), /duplicate function id 1/);
  });

  it('round-trips an encoded gzip profile', () => {
    const p = parseProfile(gz);
    assert.deepEqual(plain(parseProfile(encodeProfileGzip(p))), plain(p));
  });
});
