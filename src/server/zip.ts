import { crc32 } from 'node:zlib';

/** One file of a zip archive. */
export interface ZipEntry {
  /** Path inside the archive, `/`-separated; stored as UTF-8. */
  name: string;
  data: Uint8Array;
  /** Modification time recorded for the file (zip keeps 2-second steps from 1980 to 2107). */
  modified: Date;
}

/** Refusal to build an archive: too big, too many entries or a bad name. Callers map it to an answer. */
export class ZipLimitError extends RangeError {
  override readonly name = 'ZipLimitError';
}

/** The classic zip format's ceilings (no ZIP64): 65,535 entries and 4 GiB offsets. */
const MAX_ENTRIES = 0xffff;
const MAX_OFFSET = 0xffffffff;
const LOCAL_HEADER_BYTES = 30;
const CENTRAL_HEADER_BYTES = 46;
const END_RECORD_BYTES = 22;
/** "Version needed to extract" 2.0: the baseline every reader accepts. */
const VERSION = 20;
/** General-purpose flag bit 11: names are UTF-8. */
const FLAG_UTF8 = 0x0800;
const METHOD_STORE = 0;
/**
 * "Version made by": Unix (3) and 2.0. Readers translate the names of archives made on FAT from
 * a DOS code page whatever flag bit 11 says; on Unix they honour it.
 */
const MADE_BY_UNIX = (3 << 8) | VERSION;
/** External attributes of a Unix-made entry: a regular file, mode 0644. */
const REGULAR_FILE_0644 = (0o100644 << 16) >>> 0;

/** A date and time as MS-DOS encodes them (UTC, 2-second steps), clamped to the range zip can hold. */
function dosDateTime(d: Date): { date: number; time: number } {
  const ms = Math.min(Math.max(d.getTime(), Date.UTC(1980, 0, 1)), Date.UTC(2107, 11, 31, 23, 59, 58));
  const t = new Date(Number.isFinite(ms) ? ms : Date.UTC(1980, 0, 1));
  return {
    date: ((t.getUTCFullYear() - 1980) << 9) | ((t.getUTCMonth() + 1) << 5) | t.getUTCDate(),
    time: (t.getUTCHours() << 11) | (t.getUTCMinutes() << 5) | (t.getUTCSeconds() >> 1),
  };
}

/** Returns the archive's size for entries with these name and data byte lengths. */
function archiveBytes(sizes: ReadonlyArray<{ name: number; data: number }>): number {
  let total = END_RECORD_BYTES;
  for (const s of sizes) total += LOCAL_HEADER_BYTES + CENTRAL_HEADER_BYTES + 2 * s.name + s.data;
  return total;
}

/**
 * Returns a zip archive of `entries` in the given order, each stored uncompressed (method 0:
 * the callers' payloads, gzip-compressed profiles, would not shrink), with its CRC-32, sizes and
 * time in both its local header and the central directory, so streaming readers and readers
 * that start from the central directory (Go's archive/zip, `unzip`) see the same files.
 * Throws ZipLimitError before allocating anything when the archive would exceed `maxBytes` or
 * the classic format's limits (65,535 entries, 4 GiB), or when a name is empty, absolute,
 * contains `..` or a backslash, or appears twice.
 */
export function writeZip(entries: readonly ZipEntry[], maxBytes: number = MAX_OFFSET): Buffer {
  if (entries.length > MAX_ENTRIES) throw new ZipLimitError(`a zip holds at most ${MAX_ENTRIES} files, asked for ${entries.length}`);
  const names = entries.map((e) => Buffer.from(e.name, 'utf8'));
  const seen = new Set<string>();
  for (const e of entries) {
    if (e.name === '' || e.name.startsWith('/') || e.name.includes('\\') || e.name.split('/').includes('..') || e.name.includes('\0')) {
      throw new ZipLimitError(`zip entry name ${JSON.stringify(e.name)} is not a plain relative path`);
    }
    if (seen.has(e.name)) throw new ZipLimitError(`zip entry name ${JSON.stringify(e.name)} appears twice`);
    seen.add(e.name);
  }
  const total = archiveBytes(entries.map((e, i) => ({ name: names[i].length, data: e.data.length })));
  const limit = Math.min(maxBytes, MAX_OFFSET);
  if (total > limit) throw new ZipLimitError(`the zip would be ${total} bytes, over the limit of ${limit}`);

  const out = Buffer.alloc(total);
  const central: Array<{ offset: number; crc: number; date: number; time: number }> = [];
  let at = 0;
  entries.forEach((e, i) => {
    const name = names[i];
    const crc = crc32(e.data);
    const { date, time } = dosDateTime(e.modified);
    central.push({ offset: at, crc, date, time });
    out.writeUInt32LE(0x04034b50, at);
    out.writeUInt16LE(VERSION, at + 4);
    out.writeUInt16LE(FLAG_UTF8, at + 6);
    out.writeUInt16LE(METHOD_STORE, at + 8);
    out.writeUInt16LE(time, at + 10);
    out.writeUInt16LE(date, at + 12);
    out.writeUInt32LE(crc, at + 14);
    out.writeUInt32LE(e.data.length, at + 18);
    out.writeUInt32LE(e.data.length, at + 22);
    out.writeUInt16LE(name.length, at + 26);
    out.writeUInt16LE(0, at + 28);
    at += LOCAL_HEADER_BYTES;
    at += name.copy(out, at);
    out.set(e.data, at);
    at += e.data.length;
  });
  const centralStart = at;
  entries.forEach((e, i) => {
    const name = names[i];
    const c = central[i];
    out.writeUInt32LE(0x02014b50, at);
    out.writeUInt16LE(MADE_BY_UNIX, at + 4);
    out.writeUInt16LE(VERSION, at + 6);
    out.writeUInt16LE(FLAG_UTF8, at + 8);
    out.writeUInt16LE(METHOD_STORE, at + 10);
    out.writeUInt16LE(c.time, at + 12);
    out.writeUInt16LE(c.date, at + 14);
    out.writeUInt32LE(c.crc, at + 16);
    out.writeUInt32LE(e.data.length, at + 20);
    out.writeUInt32LE(e.data.length, at + 24);
    out.writeUInt16LE(name.length, at + 28);
    // Extra field, comment, disk number and internal attributes: zero.
    out.writeUInt32LE(REGULAR_FILE_0644, at + 38);
    out.writeUInt32LE(c.offset, at + 42);
    at += CENTRAL_HEADER_BYTES;
    at += name.copy(out, at);
  });
  out.writeUInt32LE(0x06054b50, at);
  out.writeUInt16LE(entries.length, at + 8);
  out.writeUInt16LE(entries.length, at + 10);
  out.writeUInt32LE(at - centralStart, at + 12);
  out.writeUInt32LE(centralStart, at + 16);
  return out;
}
