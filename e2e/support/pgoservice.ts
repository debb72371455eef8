import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from './go.js';
import { repoRoot } from './paths.js';

/**
 * Copies the e2e/pgoservice module (its Go sources, go.mod and go.sum) into `dest`, where a test can build it with a
 * profile beside it, and writes its generated sources there with `go generate` (variety_gen.go is not checked in).
 */
export function copyPgoService(dest: string): void {
  const src = join(repoRoot, 'e2e', 'pgoservice');
  mkdirSync(dest, { recursive: true });
  for (const f of readdirSync(src)) {
    if (/\.go$|^go\.(mod|sum)$/.test(f) && f !== 'variety_gen.go') copyFileSync(join(src, f), join(dest, f));
  }
  runOk('go', ['generate', '.'], { cwd: dest });
}
