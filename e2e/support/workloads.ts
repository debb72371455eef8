import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from './go.js';
import { repoRoot } from './paths.js';

/** Where generated (not checked-in) profiles and binaries are cached; git ignores it. */
export const cacheDir: string = join(repoRoot, '.cache');
const workloadsDir = join(repoRoot, 'e2e', 'workloads');

/**
 * Writes the workloads' generated Go sources (variety_gen.go, not checked in) with `go generate`.
 * Every build of the workloads comes after it; the generator renames its output into place, so
 * builds in other test processes never read a half-written file.
 */
export function generateWorkloadSources(): void {
  runOk('go', ['generate', './...'], { cwd: workloadsDir });
}

/** Builds the cpuburn workload (once per process) and returns its path. */
let built: string | undefined;
export function cpuburnBinary(): string {
  if (built) return built;
  const bin = join(cacheDir, 'bin');
  mkdirSync(bin, { recursive: true });
  generateWorkloadSources();
  runOk('go', ['build', '-trimpath', '-o', bin, './cpuburn', './heapprof'], { cwd: workloadsDir });
  built = join(bin, 'cpuburn');
  return built;
}

export interface LargeProfileOptions {
  seed: number;
  /** Seconds of profiling; about 0.05 MB of gzip profile per second with the settings below. */
  seconds: number;
}

/**
 * Returns the path of a large CPU profile written by the real cpuburn workload with deep,
 * varied stacks and labels (-variety 64 -rate 1000 -labels), generating it on first use and
 * caching it under .cache/profiles. Profiles of ~1–1.5 MB take 20–30 s each to record.
 */
export function largeProfile({ seed, seconds }: LargeProfileOptions): string {
  const dir = join(cacheDir, 'profiles');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `cpuburn-v64-r1000-${seconds}s-labels-seed${seed}.pprof`);
  if (existsSync(path)) return path;
  const tmp = `${path}.partial`;
  runOk(cpuburnBinary(), ['-o', tmp, '-variety', '64', '-rate', '1000', '-duration', `${seconds}s`, '-labels', '-seed', String(seed)]);
  renameSync(tmp, path);
  return path;
}
