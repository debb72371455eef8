import type { Command } from 'commander';

/** The flags of `hotpath impact`, as commander hands them to the action. */
export interface ImpactFlags {
  from: string;
  to: string;
  json?: boolean;
  timeout: string;
  server: string;
  appKey?: string;
}

/** Registers `hotpath impact`; what it runs (impact-run.ts) is loaded only when it runs. */
export function registerImpact(program: Command): void {
  program
    .command('impact')
    .summary('did a change (PGO, a release) lower CPU per request? compares two selections with confidence intervals')
    .description(
      'Compares the profiles matching BEFORE with those matching AFTER (search queries, e.g. ' +
        "'service:shop env:prod pgo:false' and 'service:shop env:prod pgo:true'): CPU per request with 95% " +
        "confidence intervals, the change (Welch's interval) and a verdict, per endpoint too. Request counts " +
        "come from dd-trace-go's tracer with DD_PROFILING_ENDPOINT_COUNT_ENABLED=true; without them the " +
        'report compares CPU cores and says that load is not accounted for.',
    )
    .argument('<before>', 'search query of the profiles before the change')
    .argument('<after>', 'search query of the profiles after the change')
    .option('--from <TIME>', 'start of the window: a duration ago (72h), now-72h or RFC 3339', '72h')
    .option('--to <TIME>', 'end of the window, as --from', 'now')
    .option('--json', 'print the report as JSON (the API answer)')
    .option('--timeout <DURATION>', 'give up after this long', '60s')
    .option('--server <URL>', 'server URL (or HOTPATH_URL)', process.env.HOTPATH_URL ?? 'http://localhost:8126')
    .option('--app-key <KEY>', 'application key with profiles_read (or HOTPATH_APP_KEY)')
    .action(async (before: string, after: string, flags: ImpactFlags) => (await import('./impact-run.js')).runImpact(before, after, flags));
}
