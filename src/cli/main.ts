import { Command, CommanderError } from 'commander';
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

/** Builds the `hotpath` command tree. Exported so tests can run commands in-process. */
export function buildProgram(): Command {
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

/**
 * Runs `hotpath` with the process's arguments and sets the exit code: what bin/hotpath.js calls,
 * on the bundle (dist/bundle/cli) or on this module. An error that is not a user error prints
 * its stack and exits 70, the code BSD's sysexits.h gives an internal software error.
 */
export function main(): Promise<void> {
  return runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`hotpath: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 70;
    },
  );
}

// `node dist/src/cli/main.js ARGS` runs the CLI too.
if (process.argv[1] !== undefined && /cli[/\\]main\.js$/.test(process.argv[1])) void main();
