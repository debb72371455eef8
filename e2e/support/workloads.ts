import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
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
 * The spec a cached large profile must meet: its size in bytes for `seconds` of profiling. On an
 * idle machine the workload writes ~50 KB a second; on a loaded one it gets less CPU, takes fewer
 * samples and writes less, so a recording under half of that rate is too small to be "large".
 */
function largeProfileSpec(seconds: number): number {
  return seconds * 20_000;
}

/**
 * Returns the path of a large CPU profile written by the real cpuburn workload with deep,
 * varied stacks and labels (-variety 64 -rate 1000 -labels), generating it on first use and
 * caching it under .cache/profiles. Profiles of ~1–1.5 MB take 20–30 s each to record. A cached
 * or new recording smaller than its spec (recorded while the machine was busy) is recorded again,
 * for longer, up to four times the requested seconds, so callers can rely on its size.
 */
export function largeProfile({ seed, seconds }: LargeProfileOptions): string {
  const dir = join(cacheDir, 'profiles');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `cpuburn-v64-r1000-${seconds}s-labels-seed${seed}.pprof`);
  const spec = largeProfileSpec(seconds);
  if (existsSync(path) && statSync(path).size >= spec) return path;
  const tmp = `${path}.partial`;
  let recordSeconds = seconds;
  for (let attempt = 1; ; attempt++) {
    runOk(cpuburnBinary(), [
      '-o',
      tmp,
      '-variety',
      '64',
      '-rate',
      '1000',
      '-duration',
      `${recordSeconds}s`,
      '-labels',
      '-seed',
      String(seed),
    ]);
    const size = statSync(tmp).size;
    if (size >= spec || attempt === 3) {
      if (size < spec)
        throw new Error(`large profile ${path}: ${size} bytes after ${recordSeconds}s of recording, below its spec of ${spec}`);
      break;
    }
    recordSeconds = Math.min(seconds * 4, Math.ceil((recordSeconds * spec * 1.3) / Math.max(size, 1)));
  }
  renameSync(tmp, path);
  return path;
}
