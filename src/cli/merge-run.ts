import type { PgoBuildResult } from '../pgo/build.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, decompress, decompressAsync } from '../pprof/compression.js';
import { decodeProfileTables, type ProfileTables } from '../pprof/decode.js';
import { encodeProfileGzipMembers, encodeProfileGzipMembersSync } from '../pprof/encode.js';
import { ProfileError } from '../pprof/errors.js';
import { checkCompatible } from '../pprof/merge.js';
import { EncodedProfileMerger } from '../pprof/merge-encoded.js';
import { warmUpEncodedMerge } from '../pprof/merge-warm-up.js';
import type { Profile } from '../pprof/profile.js';
import { validateProfile } from '../pprof/validate.js';
import { CliError } from './errors.js';
import { profileFileError, readInputFile, readProfileFiles, writeFileAtomic, writeFileAtomicParts } from './files.js';
import type { MergeFlags } from './merge.js';
import { mergeReport, mergeSmallWithKernel, SMALL_INPUT_BYTES } from './merge-small.js';

/**
 * `hotpath merge`: merges the files in `inputs` into flags.output (see merge.ts for the flags).
 * `smallInputBytes` is where the in-thread path for small inputs ends (SMALL_INPUT_BYTES; tests
 * set it to run either path on the same files).
 */
export async function runMerge(inputs: string[], flags: MergeFlags, smallInputBytes = SMALL_INPUT_BYTES): Promise<void> {
  const started = performance.now();
  if (!flags.pgo) {
    const files: Array<Buffer | null> = inputs.map((path) => readInputFile(path, DEFAULT_MAX_DECOMPRESSED_BYTES));
    const byKernel = mergeSmallWithKernel(files as Buffer[], flags.dropLabels === true, smallInputBytes);
    if (!('declined' in byKernel)) {
      writeFileAtomic(flags.output, byKernel.gzip);
      report(flags, started, byKernel.gzip.length, inputs.length, byKernel.inputSamples, `${byKernel.mergedSamples} samples`);
      return;
    }
    const { merged, inputSamples, small } = await mergeProfileFiles(
      inputs,
      files,
      byKernel.inflated,
      flags.dropLabels === true,
      smallInputBytes,
    );
    let size: number;
    if (small) {
      const bytes = Buffer.concat(encodeProfileGzipMembersSync(merged));
      writeFileAtomic(flags.output, bytes);
      size = bytes.length;
    } else {
      // The first gzip members are written while the last ones are still being compressed.
      size = await writeFileAtomicParts(flags.output, encodeProfileGzipMembers(merged));
    }
    report(flags, started, size, inputs.length, inputSamples, `${merged.samples.count} samples`);
    return;
  }
  // Loaded here, not at start-up: a plain merge does not need them, and every process pays for what it loads.
  const [{ buildPgoProfile }, { noInlineList }, { trimForPgo }, parsed] = await Promise.all([
    import('../pgo/build.js'),
    import('../pgo/safety.js'),
    import('../pgo/trim.js'),
    readProfileFiles(inputs),
  ]);
  let inputSamples = 0;
  for (const p of parsed) inputSamples += p.samples.count;
  const profiles: Profile[] = [];
  for (let i = 0; i < parsed.length; i++) {
    try {
      profiles.push(trimForPgo(parsed[i]));
    } catch (err) {
      if (err instanceof ProfileError) throw new CliError(`${inputs[i]}: ${err.message}`);
      throw err;
    }
  }
  let names: Set<string>;
  try {
    names = noInlineList(flags.inline, flags.inlineFile);
  } catch (err) {
    throw new CliError(`--no-inline-file: ${(err as Error).message}`);
  }
  let result: PgoBuildResult;
  try {
    result = buildPgoProfile(profiles, { noInline: names });
  } catch (err) {
    if (err instanceof ProfileError) throw new CliError(`merging ${inputs.length} profile(s): ${err.message}`);
    throw err;
  }
  writeFileAtomic(flags.output, result.bytes);
  let note = `${result.profile.samples.count} trimmed samples`;
  if (result.renamed.length > 0) note += `; not inlined: ${result.renamed.join(', ')}`;
  report(flags, started, result.bytes.length, inputs.length, inputSamples, note);
}

function report(flags: MergeFlags, started: number, size: number, files: number, inputSamples: number, note: string): void {
  if (!flags.quiet) process.stderr.write(mergeReport(flags.output, started, size, files, inputSamples, note));
}

const EMPTY_FILE = 'empty file: a profile cannot be zero bytes';

function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes.length === 0) return Promise.reject(new ProfileError(EMPTY_FILE));
  return decompressAsync(bytes);
}

/** inflate on the calling thread; a promise only so that both paths are awaited alike. */
function inflateInThread(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes.length === 0) return Promise.reject(new ProfileError(EMPTY_FILE));
  try {
    return Promise.resolve(decompress(bytes));
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Returns the merge of the files in `paths`; errors name the file. Each file is merged as
 * soon as it is inflated, its samples read straight from the bytes into the merge
 * (EncodedProfileMerger), which in a short-lived process is much cheaper than decoding every
 * profile and then merging the decoded tables. `inflatedByKernel` holds the inputs as the merge
 * kernel's attempt inflated them (small inputs it declined), or null.
 */
async function mergeProfileFiles(
  paths: string[],
  files: Array<Buffer | null>,
  inflatedByKernel: Uint8Array[] | null,
  dropLabels: boolean,
  smallInputBytes: number,
): Promise<{ merged: Profile; inputSamples: number; small: boolean }> {
  let inputBytes = 0;
  for (const f of files) inputBytes += (f as Buffer).length;
  const small = inputBytes <= smallInputBytes;
  // Each input's bytes are dropped once inflated, and its inflated bytes once merged: only
  // the input being merged and the next one are in memory at a time.
  const inflateFile = (i: number): Promise<Uint8Array> => {
    const bytes = files[i] as Buffer;
    files[i] = null;
    if (inflatedByKernel !== null) {
      const raw = inflatedByKernel[i];
      inflatedByKernel[i] = NO_BYTES;
      return Promise.resolve(raw);
    }
    return small ? inflateInThread(bytes) : inflate(bytes);
  };
  // Small inputs inflate in place when the merge reaches them, which keeps their errors in
  // the same order as the other path's.
  const inflated: InflatedInput = small ? inflateFile : inflateAhead(paths.length, inflateFile);
  // The main thread would otherwise wait for the first file to inflate.
  if (!small) warmUpEncodedMerge();
  const merger = new EncodedProfileMerger({ dropLabels }, paths.length);
  let first: Profile | undefined;
  let inputSamples = 0;
  for (let i = 0; i < paths.length; i++) {
    const inFile = (err: unknown): unknown => profileFileError(paths[i], err) ?? err;
    let tables: ProfileTables;
    try {
      const raw = await inflated(i);
      if (raw.length === 0) throw new ProfileError('empty profile: the decompressed data is zero bytes');
      tables = decodeProfileTables(raw);
      validateProfile(tables.profile);
    } catch (err) {
      throw inFile(err);
    }
    if (first === undefined) {
      first = tables.profile;
    } else {
      try {
        checkCompatible([first, tables.profile], i + 1);
      } catch (err) {
        if (err instanceof ProfileError) throw new CliError(`${paths[i]}: cannot be merged with ${paths[0]}: ${err.message}`);
        throw err;
      }
    }
    try {
      merger.add(tables);
    } catch (err) {
      throw inFile(err);
    }
    inputSamples += tables.sampleRanges.length >> 1;
  }
  return { merged: merger.finish(), inputSamples, small };
}

/** Returns input i's inflated bytes; called once per input, in order. */
type InflatedInput = (i: number) => Promise<Uint8Array>;

/** What an input's bytes are replaced with once used, so they can be freed. */
const NO_BYTES = new Uint8Array(0);
const DONE: Promise<Uint8Array> = Promise.resolve(NO_BYTES);

/**
 * Starts inflating every input now, one file at a time, in order, on the thread pool: the
 * first one is then ready as soon as possible, and each next one inflates while the main
 * thread merges the previous one (which takes longer).
 */
function inflateAhead(count: number, inflateFile: (i: number) => Promise<Uint8Array>): InflatedInput {
  const pending: Array<Promise<Uint8Array>> = [];
  for (let i = 0; i < count; i++) {
    pending.push(
      i === 0
        ? inflateFile(i)
        : pending[i - 1].then(
            () => inflateFile(i),
            () => inflateFile(i),
          ),
    );
  }
  // Every promise gets a handler now, so a failure in a later input is not "unhandled".
  for (const p of pending) p.catch(() => undefined);
  return (i) => {
    const p = pending[i];
    pending[i] = DONE;
    return p;
  };
}
