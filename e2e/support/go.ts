import { execFileSync, spawnSync } from 'node:child_process';

/**
 * The pprof binary itself, so timing does not include the `go` wrapper. Since Go 1.24 pprof is
 * built on first use into the build cache; `go tool -n pprof` builds it if needed and prints its path.
 */
export const pprofBinary: string = execFileSync('go', ['tool', '-n', 'pprof'], { encoding: 'utf8' }).trim();

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command and returns its exit status and output (never throws on a non-zero exit). */
export function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: Uint8Array } = {}): RunResult {
  const r = spawnSync(cmd, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    input: options.input,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command that must succeed and returns its stdout; the error carries stderr. */
export function runOk(cmd: string, args: string[], options: Parameters<typeof run>[2] = {}): string {
  const r = run(cmd, args, options);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

/** `go tool pprof -proto -symbolize=none` of the inputs, written to `out`. */
export function pprofMerge(inputs: string[], out: string): void {
  runOk(pprofBinary, ['-proto', '-symbolize=none', '-output', out, ...inputs]);
}

/** `go tool preprofile` of a profile: the compiler's view of its call edges, as text. */
export function preprofile(input: string): string {
  return runOk('go', ['tool', 'preprofile', '-i', input]);
}
