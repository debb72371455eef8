import { encodeProfileGzip } from '../pprof/encode.js';
import { mergeProfiles } from '../pprof/merge.js';
import type { Profile } from '../pprof/profile.js';
import { trimForPgo } from '../pprof/trim.js';
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
 * Returns the default.pgo for `profiles`: each is trimmed to what the compiler reads, the
 * trimmed forms are merged (labels dropped), and the safety renames are applied. Profiles that
 * are already trimmed are accepted as they are (trimming is idempotent). Throws ProfileError
 * when the inputs are not CPU profiles, are incompatible, or lack start lines.
 */
export function buildPgoProfile(profiles: Profile[], options: PgoBuildOptions = {}): PgoBuildResult {
  const trimmed = profiles.map((p) => trimForPgo(p));
  const merged = trimmed.length === 1 ? trimmed[0] : mergeProfiles(trimmed, { dropLabels: true });
  const { profile, renamed } = applySafetyRenames(merged, options.noInline ?? new Set(BUILTIN_NO_INLINE));
  // Fail here, not in the user's `go build`, when the compiler would reject the file.
  computeCallEdges(profile);
  return { profile, bytes: encodeProfileGzip(profile, 9), renamed };
}
