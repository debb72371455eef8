import type { Command } from 'commander';
import { DEFAULT_CDF_THRESHOLD_PERCENT } from '../pgo/hot-call-sites.js';

/** The flags of `hotpath explain`, as commander hands them to the action. */
export interface ExplainFlags {
  json?: boolean;
  top: string;
  cdfThreshold: string;
}

/** Registers `hotpath explain`; what it runs (explain-run.ts) is loaded only when it runs. */
export function registerExplain(program: Command): void {
  program
    .command('explain')
    .summary('show the hot call sites `go build -pgo` will see in a profile')
    .description(
      'Compute the call edges the Go compiler derives from a CPU profile (what `go tool preprofile` prints), ' +
        'the hot-call-site threshold it prints with -gcflags=-d=pgodebug=1 (hot-callsite-thres-from-CDF), and which ' +
        'call sites are hot: those may be inlined with a budget of 2000 instead of 80.',
    )
    .option('--json', 'print JSON instead of text')
    .option('--top <N>', 'how many edges to list', '20')
    .option(
      '--cdf-threshold <PERCENT>',
      'hot edges cover this share of the weight (the compiler’s -d=pgoinlinecdfthreshold)',
      String(DEFAULT_CDF_THRESHOLD_PERCENT),
    )
    .argument('<FILE>', 'CPU profile or default.pgo (gzip, zstd or raw protobuf)')
    .action(async (file: string, flags: ExplainFlags) => (await import('./explain-run.js')).runExplain(file, flags));
}
