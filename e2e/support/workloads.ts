import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseProfile } from '../../src/pprof/parse.js';
import { sampleTypeNames } from '../../src/pprof/profile.js';
import { profileStats } from '../../src/pprof/stats.js';
import { cachedFixture } from '../../src/testing/fixtures.js';
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
  /**
   * Seconds of profiling on two idle cores: the workload runs until it has used twice this much
   * CPU time, however long a busy machine takes to give it (~1.3 MB for 30).
   */
  seconds: number;
}

/**
 * The size in bytes a large profile of `seconds` must have: under half of what the workload
 * writes, so only a recording cut short (by the wall-time cap on a machine too busy to give it
 * the CPU, by a killed process, or recorded by an older generator) falls short of it.
 */
export function largeProfileMinBytes(seconds: number): number {
  return seconds * 20_000;
}

/**
 * Returns why the profile at `path` is not a large CPU profile of `seconds`: too small, not a
 * complete pprof, or without CPU samples; null when it is one.
 */
function largeProfileShortfall(path: string, seconds: number): string | null {
  const size = statSync(path).size;
  const min = largeProfileMinBytes(seconds);
  if (size < min) return `${size} bytes, below the ${min} of its spec`;
  try {
    const profile = parseProfile(readFileSync(path));
    const types = sampleTypeNames(profile).map((t) => `${t.type}/${t.unit}`);
    if (!types.includes('cpu/nanoseconds')) return `no cpu/nanoseconds samples (sample types ${types.join(', ')})`;
    if (profileStats(profile).sampleCount === 0) return 'no samples';
  } catch (err) {
    return `not a readable profile: ${(err as Error).message}`;
  }
  return null;
}

/**
 * Returns the path of a large CPU profile written by the real cpuburn workload with deep,
 * varied stacks and labels (-variety 64 -rate 1000 -labels), generating it on first use and
 * caching it under .cache/profiles. The workload runs for an amount of CPU time, not of wall
 * time, so the profile's size does not depend on how busy the machine is: 2 × `seconds` of CPU,
 * what it got in `seconds` on two idle cores when the benchmarks in bench/README.md were recorded.
 * A cached or new profile that falls short of its spec (largeProfileMinBytes) is recorded again
 * with twice the CPU time, so callers can rely on its size.
 */
export function largeProfile({ seed, seconds }: LargeProfileOptions): string {
  return cachedFixture({
    path: join(cacheDir, 'profiles', `cpuburn-v64-r1000-${seconds}s-labels-seed${seed}.pprof`),
    shortfall: (path) => largeProfileShortfall(path, seconds),
    attempts: 2,
    generate: (path, attempt) =>
      runOk(cpuburnBinary(), [
        '-o',
        path,
        '-variety',
        '64',
        '-rate',
        '1000',
        '-cpu-time',
        `${2 * seconds * attempt}s`,
        // Only a cap, for a machine that gives the workload almost no CPU.
        '-duration',
        `${2 * seconds * attempt * 20}s`,
        '-labels',
        '-seed',
        String(seed),
      ]),
  });
}
