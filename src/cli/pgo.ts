import type { Command } from 'commander';
import { addCaFileOption } from './ca-file-option.js';

/** The flags of `hotpath pgo`, as commander hands them to the action. */
export interface PgoFlags {
  fail?: boolean;
  from: string;
  json?: boolean;
  profiles: string;
  timeout: string;
  verbose?: boolean;
  server?: string;
  appKey?: string;
  caFile?: string;
  explain?: boolean;
  noInline: string[];
}

/** Registers `hotpath pgo`; what it runs (pgo-run.ts) is loaded only when it runs. */
export function registerPgo(program: Command): void {
  const command = program
    .command('pgo')
    .summary('write a default.pgo from the server’s recent profiles (for CI, before go build)')
    .description(
      'Ask a Hotpath server for a default.pgo built from the top profiles (by CPU cores) matching each QUERY ' +
        'in the window, and write it to DEST atomically. `runtime:go` is added to a query that names no runtime. ' +
        'It never breaks a build: on any failure it says what to fix, leaves DEST as it was and exits 0, ' +
        'unless --fail is given.',
    )
    .option('--fail', 'exit non-zero on failure (default: exit 0 and build without a new profile)')
    .option('--from <DURATION>', 'how far back to look for profiles', '72h')
    .option('--json', 'log JSON lines')
    .option('--profiles <N>', 'profiles to use per query', '5')
    .option('--timeout <DURATION>', 'give up after this long', '60s')
    .option('-v, --verbose', 'log more')
    .option('--server <URL>', 'server URL (or HOTPATH_URL, or https://app.$DD_SITE; default http://localhost:8126)')
    .option('--app-key <KEY>', 'application key with the pgo_read scope (or HOTPATH_APP_KEY, DD_APP_KEY)')
    .option(
      '--no-inline <FUNC>',
      'never inline FUNC (repeatable; adds to the built-in list)',
      (v: string, prev: string[]) => [...prev, v],
      [],
    )
    .option('--explain', 'print the hot call sites of the file written')
    .usage('[options] QUERY... DEST')
    .argument('<QUERY...>', 'one or more search queries (e.g. "service:api env:prod"), then DEST: where to write the profile')
    .addHelpText(
      'after',
      '\nExample (CI, before go build; the key needs the pgo_read scope):\n' +
        '  export HOTPATH_URL=https://hotpath.internal:8126 HOTPATH_APP_KEY=...\n' +
        '  hotpath pgo --from 72h "service:api env:prod" ./cmd/api/default.pgo',
    )
    .action(async (args: string[], flags: PgoFlags) => (await import('./pgo-run.js')).runPgoCommand(args, flags));
  addCaFileOption(command);
}
