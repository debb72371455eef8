import type { Ranges } from './decode-top-level.js';

/** Bytes at or above 0x80: in a string, part of a multi-byte UTF-8 sequence (or not UTF-8). */
const NON_ASCII = /[\x80-\xff]/g;

/**
 * Decodes the string table entries at `ranges` (ascending, non-overlapping, `payloadBytes`
 * bytes in all) as UTF-8, as buf.toString('utf8', start, end) would each one.
 *
 * Why not that call per string: a profile has hundreds to tens of thousands of strings, and in
 * a short-lived process (the CLI) each call through Buffer.toString to the native decoder
 * costs microseconds. Here the bytes the strings span are read as one latin1 string (one call),
 * and an ASCII-only string, in which latin1 and UTF-8 agree, is a substring of it; only the
 * strings with a byte at or above 0x80 (found by one native regular expression scan) are
 * decoded as UTF-8 one by one. Substrings may share the memory of the span, so the span is read
 * at once only when it is mostly the strings themselves (the string table written as one
 * block, as every pprof writer does); otherwise each string is decoded on its own.
 */
export function decodeStrings(buf: Buffer, ranges: Ranges, payloadBytes: number): string[] {
  const strings: string[] = [];
  const n2 = ranges.length;
  if (n2 === 0) return strings;
  const first = ranges[0];
  const last = ranges[n2 - 1];
  // The tag and length of each entry lie between the strings: 2 to 6 bytes per string.
  if (last - first > 2 * payloadBytes + 6 * (n2 >> 1)) {
    for (let i = 0; i < n2; i += 2) strings.push(buf.toString('utf8', ranges[i], ranges[i + 1]));
    return strings;
  }
  const span = buf.toString('latin1', first, last);
  // notAscii[i] is 1 when string i has a byte at or above 0x80. The scan also finds such
  // bytes between the strings (length prefixes of 128 or more): they belong to no string.
  const notAscii = new Uint8Array(n2 >> 1);
  NON_ASCII.lastIndex = 0;
  let j = 0;
  for (let m = NON_ASCII.exec(span); m !== null; m = NON_ASCII.exec(span)) {
    const at = first + m.index;
    while (j < n2 && ranges[j + 1] <= at) j += 2;
    if (j === n2) break;
    if (ranges[j] <= at) notAscii[j >> 1] = 1;
  }
  NON_ASCII.lastIndex = 0;
  for (let i = 0; i < n2; i += 2) {
    const start = ranges[i];
    const end = ranges[i + 1];
    strings.push(notAscii[i >> 1] === 1 ? buf.toString('utf8', start, end) : span.slice(start - first, end - first));
  }
  return strings;
}
