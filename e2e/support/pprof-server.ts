import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from './go.js';
import { repoRoot } from './paths.js';
import { cacheDir, generateWorkloadSources } from './workloads.js';

let built: string | undefined;

/** Builds the pprofserver workload (a Go service importing net/http/pprof) once per process and returns its path. */
export function pprofServerBinary(): string {
  if (built) return built;
  const bin = join(cacheDir, 'bin');
  mkdirSync(bin, { recursive: true });
  generateWorkloadSources();
  runOk('go', ['build', '-o', bin, './pprofserver'], { cwd: join(repoRoot, 'e2e', 'workloads') });
  built = join(bin, 'pprofserver');
  return built;
}

export interface RunningPprofServer {
  /** host:port it serves /debug/pprof/ on. */
  address: string;
  stop: () => Promise<void>;
}

/** Starts pprofserver with `args` and resolves once it listens; rejects if it exits first or does not listen within a minute. */
export function startPprofServer(args: string[] = []): Promise<RunningPprofServer> {
  const child: ChildProcess = spawn(pprofServerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pprofserver did not listen within a minute:\n${out}`));
    }, 60_000);
    child.stdout?.on('data', () => {
      const m = /listening on (\S+)\n/.exec(out);
      if (!m) return;
      clearTimeout(timeout);
      resolve({
        address: m[1],
        stop: async () => {
          child.kill('SIGKILL');
          await exited;
        },
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timeout);
      reject(new Error(`pprofserver exited (${code}) before listening:\n${out}`));
    });
  });
}
