import type { Command } from 'commander';
import { buildPgoProfile } from '../pgo/build.js';
import { noInlineList } from '../pgo/safety.js';
import { encodeProfileGzipAsync } from '../pprof/encode.js';
import { ProfileError } from '../pprof/errors.js';
import { ProfileMerger } from '../pprof/merge.js';
import type { Profile } from '../pprof/profile.js';
import { trimForPgo } from '../pprof/trim.js';
import { CliError } from './errors.js';
import { readProfileFiles, writeFileAtomic } from './files.js';

interface MergeFlags {
  output: string;
  pgo?: boolean;
  /** Commander names `--no-inline <FUNC>` "inline" (it strips the no- prefix). */
  inline: string[];
  inlineFile: string[];
  dropLabels?: boolean;
  quiet?: boolean;
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .summary('merge local profiles into one (with --pgo: a trimmed default.pgo)')
    .description(
      'Merge pprof profiles (gzip, zstd or raw protobuf) with the semantics of `go tool pprof -proto`.\n' +
        'With --pgo the result is trimmed to what `go build -pgo` reads (two leaf frames per stack, CPU values,\n' +
        'no labels or mappings) and functions on the no-inline safety list are renamed so they are never inlined.\n' +
        'The output is written atomically: on any error nothing is written and an existing OUT is kept.',
    )
    .requiredOption('-o, --output <OUT>', 'file to write (gzip pprof)')
    .option('--pgo', 'trim for PGO and apply the safety renames (write a default.pgo)')
    .option('--no-inline <FUNC>', 'with --pgo: never inline FUNC (repeatable; adds to the built-in list)', collect, [])
    .option('--no-inline-file <FILE>', 'with --pgo: read more no-inline function names from FILE, one per line', collect, [])
    .option('--drop-labels', 'drop sample labels before merging (implied by --pgo)')
    .option('-q, --quiet', 'print nothing on success')
    .argument('<IN...>', 'profiles to merge')
    .addHelpText(
      'after',
      '\nExamples:\n  hotpath merge -o merged.pprof cpu1.pprof cpu2.pprof\n  hotpath merge --pgo -o ./cmd/api/default.pgo prod/*.pprof',
    )
    .action((inputs: string[], flags: MergeFlags) => runMerge(inputs, flags));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function runMerge(inputs: string[], flags: MergeFlags): Promise<void> {
  const started = performance.now();
  if (!flags.pgo) {
    const { merged, inputSamples } = await mergeProfileFiles(inputs, flags.dropLabels === true);
    const bytes = await encodeProfileGzipAsync(merged);
    writeFileAtomic(flags.output, bytes);
    report(flags, started, bytes, inputs.length, inputSamples, `${merged.samples.count} samples`);
    return;
  }
  const parsed = await readProfileFiles(inputs);
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
  let result: ReturnType<typeof buildPgoProfile>;
  try {
    result = buildPgoProfile(profiles, { noInline: names });
  } catch (err) {
    if (err instanceof ProfileError) throw new CliError(`merging ${inputs.length} profile(s): ${err.message}`);
    throw err;
  }
  writeFileAtomic(flags.output, result.bytes);
  let note = `${result.profile.samples.count} trimmed samples`;
  if (result.renamed.length > 0) note += `; not inlined: ${result.renamed.join(', ')}`;
  report(flags, started, result.bytes, inputs.length, inputSamples, note);
}

function report(flags: MergeFlags, started: number, bytes: Uint8Array, files: number, inputSamples: number, note: string): void {
  if (flags.quiet) return;
  const ms = Math.round(performance.now() - started);
  process.stderr.write(
    `wrote ${flags.output}: ${bytes.length} bytes from ${files} profile(s) (${inputSamples} samples in, ${note}) in ${ms} ms\n`,
  );
}

/** Returns the merge of the files in `paths`, each merged as soon as it is decoded; errors name the file. */
async function mergeProfileFiles(paths: string[], dropLabels: boolean): Promise<{ merged: Profile; inputSamples: number }> {
  const profiles = await readProfileFiles(paths);
  const merger = new ProfileMerger(profiles[0], { dropLabels }, profiles);
  let inputSamples = 0;
  profiles.forEach((p, i) => {
    try {
      merger.add(p);
    } catch (err) {
      if (err instanceof ProfileError) throw new CliError(`${paths[i]}: cannot be merged with ${paths[0]}: ${err.message}`);
      throw err;
    }
    inputSamples += p.samples.count;
  });
  return { merged: merger.finish(), inputSamples };
}
