import { readFileSync } from 'node:fs';
import type { Profile } from '../pprof/profile.js';
import { type RenameResult, renameLeafFunctions } from '../pprof/rename.js';

/** What renamed functions are called; a name the compiler cannot resolve is never inlined. */
export const NO_INLINE_PREFIX = 'DO NOT INLINE: ';

/**
 * Functions that must never be inlined through PGO, with the reason:
 * - grpc's loopyWriter.processData: inlining it copies its 16 KiB buffer into the caller's
 *   frame and raised memory use by 18% (golang/go#65532);
 * - runtime.gopark: inlined into ReadTrace it can hang the program (golang/go#74045).
 */
export const BUILTIN_NO_INLINE: readonly string[] = [
  'google.golang.org/grpc/internal/transport.(*loopyWriter).processData',
  'runtime.gopark',
];

/**
 * Returns the no-inline list: the built-in names plus `extra`, plus one name per line of
 * each file in `files` (blank lines and lines starting with # are ignored).
 */
export function noInlineList(extra: readonly string[] = [], files: readonly string[] = []): Set<string> {
  const names = new Set<string>(BUILTIN_NO_INLINE);
  for (const n of extra) if (n.trim() !== '') names.add(n.trim());
  for (const file of files) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const n = line.trim();
      if (n !== '' && !n.startsWith('#')) names.add(n);
    }
  }
  return names;
}

/**
 * Returns `p` with the safety renames applied: each listed function that is a sample's leaf
 * becomes "DO NOT INLINE: <name>", so the compiler cannot match its call sites and never
 * inlines it, while the weights (and so the hot-call-site threshold) stay as they were.
 */
export function applySafetyRenames(p: Profile, names: ReadonlySet<string> = new Set(BUILTIN_NO_INLINE)): RenameResult {
  return renameLeafFunctions(p, names, NO_INLINE_PREFIX);
}
