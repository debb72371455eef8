import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from '../../e2e/support/go.js';
import { cacheDir, cpuburnBinary } from '../../e2e/support/workloads.js';
import { parseProfile } from '../../src/pprof/parse.js';
import { valueIndex } from '../../src/pprof/profile.js';
import { cachedFixture } from '../../src/testing/fixtures.js';

/** A recording smaller than this, or with fewer samples, was cut short (a killed run, a machine that gave it no CPU). */
const MIN_BYTES = 100_000;
const MIN_SAMPLES = 300;

function shortfall(path: string, labels: boolean): string | null {
  const size = statSync(path).size;
  if (size < MIN_BYTES) return `${size} bytes, below the ${MIN_BYTES} of its spec`;
  try {
    const p = parseProfile(readFileSync(path));
    if (valueIndex(p, 'cpu', 'nanoseconds') < 0) return 'no cpu/nanoseconds samples';
    if (p.samples.count < MIN_SAMPLES) return `${p.samples.count} samples, below the ${MIN_SAMPLES} of its spec`;
    if (labels !== p.samples.labelKey.length > 0) return labels ? 'no labels' : 'labels where none were asked for';
  } catch (err) {
    return `not a readable profile: ${(err as Error).message}`;
  }
  return null;
}

/**
 * Returns the path of a 30-second CPU profile of the real cpuburn workload (2 workers, 64
 * generated functions, 100 Hz as Go's default, with -labels when `labels`), recorded on first use
 * and cached under .cache/profiles. Distinct seeds give distinct workload mixes and stacks.
 */
export function thirtySecondProfile(seed: number, labels: boolean): string {
  const kind = labels ? 'labels' : 'plain';
  return cachedFixture({
    path: join(cacheDir, 'profiles', `cpuburn-v64-r100-30s-${kind}-seed${seed}.pprof`),
    shortfall: (path) => shortfall(path, labels),
    attempts: 2,
    generate: (path) =>
      runOk(cpuburnBinary(), [
        '-o',
        path,
        '-variety',
        '64',
        '-rate',
        '100',
        '-duration',
        '30s',
        '-workers',
        '2',
        '-seed',
        String(seed),
        ...(labels ? ['-labels'] : []),
      ]),
  });
}
