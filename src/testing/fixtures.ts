import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file that holds package.json (works from src and dist). */
export const repoRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above src/testing');
    dir = up;
  }
  return dir;
})();

/** Path of a checked-in fixture under e2e/testdata. */
export function fixture(name: string): string {
  return join(repoRoot, 'e2e', 'testdata', name);
}

/** How a generated fixture is made and what it must be to be used; see cachedFixture. */
export interface CachedFixtureSpec {
  /** Where the fixture is cached (under .cache/, which git ignores). */
  path: string;
  /**
   * Returns why the file at `path` falls short of what the tests rely on ("412000 bytes, spec
   * 600000"), or null when it meets it. Called on the cached file and on every new one.
   */
  shortfall: (path: string) => string | null;
  /** Writes a candidate to `path`; `attempt` counts from 1, so a retry may record for longer. */
  generate: (path: string, attempt: number) => void;
  /** Generations tried before giving up (at least 1). */
  attempts: number;
}

/**
 * Returns the path of a generated fixture that meets its spec. A cached file is checked against
 * the spec on every use, so a fixture generated short (on a busy machine, by an older generator,
 * or cut off by a killed process) is generated again instead of failing every later run. A new
 * file is written beside the cache and moved into place only once it meets the spec, so the cache
 * never holds a fixture that falls short, even when another test process reads it meanwhile.
 * Throws, naming the last shortfall, when no attempt meets the spec.
 */
export function cachedFixture(spec: CachedFixtureSpec): string {
  if (existsSync(spec.path) && spec.shortfall(spec.path) === null) return spec.path;
  mkdirSync(dirname(spec.path), { recursive: true });
  const tmp = `${spec.path}.${process.pid}.partial`;
  let last = 'not generated';
  try {
    for (let attempt = 1; attempt <= Math.max(1, spec.attempts); attempt++) {
      rmSync(tmp, { force: true });
      spec.generate(tmp, attempt);
      const shortfall = existsSync(tmp) ? spec.shortfall(tmp) : 'the generator wrote no file';
      if (shortfall === null) {
        renameSync(tmp, spec.path);
        return spec.path;
      }
      last = shortfall;
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  throw new Error(`fixture ${spec.path} falls short of its spec after ${spec.attempts} attempts: ${last}`);
}
