import type { Command } from 'commander';
import { addStoreOptions, type StoreFlags } from './store-options.js';

/** The flags of `hotpath migrate`, as commander hands them to the action. */
export interface MigrateFlags extends StoreFlags {
  concurrency: string;
  json?: boolean;
}

/** Registers `hotpath migrate`; what it runs (migrate-run.ts, the stores) is loaded only when it runs. */
export function registerMigrate(program: Command): void {
  addStoreOptions(
    program
      .command('migrate')
      .summary('copy an embedded install (--data) into PostgreSQL (--index) and S3 (--blobs)')
      .description(
        'Copy every key and profile (index rows, raw attachments, PGO forms) of an embedded data directory into a PostgreSQL ' +
          'index and S3-compatible blobs, reading every blob back to check it. Run it again after an interruption: what was ' +
          'copied is checked, not copied twice. Profiles that arrive during the copy are picked up by running it again ' +
          'before the switch; the data directory is only read.',
      )
      .option('--concurrency <N>', 'profiles copied at once', '8')
      .option('--json', 'print the result as JSON')
      .addHelpText(
        'after',
        '\nExample:\n  hotpath migrate --data /var/lib/hotpath \\\n    --index postgres://hotpath@db/hotpath \\\n' +
          "    --blobs 's3://profiles/hotpath?endpoint=http://s3:7070&forcePathStyle=true'",
      ),
  ).action(async (flags: MigrateFlags) => (await import('./migrate-run.js')).runMigrate(flags));
}
