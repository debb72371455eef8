// What the whole-process benchmarks (bench/merge, bench/cli) share: running a command and
// timing it from spawn to exit, summary statistics, the machine, and plain-text tables.

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { relative, sep } from 'node:path';
import { repoRoot } from '../../e2e/support/paths.js';

export interface Stats {
  median: number;
  min: number;
  mean: number;
  max: number;
}

export function stats(xs: number[]): Stats {
  if (xs.length === 0) throw new Error('no measurements');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], mean: s.reduce((a, b) => a + b, 0) / s.length, max: s[s.length - 1] };
}

/** A path as printed: relative when inside the repository, otherwise as is. */
export const shown = (path: string): string => (path.startsWith(`${repoRoot}${sep}`) ? relative(repoRoot, path) : path);
export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
export const kb = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KB`;
export const ms = (x: number): string => `${x.toFixed(0)} ms`;

/** "hotpath is 2.31× faster" (ratio = their time / our time). */
export function verdict(ratio: number): string {
  return ratio >= 1 ? `hotpath is ${ratio.toFixed(2)}× faster` : `hotpath is ${(1 / ratio).toFixed(2)}× slower`;
}

/** A table with the first column left-aligned and the others right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

export interface Machine {
  cpu: string;
  nproc: number;
  node: string;
  go: string;
}

export function machine(): Machine {
  let cpu = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    // not Linux: leave it unknown
  }
  const go = execFileSync('go', ['version'], { encoding: 'utf8' })
    .trim()
    .replace(/^go version /, '');
  return { cpu, nproc: availableParallelism(), node: process.version, go };
}

/** The 1, 5 and 15 minute load averages, to print beside results (a busy machine skews them). */
export function loadAverage(): number[] {
  return loadavg().map((x) => Number(x.toFixed(2)));
}

const timeBinary = '/usr/bin/time';
const haveTime = spawnSync(timeBinary, ['-f', '%M', 'true']).status === 0;
const MARK = 'HOTPATH_BENCH_TIME=';

/** Whether peak RSS and CPU time are measured (they come from /usr/bin/time). */
export const measuresRusage: boolean = haveTime;

export interface ProcessRun {
  /** Wall time from spawn to exit. */
  ms: number;
  /** User + system CPU time of the process, when /usr/bin/time is there (10 ms resolution). */
  cpuMs?: number;
  /** Peak resident set size, when /usr/bin/time is there. */
  rssKb?: number;
  stdout: string;
}

/**
 * Runs a command to completion and times its wall clock; CPU time and peak RSS via
 * /usr/bin/time when available. Throws on a non-zero exit, with the command's stderr.
 */
export function timeProcess(cmd: string, args: string[], env?: NodeJS.ProcessEnv): ProcessRun {
  const [file, argv] = haveTime ? [timeBinary, ['-f', `${MARK}%M %U %S`, cmd, ...args]] : [cmd, args];
  const start = process.hrtime.bigint();
  const r = spawnSync(file, argv, { encoding: 'utf8', maxBuffer: 1 << 26, env: env ?? process.env });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  const at = r.stderr.lastIndexOf(MARK);
  if (!haveTime || at < 0) return { ms: elapsed, stdout: r.stdout };
  const [rss, user, sys] = r.stderr
    .slice(at + MARK.length)
    .trim()
    .split(' ')
    .map(Number);
  return { ms: elapsed, rssKb: rss, cpuMs: (user + sys) * 1000, stdout: r.stdout };
}
