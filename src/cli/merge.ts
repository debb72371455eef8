import type { Command } from 'commander';
import { buildPgoProfile } from '../pgo/build.js';
import { noInlineList } from '../pgo/safety.js';
import { encodeProfileGzip } from '../pprof/encode.js';
import { ProfileError } from '../pprof/errors.js';
import { mergeProfiles } from '../pprof/merge.js';
import type { Profile } from '../pprof/profile.js';
import { trimForPgo } from '../pprof/trim.js';
import { CliError } from './errors.js';
import { readProfileFile, writeFileAtomic } from './files.js';

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

function runMerge(inputs: string[], flags: MergeFlags): void {
  const started = performance.now();
  const profiles: Profile[] = [];
  let inputBytes = 0;
  for (const path of inputs) {
    const p = readProfileFile(path);
    if (flags.pgo) {
      try {
        profiles.push(trimForPgo(p));
      } catch (err) {
        if (err instanceof ProfileError) throw new CliError(`${path}: ${err.message}`);
        throw err;
      }
    } else {
      profiles.push(p);
    }
    inputBytes += p.samples.count;
  }
  let bytes: Buffer;
  let note = '';
  try {
    if (flags.pgo) {
      let names: Set<string>;
      try {
        names = noInlineList(flags.inline, flags.inlineFile);
      } catch (err) {
        throw new CliError(`--no-inline-file: ${(err as Error).message}`);
      }
      const result = buildPgoProfile(profiles, { noInline: names });
      bytes = result.bytes;
      note = `${result.profile.samples.count} trimmed samples`;
      if (result.renamed.length > 0) note += `; not inlined: ${result.renamed.join(', ')}`;
    } else {
      const merged = mergeProfiles(profiles, { dropLabels: flags.dropLabels === true });
      bytes = encodeProfileGzip(merged);
      note = `${merged.samples.count} samples`;
    }
  } catch (err) {
    if (err instanceof ProfileError) throw new CliError(`merging ${inputs.length} profile(s): ${err.message}`);
    throw err;
  }
  writeFileAtomic(flags.output, bytes);
  if (!flags.quiet) {
    const ms = Math.round(performance.now() - started);
    process.stderr.write(
      `wrote ${flags.output}: ${bytes.length} bytes from ${inputs.length} profile(s) (${inputBytes} samples in, ${note}) in ${ms} ms\n`,
    );
  }
}
