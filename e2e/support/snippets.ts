import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOk } from './go.js';
import { repoRoot } from './paths.js';

/** A code block of the README between `<!-- snippet:LANG NAME -->` and `<!-- /snippet -->`. */
export interface Snippet {
  lang: string;
  name: string;
  code: string;
}

/** Returns the marked snippets of a Markdown text, in order; each marker must wrap exactly one fenced block. */
export function markedSnippets(markdown: string): Snippet[] {
  const out: Snippet[] = [];
  const marker = /<!-- snippet:(\w+) ([\w-]+) -->\n```(\w+)\n([\s\S]*?)\n```\n<!-- \/snippet -->/g;
  for (const m of markdown.matchAll(marker)) {
    if (m[1] !== m[3]) throw new Error(`snippet ${m[2]} is marked ${m[1]} but fenced as ${m[3]}`);
    out.push({ lang: m[1], name: m[2], code: `${m[4]}\n` });
  }
  return out;
}

/** Where the README's snippets send to and with which key. */
export interface SnippetTarget {
  /** The server's base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  apiKey: string;
  /** An application key, for the snippets that read (APP_KEY). */
  appKey?: string;
}

/**
 * Returns `code` with the README's placeholders replaced: `http://hotpath-host:8126` and
 * `hotpath-host:8126` by the server's address, and the words `API_KEY` and `APP_KEY` (not
 * HOTPATH_API_KEY) by the keys, as a reader does before pasting.
 */
export function fillPlaceholders(code: string, target: SnippetTarget): string {
  const hostPort = new URL(target.url).host;
  return code
    .replaceAll('http://hotpath-host:8126', target.url)
    .replaceAll('hotpath-host:8126', hostPort)
    .replace(/\bAPI_KEY\b/g, target.apiKey)
    .replace(/\bAPP_KEY\b/g, target.appKey ?? 'APP_KEY');
}

/**
 * Builds a Go `package main` source in a module with the requirements of e2e/clients (dd-trace-go,
 * pyroscope-go, from the module proxy or cache) and returns the binary's path.
 */
export function buildGoProgram(name: string, source: string): string {
  const dir = mkdtempSync(join(tmpdir(), `hotpath-snippet-${name}-`));
  for (const file of ['go.mod', 'go.sum']) copyFileSync(join(repoRoot, 'e2e', 'clients', file), join(dir, file));
  writeFileSync(join(dir, 'main.go'), source);
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  runOk('go', ['build', '-o', join(bin, name), '.'], { cwd: dir });
  return join(bin, name);
}

/** A started program whose output is collected, with waits that all have a timeout. */
export interface RunningProgram {
  output: () => string;
  /** Resolves once the output contains `text`; rejects after `timeoutMs` or when the program exits first. */
  waitForOutput: (text: string, timeoutMs: number) => Promise<void>;
  /** Resolves with the exit code once the program exits; kills it and rejects after `timeoutMs`. */
  exit: (timeoutMs: number) => Promise<number | null>;
  /** Sends SIGTERM and resolves with the exit code; kills it and rejects after `timeoutMs`. */
  stop: (timeoutMs: number) => Promise<number | null>;
}

/** Starts `cmd` with `args` and `env`, collecting stdout and stderr together. */
export function startProgram(cmd: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string }): RunningProgram {
  const child: ChildProcess = spawn(cmd, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const append = (c: Buffer) => {
    out += c.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exitCode: number | null | undefined;
  /** Resolves with the exit code; kills the program and rejects after `timeoutMs`. */
  const waitForExit = async (timeoutMs: number): Promise<number | null> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${cmd} did not exit within ${timeoutMs} ms:\n${out}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      exitCode = code;
      for (const l of listeners) l();
      resolve(code);
    }),
  );
  return {
    output: () => out,
    waitForOutput: (text, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (out.includes(text)) done(() => resolve());
          else if (exitCode !== undefined) done(() => reject(new Error(`${cmd} exited (${exitCode}) before printing "${text}":\n${out}`)));
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`no "${text}" from ${cmd} within ${timeoutMs} ms:\n${out}`))),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      }),
    exit: (timeoutMs) => waitForExit(timeoutMs),
    stop: (timeoutMs) => {
      if (exitCode === undefined) child.kill('SIGTERM');
      return waitForExit(timeoutMs);
    },
  };
}

/** Calls `probe` until it returns a value other than undefined, at most until `timeoutMs`; then throws `what`. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
