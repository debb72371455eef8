import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from '../../e2e/support/go.js';
import { cacheDir, cpuburnBinary } from '../../e2e/support/workloads.js';
import { parseProfile } from '../../src/pprof/parse.js';
import { sampleTypeNames } from '../../src/pprof/profile.js';
import { cachedFixture } from '../../src/testing/fixtures.js';

/**
 * An input set of the merge benchmark: profiles of about one size, recorded by the real cpuburn
 * workload (e2e/workloads/cpuburn) with flags chosen for that size.
 */
export interface InputSet {
  /** What `--sets` calls it. */
  name: string;
  /** The size each profile is recorded for, in gzip bytes (what the name says). */
  targetBytes: number;
  /** cpuburn flags besides -o, -seed, -cpu-time and -duration. */
  flags: string[];
  /**
   * CPU time the workload runs for, in seconds. The profile's size follows its sample count,
   * and so this CPU time, not the wall time a busy machine takes to give it.
   */
  cpuSeconds: number;
  /**
   * The smallest file that meets the spec: under this, the recording was cut short (a machine
   * too busy to give the workload its CPU time within the wall-time cap, a killed process, an
   * older generator) and the profile is recorded again with twice the CPU time.
   */
  minBytes: number;
  /** Above this, the benchmark says the file is larger than its set is meant to be. */
  maxBytes: number;
}

const KB = 1024;

/** The three sets of issue 14: 5 × ~50 KB, 5 × ~200 KB, 5 × ~1.5 MB of gzip. */
export const INPUT_SETS: readonly InputSet[] = [
  // 16 of the generated functions: ~1,600 locations, ~400 samples.
  {
    name: '50k',
    targetBytes: 50 * KB,
    flags: ['-variety', '16', '-rate', '100', '-labels'],
    cpuSeconds: 4,
    minBytes: 35 * KB,
    maxBytes: 80 * KB,
  },
  // All 64: ~13,000 locations, ~600 samples.
  {
    name: '200k',
    targetBytes: 200 * KB,
    flags: ['-variety', '64', '-rate', '100', '-labels'],
    cpuSeconds: 6,
    minBytes: 140 * KB,
    maxBytes: 300 * KB,
  },
  // What `npm run bench:merge` measured before the sets: 30 s on two cores at 1000 Hz.
  {
    name: '1500k',
    targetBytes: 1500 * KB,
    flags: ['-variety', '64', '-rate', '1000', '-labels'],
    cpuSeconds: 60,
    minBytes: 1100 * KB,
    maxBytes: 2500 * KB,
  },
];

/** The set `--sets` names, or an error listing the ones there are. */
export function inputSet(name: string): InputSet {
  const set = INPUT_SETS.find((s) => s.name === name);
  if (set === undefined)
    throw new Error(`--sets: no input set ${JSON.stringify(name)} (there are ${INPUT_SETS.map((s) => s.name).join(', ')})`);
  return set;
}

/** Why the file at `path` does not meet `set`'s spec, or null when it does. */
function shortfall(set: InputSet, path: string): string | null {
  const size = statSync(path).size;
  if (size < set.minBytes) return `${size} bytes, below the ${set.minBytes} of set ${set.name}`;
  try {
    const types = sampleTypeNames(parseProfile(readFileSync(path))).map((t) => `${t.type}/${t.unit}`);
    if (!types.includes('cpu/nanoseconds')) return `no cpu/nanoseconds samples (sample types ${types.join(', ')})`;
  } catch (err) {
    return `not a readable profile: ${(err as Error).message}`;
  }
  return null;
}

/**
 * Returns the path of profile `seed` (1, 2, …) of `set`, cached under .cache/profiles: recorded
 * by cpuburn on first use, and again whenever the cached file falls short of the set's spec.
 */
export function setProfile(set: InputSet, seed: number): string {
  return cachedFixture({
    path: join(cacheDir, 'profiles', `merge-${set.name}-seed${seed}.pprof`),
    shortfall: (path) => shortfall(set, path),
    attempts: 2,
    generate: (path, attempt) => {
      const cpu = set.cpuSeconds * attempt;
      // -duration only caps the wall time, for a machine that gives the workload almost no CPU.
      runOk(cpuburnBinary(), ['-o', path, ...set.flags, '-cpu-time', `${cpu}s`, '-duration', `${cpu * 20}s`, '-seed', String(seed)]);
    },
  });
}
