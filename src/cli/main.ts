import { createRequire } from 'node:module';
import type * as CommanderModule from 'commander';
import { ProfileError } from '../pprof/errors.js';
import { StoreConfigError } from '../store/store-urls.js';
import { CliError } from './errors.js';
import { registerExplain } from './explain.js';
import { withGoStyleFlags } from './go-flags.js';
import { helpWidthFor, subcommandTerm } from './help-layout.js';
import { registerImpact } from './impact.js';
import { registerInspect } from './inspect.js';
import { registerKeys } from './keys.js';
import { registerMerge } from './merge.js';
import { registerMigrate } from './migrate.js';
import { registerPgo } from './pgo.js';
import { registerServe } from './serve.js';
import { registerServices } from './services.js';
import { registerUpload } from './upload.js';
import { VERSION } from './version.js';

// commander is CommonJS: require() loads it faster than an ESM import (Node has to scan the
// CommonJS source for its exports first). Every command pays for it at start-up.
const { Command, CommanderError } = createRequire(import.meta.url)('commander') as typeof CommanderModule;

/** Builds the `hotpath` command tree. Exported so tests can run commands in-process. */
export function buildProgram(): CommanderModule.Command {
  const program = new Command();
  program
    .name('hotpath')
    .description('Hotpath: continuous profiling for Go, made for profile-guided optimization (PGO).')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      outputError: (str, write) => write(str),
      getOutHelpWidth: () => helpWidthFor(process.stdout),
      getErrHelpWidth: () => helpWidthFor(process.stderr),
    })
    // Before the commands are added: they inherit it.
    .configureHelp({ subcommandTerm });
  registerServe(program);
  registerPgo(program);
  registerServices(program);
  registerUpload(program);
  registerKeys(program);
  registerMigrate(program);
  registerMerge(program);
  registerInspect(program);
  registerExplain(program);
  registerImpact(program);
  return program;
}

/** Runs the CLI and returns the process exit code; user errors print one line, never a stack. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(withGoStyleFlags(program, argv), { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof CliError) {
      process.stderr.write(`hotpath: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof StoreConfigError) {
      process.stderr.write(`hotpath: ${err.message}\n`);
      return 1;
    }
    if (err instanceof ProfileError) {
      process.stderr.write(`hotpath: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

const isMain = process.argv[1] !== undefined && /(?:hotpath(?:\.js)?|cli[/\\]main\.js)$/.test(process.argv[1]);
if (isMain) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`hotpath: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
