import type { Command } from 'commander';

/** The flags of `hotpath inspect`, as commander hands them to the action. */
export interface InspectFlags {
  json?: boolean;
  top: string;
}

/** Registers `hotpath inspect`; what it runs (inspect-run.ts) is loaded only when it runs. */
export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .summary('summarize a profile: duration, CPU cores, samples, top functions')
    .description(
      'Print what a pprof profile holds: sample types and totals, duration, CPU cores used, sample count and the top functions by flat and cumulative value.',
    )
    .option('--json', 'print JSON instead of text')
    .option('--top <N>', 'how many top functions to list', '10')
    .argument('<FILE>', 'profile (gzip, zstd or raw protobuf)')
    .action(async (file: string, flags: InspectFlags) => (await import('./inspect-run.js')).runInspect(file, flags));
}
