import type { Command } from 'commander';
import { addCaFileOption } from './ca-file-option.js';

/** The flags of `hotpath services`, as commander hands them to the action. */
export interface ServicesFlags {
  from: string;
  server: string;
  appKey?: string;
  json?: boolean;
  caFile?: string;
}

/** Registers `hotpath services`; what it runs (services-run.ts) is loaded only when it runs. */
export function registerServices(program: Command): void {
  const command = program
    .command('services')
    .summary('list the services sending profiles, with their PGO adoption')
    .description(
      'Every service with profiles in the window: environments, latest version, profile count, mean CPU cores and the share of profiles from PGO builds. Services whose newest profile says pgo:false are flagged.',
    )
    .option('--from <DURATION>', 'how far back to look', '7d')
    .option('--server <URL>', 'server URL (or HOTPATH_URL)', process.env.HOTPATH_URL ?? 'http://localhost:8126')
    .option('--app-key <KEY>', 'application key with profiles_read (or HOTPATH_APP_KEY)')
    .option('--json', 'print JSON')
    .action(async (flags: ServicesFlags) => (await import('./services-run.js')).runServices(flags));
  addCaFileOption(command);
}
