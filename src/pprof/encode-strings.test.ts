import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeProfile } from './decode.js';
import { encodeProfile } from './encode.js';
import { emptyProfile } from './profile.js';

/** The string_table entries (field 6) of `strings` as the protobuf encoding defines them. */
function stringTableBytes(strings: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const s of strings) {
    const bytes = Buffer.from(s, 'utf8');
    const header = [0x32];
    let n = bytes.length;
    while (n >= 0x80) {
      header.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    header.push(n);
    parts.push(Buffer.from(header), bytes);
  }
  return Buffer.concat(parts);
}

/** An otherwise empty profile's encoding is its string table alone. */
function encodeStrings(strings: string[]): Buffer {
  const p = emptyProfile();
  p.strings = strings;
  return Buffer.from(encodeProfile(p));
}

describe('encodeProfile string table', () => {
  it('writes ASCII strings of every length prefix size (1, 2 and 3 bytes) as the protobuf encoding defines', () => {
    const strings = ['', 'main.main', 'x'.repeat(127), 'y'.repeat(128), 'z'.repeat(300), 'w'.repeat(16383), 'v'.repeat(16384), 'tail'];
    const bytes = encodeStrings(strings);
    assert.deepEqual(bytes, stringTableBytes(strings));
    assert.deepEqual(decodeProfile(bytes).strings, strings);
  });

  it('writes UTF-8 when any string is not ASCII, with lengths in bytes', () => {
    const strings = ['', 'ascii', 'héllo', '日本語/ファイル.go', `${'a'.repeat(126)}é`, '🔥'];
    const bytes = encodeStrings(strings);
    assert.deepEqual(bytes, stringTableBytes(strings));
    assert.deepEqual(decodeProfile(bytes).strings, strings);
  });

  it('writes a lone surrogate as U+FFFD, as TextEncoder does', () => {
    const strings = ['', 'bad \ud800 half'];
    assert.deepEqual(encodeStrings(strings), stringTableBytes(['', 'bad \ufffd half']));
  });
});
