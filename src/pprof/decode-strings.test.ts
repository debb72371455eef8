import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeStrings } from './decode-strings.js';

/** A varint's bytes. */
function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/**
 * string_table entries (field 6) holding `strings` (given as bytes), with `between[i]` bytes of
 * another field written before entry i; returns the message and each entry's [start, end).
 */
function table(strings: Uint8Array[], between: number[] = []): { buf: Buffer; ranges: Uint32Array; payload: number } {
  const bytes: number[] = [];
  const ranges: number[] = [];
  let payload = 0;
  strings.forEach((s, i) => {
    const filler = between[i] ?? 0;
    if (filler > 0) bytes.push(0x52, ...varint(filler), ...new Array(filler).fill(0xc3)); // field 10, bytes
    bytes.push(0x32, ...varint(s.length));
    ranges.push(bytes.length, bytes.length + s.length);
    bytes.push(...s);
    payload += s.length;
  });
  return { buf: Buffer.from(bytes), ranges: Uint32Array.from(ranges), payload };
}

/** What decoding each string on its own gives: the reference. */
function oneByOne(buf: Buffer, ranges: Uint32Array): string[] {
  const out: string[] = [];
  for (let i = 0; i < ranges.length; i += 2) out.push(buf.toString('utf8', ranges[i], ranges[i + 1]));
  return out;
}

const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');

describe('decodeStrings', () => {
  it('decodes ASCII, multi-byte UTF-8 and empty strings as UTF-8, each one in place', () => {
    const texts = ['', 'main.main', 'héllo wörld', 'runtime.mallocgc', '日本語のパス/ファイル.go', 'x', '', 'émoji 🔥 end'];
    const { buf, ranges, payload } = table(texts.map(utf8));
    assert.deepEqual(decodeStrings(buf, ranges, payload), texts);
  });

  it('does not take a length prefix of 128 bytes or more for a non-ASCII byte of the string beside it', () => {
    // Prefixes of 200 and 300 bytes have a byte >= 0x80 right before and after ASCII strings.
    const long = 'github.com/example/service/internal/'.repeat(6).slice(0, 200);
    const longer = `${'a'.repeat(150)}é${'b'.repeat(148)}`;
    const texts = ['ascii-before', long, 'ascii-after', longer, 'after-é', 'z'.repeat(128)];
    const { buf, ranges, payload } = table(texts.map(utf8));
    assert.deepEqual(decodeStrings(buf, ranges, payload), texts);
  });

  it('decodes bytes that are not UTF-8 as Buffer.toString does (replacement characters), not as latin1', () => {
    const strings = [utf8('ok'), Uint8Array.of(0x66, 0xff, 0x6f), Uint8Array.of(0xe6, 0x97), utf8('tail')];
    const { buf, ranges, payload } = table(strings);
    const got = decodeStrings(buf, ranges, payload);
    assert.deepEqual(got, oneByOne(buf, ranges));
    assert.equal(got[1], 'f\ufffdo');
  });

  it('gives the same strings when other fields lie between them (decoded one by one)', () => {
    const texts = ['a', 'bé', 'c', 'déjà vu'];
    // Large fillers of non-ASCII bytes: the span is mostly not strings.
    const { buf, ranges, payload } = table(texts.map(utf8), [0, 400, 0, 300]);
    assert.deepEqual(decodeStrings(buf, ranges, payload), texts);
    // Small fillers: the span is read at once, and the filler's bytes >= 0x80 belong to no string.
    const small = table(texts.map(utf8), [0, 3, 2, 1]);
    assert.deepEqual(decodeStrings(small.buf, small.ranges, small.payload), texts);
  });

  it('returns an empty table for no entries', () => {
    assert.deepEqual(decodeStrings(Buffer.alloc(0), new Uint32Array(0), 0), []);
  });
});
