import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/** Copies the e2e/pgoservice module (its Go sources, go.mod and go.sum) into `dest`, where a test can build it with a profile beside it. */
export function copyPgoService(dest: string): void {
  const src = join(repoRoot, 'e2e', 'pgoservice');
  mkdirSync(dest, { recursive: true });
  for (const f of readdirSync(src)) {
    if (/\.go$|^go\.(mod|sum)$/.test(f)) copyFileSync(join(src, f), join(dest, f));
  }
}
