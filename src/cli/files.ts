import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../pprof/compression.js';
import { ProfileError } from '../pprof/errors.js';
import { type ParseOptions, parseProfile, parseProfiles } from '../pprof/parse.js';
import type { Profile } from '../pprof/profile.js';
import { CliError } from './errors.js';

/**
 * Returns the bytes of an input file, or throws CliError naming the file ("no such file", ...).
 * With `maxProfileBytes` (the ceiling on a profile's decompressed size), a file too large to be
 * such a profile, compressed or not, is refused before it is read.
 */
export function readInputFile(path: string, maxProfileBytes?: number): Buffer {
  try {
    if (maxProfileBytes !== undefined) {
      const size = statSync(path).size;
      // gzip and zstd add a few bytes per 64 KiB block to data they cannot compress.
      if (size > maxProfileBytes + (maxProfileBytes >> 8)) {
        throw new CliError(`${path}: ${mb(size)} MB, more than a profile may take decompressed (${mb(maxProfileBytes)} MB)`);
      }
    }
    return readFileSync(path);
  } catch (err) {
    if (err instanceof CliError) throw err;
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    throw new CliError(`${path}: cannot read: ${reason}`);
  }
}

function mb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

/**
 * Returns the CliError that names `path` for an error decoding it: a ProfileError's message,
 * or for a RangeError (an allocation V8 refused: the decoder's budget should have refused the
 * file first) what it says; undefined for anything else, which is a bug to report as such.
 */
export function profileFileError(path: string, err: unknown): CliError | undefined {
  if (err instanceof CliError) return err;
  if (err instanceof ProfileError) return new CliError(`${path}: ${err.message}`);
  if (err instanceof RangeError) return new CliError(`${path}: cannot decode: ${err.message}`);
  return undefined;
}

/**
 * Returns the profiles in `paths`, in order, inflating them in parallel; throws CliError
 * naming the first file that cannot be read or parsed and what is wrong with it.
 */
export async function readProfileFiles(paths: string[], options: ParseOptions = {}): Promise<Profile[]> {
  const max = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const inputs = paths.map((path) => readInputFile(path, max));
  return parseProfiles(inputs, options, (i, err) => profileFileError(paths[i], err) ?? err);
}

/** Returns the profile in `path`, or throws CliError naming the file and what is wrong with it. */
export function readProfileFile(path: string, options: ParseOptions = {}): Profile {
  const bytes = readInputFile(path, options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES);
  try {
    return parseProfile(bytes, options);
  } catch (err) {
    throw profileFileError(path, err) ?? err;
  }
}

/**
 * Writes the concatenation of `parts` to `path` atomically, like writeFileAtomic, writing
 * each part as soon as it resolves (in order), so the writing overlaps with the making of the
 * later parts. Returns the number of bytes written. A part that rejects rejects the whole
 * with its error, after the temporary file is removed.
 */
export async function writeFileAtomicParts(path: string, parts: Array<Promise<Uint8Array>>): Promise<number> {
  // Every part gets a handler now, so a failure after an earlier one is not "unhandled".
  for (const part of parts) part.catch(() => undefined);
  const tmp = temporaryPathBeside(path);
  const cannotWrite = (err: unknown): CliError => new CliError(`${path}: cannot write: ${(err as Error).message}`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch (err) {
    throw cannotWrite(err);
  }
  let total = 0;
  try {
    for (const part of parts) {
      const bytes = await part;
      try {
        let off = 0;
        while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      } catch (err) {
        throw cannotWrite(err);
      }
      total += bytes.length;
    }
    try {
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, path);
    } catch (err) {
      throw cannotWrite(err);
    }
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw err;
  }
  return total;
}

/**
 * A new file name in the directory of `path`, for a file to be renamed over it. The process id
 * keeps processes apart and the random part runs apart; the file is created with 'wx', so a
 * clash fails instead of overwriting. Not node:crypto: loading it costs every command that
 * writes a file ~5 ms of start-up, and the name needs no secrecy.
 */
function temporaryPathBeside(path: string): string {
  const random = Math.floor(Math.random() * 0x1000000000000).toString(16);
  return join(dirname(path), `.${basename(path)}.${process.pid}-${random}.tmp`);
}

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same directory is written,
 * flushed to disk and renamed over the destination, so readers (and a failing run) never see
 * a partial file and an existing file is only replaced by a complete one.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = temporaryPathBeside(path);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o644);
  } catch (err) {
    throw new CliError(`${path}: cannot write: ${(err as Error).message}`);
  }
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw new CliError(`${path}: cannot write: ${(err as Error).message}`);
  }
}
