import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hotpathBin } from './paths.js';

export interface RunningServer {
  url: string;
  apiKey: string;
  appKey: string;
  dataDir: string;
  /** The server's process id (to read its memory from /proc). */
  pid: number;
  /** Everything the server printed so far. */
  output: () => string;
  /** Stops the server with SIGTERM (graceful shutdown) and returns its exit code; removes a data directory it made unless keepData. */
  stop: (options?: { keepData?: boolean }) => Promise<number | null>;
  /** Kills the server with SIGKILL (a crash: nothing is flushed or closed) and resolves when it is gone. */
  kill: () => Promise<void>;
}

export interface StartServerOptions {
  /** Extra environment for the server (AWS_* credentials, HOTPATH_* URLs). */
  env?: Record<string, string>;
}

/**
 * Starts `hotpath serve` as a user would (a separate process, on a free loopback port, with a
 * fresh data directory unless one is given) and resolves once it listens, with the keys it
 * printed on first start.
 */
export function startServer(extraArgs: string[] = [], dataDir?: string, options: StartServerOptions = {}): Promise<RunningServer> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'hotpath-serve-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [hotpathBin, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', dir, ...extraArgs],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    },
  );
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const serving = /"address":"(https?:\/\/127\.0\.0\.1:\d+)"[^\n]*"msg":"hotpath serving"/.exec(out);
      if (!serving) return;
      clearInterval(timer);
      const apiKey = /API key \(send profiles\): +(\S+)/.exec(out)?.[1] ?? '';
      const appKey = /Application key \(read, admin\): +(\S+)/.exec(out)?.[1] ?? '';
      resolve({
        url: serving[1],
        apiKey,
        appKey,
        dataDir: dir,
        pid: child.pid ?? 0,
        output: () => out,
        stop: async (stopOptions = {}) => {
          child.kill('SIGTERM');
          const code = await exited;
          if (!dataDir && !stopOptions.keepData) rmSync(dir, { recursive: true, force: true });
          return code;
        },
        kill: async () => {
          child.kill('SIGKILL');
          await exited;
        },
      });
    }, 20);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`hotpath serve exited (${code}) before listening:\n${out}`));
    });
  });
}
