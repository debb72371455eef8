import type { PgoBuildResult } from '../pgo/build.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, decompressAsync } from '../pprof/compression.js';
import { decodeProfileTables, type ProfileTables } from '../pprof/decode.js';
import { encodeProfileGzipMembers } from '../pprof/encode.js';
import { ProfileError } from '../pprof/errors.js';
import { checkCompatible } from '../pprof/merge.js';
import { EncodedProfileMerger } from '../pprof/merge-encoded.js';
import { warmUpEncodedMerge } from '../pprof/merge-warm-up.js';
import type { Profile } from '../pprof/profile.js';
import { validateProfile } from '../pprof/validate.js';
import { CliError } from './errors.js';
import { profileFileError, readInputFile, readProfileFiles, writeFileAtomic, writeFileAtomicParts } from './files.js';
import type { MergeFlags } from './merge.js';

/** `hotpath merge`: merges the files in `inputs` into flags.output (see merge.ts for the flags). */
export async function runMerge(inputs: string[], flags: MergeFlags): Promise<void> {
  const started = performance.now();
  if (!flags.pgo) {
    const { merged, inputSamples } = await mergeProfileFiles(inputs, flags.dropLabels === true);
    // The first gzip members are written while the last ones are still being compressed.
    const size = await writeFileAtomicParts(flags.output, encodeProfileGzipMembers(merged));
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
  if (flags.quiet) return;
  const ms = Math.round(performance.now() - started);
  process.stderr.write(`wrote ${flags.output}: ${size} bytes from ${files} profile(s) (${inputSamples} samples in, ${note}) in ${ms} ms\n`);
}

/** What an input's promise is replaced with once its bytes are used, so they can be freed. */
const DONE: Promise<Uint8Array> = Promise.resolve(new Uint8Array(0));

function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  if (bytes.length === 0) return Promise.reject(new ProfileError('empty file: a profile cannot be zero bytes'));
  return decompressAsync(bytes);
}

/**
 * Returns the merge of the files in `paths`; errors name the file. Each file is merged as
 * soon as it is inflated, its samples read straight from the bytes into the merge
 * (EncodedProfileMerger), which in a short-lived process is much cheaper than decoding every
 * profile and then merging the decoded tables.
 */
async function mergeProfileFiles(paths: string[], dropLabels: boolean): Promise<{ merged: Profile; inputSamples: number }> {
  const files: Array<Buffer | null> = paths.map((path) => readInputFile(path, DEFAULT_MAX_DECOMPRESSED_BYTES));
  // One file inflates at a time, in order, on the thread pool: the first one is then ready
  // as soon as possible, and each next one inflates while the main thread merges the
  // previous one (which takes longer).
  const pending: Array<Promise<Uint8Array>> = [];
  // Each input's bytes are dropped once inflated, and its inflated bytes once merged: only
  // the input being merged and the next one are in memory at a time.
  const inflateFile = (i: number): Promise<Uint8Array> => {
    const bytes = files[i] as Buffer;
    files[i] = null;
    return inflate(bytes);
  };
  for (let i = 0; i < files.length; i++) {
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
  // The main thread would otherwise wait for the first file to inflate.
  warmUpEncodedMerge();
  const merger = new EncodedProfileMerger({ dropLabels }, paths.length);
  let first: Profile | undefined;
  let inputSamples = 0;
  for (let i = 0; i < paths.length; i++) {
    const inFile = (err: unknown): unknown => profileFileError(paths[i], err) ?? err;
    let tables: ProfileTables;
    try {
      const raw = await pending[i];
      pending[i] = DONE;
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
  return { merged: merger.finish(), inputSamples };
}
