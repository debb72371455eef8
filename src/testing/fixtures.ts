import { existsSync } from 'node:fs';
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
