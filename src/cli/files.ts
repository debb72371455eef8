import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ProfileError } from '../pprof/errors.js';
import { type ParseOptions, parseProfile, parseProfiles } from '../pprof/parse.js';
import type { Profile } from '../pprof/profile.js';
import { CliError } from './errors.js';

/** Returns the bytes of an input file, or throws CliError naming the file ("no such file", ...). */
export function readInputFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message;
    throw new CliError(`${path}: cannot read: ${reason}`);
  }
}

/**
 * Returns the profiles in `paths`, in order, inflating them in parallel; throws CliError
 * naming the first file that cannot be read or parsed and what is wrong with it.
 */
export async function readProfileFiles(paths: string[], options: ParseOptions = {}): Promise<Profile[]> {
  const inputs = paths.map(readInputFile);
  return parseProfiles(inputs, options, (i, err) => (err instanceof ProfileError ? new CliError(`${paths[i]}: ${err.message}`) : err));
}

/** Returns the profile in `path`, or throws CliError naming the file and what is wrong with it. */
export function readProfileFile(path: string, options: ParseOptions = {}): Profile {
  const bytes = readInputFile(path);
  try {
    return parseProfile(bytes, options);
  } catch (err) {
    if (err instanceof ProfileError) throw new CliError(`${path}: ${err.message}`);
    throw err;
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
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
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
 * Writes `bytes` to `path` atomically: a temporary file in the same directory is written,
 * flushed to disk and renamed over the destination, so readers (and a failing run) never see
 * a partial file and an existing file is only replaced by a complete one.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
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
