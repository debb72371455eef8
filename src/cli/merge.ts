import type { Command } from 'commander';

/** The flags of `hotpath merge`, as commander hands them to the action. */
export interface MergeFlags {
  output: string;
  pgo?: boolean;
  /** Commander names `--no-inline <FUNC>` "inline" (it strips the no- prefix). */
  inline: string[];
  inlineFile: string[];
  dropLabels?: boolean;
  quiet?: boolean;
}

/** Registers `hotpath merge`; what it runs (merge-run.ts) is loaded only when it runs. */
export function registerMerge(program: Command): void {
  program
    .command('merge')
    .summary('merge local profiles into one (with --pgo: a trimmed default.pgo)')
    .description(
      'Merge pprof profiles (gzip, zstd or raw protobuf) with the semantics of `go tool pprof -proto`. ' +
        'With --pgo the result is trimmed to what `go build -pgo` reads (two leaf frames per stack, CPU values, ' +
        'no labels or mappings) and functions on the no-inline safety list are renamed so they are never inlined. ' +
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
    .action(async (inputs: string[], flags: MergeFlags) => (await import('./merge-run.js')).runMerge(inputs, flags));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
