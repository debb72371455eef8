import type { ProfileTables } from './decode.js';
import { EncodedSampleReader } from './encoded-samples.js';
import { ProfileError } from './errors.js';
import { checkCompatible, type MergeOptions } from './merge.js';
import { Merger } from './merger.js';
import type { Profile } from './profile.js';
import { validateProfile } from './validate.js';

/** Inputs the encoded merger reserves its output tables for at the first one, in decompressed bytes. */
const MAX_RESERVED_INPUT_BYTES = 32 * 1024 * 1024;

/**
 * Merges profiles given as decodeProfileTables results, one at a time, reading each one's
 * samples straight from its bytes into the merge: no sample table is built per input, which
 * makes merging files (the CLI) about as cheap as decoding them. Adding the tables of bytes
 * b1..bn then calling finish() gives exactly mergeProfiles([decodeProfile(b1)..decodeProfile(bn)]).
 * add() throws ProfileError for a profile incompatible with the first one (before merging
 * anything of it) and, as decodeProfile would, for a malformed or inconsistent sample; after
 * an error the merger must not be used further. The stacks and labels read from an input are
 * charged to its budget (ProfileTables.budget) as decodeProfile charges its sample table, so an
 * input decodeProfile would refuse as implausible is refused here too, within that budget.
 */
export class EncodedProfileMerger {
  private merger: Merger | null = null;
  private reader: EncodedSampleReader | null = null;
  private first: Profile | null = null;
  private added = 0;
  private readonly dropLabels: boolean;
  private readonly expectedInputs: number;

  /** `expectedInputs`, when known, lets the merger size its tables for all inputs at the first one. */
  constructor(options: MergeOptions = {}, expectedInputs = 1) {
    this.dropLabels = options.dropLabels === true;
    this.expectedInputs = Math.max(1, expectedInputs);
  }

  /** Merges the profile of `t`; `t` is not modified. */
  add(t: ProfileTables): void {
    this.added++;
    const p = t.profile;
    validateProfile(p);
    if (this.first === null || this.reader === null) {
      this.first = p;
      // Reserved for all inputs, as if they were like the first, up to MAX_RESERVED_INPUT_BYTES
      // of them (none for a larger first input): beyond, the tables grow with what is merged.
      const n = Math.min(this.expectedInputs, Math.floor(MAX_RESERVED_INPUT_BYTES / Math.max(1, t.buf.length)));
      // A location id is one to three bytes, and a sample has a few more bytes of values and labels.
      this.merger = new Merger(p, this.dropLabels, {
        samples: (t.sampleRanges.length >> 1) * n,
        stackWords: Math.ceil((t.sampleBytes / 2) * n),
        locations: p.locations.count * n,
        lines: p.locations.lineFunction.length * n,
      });
      this.reader = new EncodedSampleReader(this.merger);
    } else {
      checkCompatible([this.first, p], this.added);
    }
    this.reader.merge(t);
  }

  finish(): Profile {
    if (this.merger === null) throw new ProfileError('no profiles to merge');
    return this.merger.finish();
  }
}
