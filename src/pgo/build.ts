import { encodeProfileGzip } from '../pprof/encode.js';
import { mergeProfiles } from '../pprof/merge.js';
import type { Profile } from '../pprof/profile.js';
import { computeCallEdges } from './call-edges.js';
import { applySafetyRenames, BUILTIN_NO_INLINE } from './safety.js';

export interface PgoBuildOptions {
  /** Functions never to inline (the safety list); defaults to the built-in list. */
  noInline?: ReadonlySet<string>;
}

export interface PgoBuildResult {
  profile: Profile;
  /** The gzip-compressed default.pgo bytes; identical inputs in the same order give identical bytes. */
  bytes: Buffer;
  /** Functions renamed by the safety list. */
  renamed: string[];
}

/**
 * Returns the default.pgo for `trimmed`, profiles already trimmed by trimForPgo (the CLI trims
 * each input to name a bad file; the server stores trimmed forms at ingest): they are merged
 * and the safety renames applied. Throws ProfileError when they are incompatible or lack start
 * lines.
 */
export function buildPgoProfile(trimmed: Profile[], options: PgoBuildOptions = {}): PgoBuildResult {
  const merged = trimmed.length === 1 ? trimmed[0] : mergeProfiles(trimmed, { dropLabels: true });
  const { profile, renamed } = applySafetyRenames(merged, options.noInline ?? new Set(BUILTIN_NO_INLINE));
  // Fail here, not in the user's `go build`, when the compiler would reject the file.
  computeCallEdges(profile);
  return { profile, bytes: encodeProfileGzip(profile, 9), renamed };
}
