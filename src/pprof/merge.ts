import { ProfileError } from './errors.js';
import { capacityOf, Merger } from './merger.js';
import type { Profile } from './profile.js';

export interface MergeOptions {
  /** Drop every sample label first, so samples merge by stack alone (what PGO wants). */
  dropLabels?: boolean;
}

/**
 * Returns the merge of `profiles` with google/pprof `profile.Merge` semantics:
 * - all inputs must have the same period type and the same sample types in the same order;
 * - header: sample types and period type from the first profile, default sample type from
 *   the first profile that has one,
 *   period = max, duration = sum, time = the earliest (0 only counts as unset before the first
 *   non-zero time, like google/pprof), comments de-duplicated in order,
 *   drop/keep frames and doc_url from the first profile that has them;
 * - functions are shared by (name, system name, file, start line), mappings by (size rounded
 *   up to 4 KiB, offset, build id or else file), locations by (mapping, address relative to
 *   the mapping start, folded flag, lines), samples by (locations, labels) with values summed
 *   (the identity keys of google/pprof, see merge-keys.ts);
 * - samples whose values are all zero are dropped, and only the locations, functions and
 *   mappings that surviving samples use are kept (plus the first mapping, the main binary);
 * - ids are renumbered 1..n in order of first use.
 * The inputs are not modified.
 */
export function mergeProfiles(profiles: Profile[], options: MergeOptions = {}): Profile {
  if (profiles.length === 0) throw new ProfileError('no profiles to merge');
  checkCompatible(profiles);
  const merger = new ProfileMerger(profiles[0], options, profiles);
  for (const p of profiles) merger.add(p);
  return merger.finish();
}

/**
 * Merges profiles one at a time, for callers that receive them over time (decoded in
 * parallel, streamed from storage). Adding p1..pn then calling finish() gives exactly
 * mergeProfiles([p1..pn]); add() throws ProfileError for a profile incompatible with `first`.
 */
export class ProfileMerger {
  private readonly merger: Merger;
  private readonly first: Profile;
  private added = 0;

  /** `all`, when known, lets the merger size its tables once for every input. */
  constructor(first: Profile, options: MergeOptions = {}, all: Profile[] = [first]) {
    this.first = first;
    this.merger = new Merger(first, options.dropLabels === true, capacityOf(all));
  }

  add(p: Profile): void {
    this.added++;
    if (p !== this.first) checkCompatible([this.first, p], this.added);
    this.merger.add(p);
  }

  finish(): Profile {
    if (this.added === 0) throw new ProfileError('no profiles to merge');
    return this.merger.finish();
  }
}

/** Throws ProfileError unless every profile has the first one's period type and sample types. */
export function checkCompatible(profiles: Profile[], firstNumber = 0): void {
  const first = profiles[0];
  const describe = (p: Profile, pairs: Int32Array): string => {
    const parts: string[] = [];
    for (let i = 0; i < pairs.length; i += 2) parts.push(`${p.strings[pairs[i]]}/${p.strings[pairs[i + 1]]}`);
    return `[${parts.join(' ')}]`;
  };
  const same = (a: Profile, ap: Int32Array, b: Profile, bp: Int32Array): boolean => {
    if (ap.length !== bp.length) return false;
    for (let i = 0; i < ap.length; i++) if (a.strings[ap[i]] !== b.strings[bp[i]]) return false;
    return true;
  };
  for (let i = 1; i < profiles.length; i++) {
    const p = profiles[i];
    if (!same(first, first.periodType, p, p.periodType)) {
      throw new ProfileError(
        `incompatible period types: profile 1 has ${describe(first, first.periodType)}, profile ${firstNumber || i + 1} has ${describe(p, p.periodType)}`,
      );
    }
    if (!same(first, first.sampleTypes, p, p.sampleTypes)) {
      throw new ProfileError(
        `incompatible sample types: profile 1 has ${describe(first, first.sampleTypes)}, profile ${firstNumber || i + 1} has ${describe(p, p.sampleTypes)}`,
      );
    }
  }
}
