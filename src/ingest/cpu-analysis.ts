import { encodePreparedForm } from '../flame/prepared-form.js';
import { trimForPgo } from '../pgo/trim.js';
import { decompress, gzipMemberSync } from '../pprof/compression.js';
import { decodeProfile } from '../pprof/decode.js';
import { encodeProfile } from '../pprof/encode.js';
import { ProfileError } from '../pprof/errors.js';
import type { Profile } from '../pprof/profile.js';
import { profileStats } from '../pprof/stats.js';

/** What intake keeps of a CPU profile besides its raw bytes. */
export interface CpuAnalysis {
  cpuCores: number | null;
  sampleCount: number;
  /** The profile's own duration, 0 when it does not say. */
  durationNanos: number;
  /** True when the profile is plainly a Go program's. */
  isGo: boolean;
  /** The trimmed PGO form, gzip-compressed, as stored. */
  pgoBytes: Uint8Array;
  /** The prepared form the flame graph views merge (src/flame/prepared-form.ts), as stored. */
  preparedBytes: Uint8Array;
}

/**
 * zlib level of the stored PGO form. Level 1 against 6, measured on real Go CPU profiles' trimmed
 * forms (17 to 46 KB): 35-40% less CPU in gzip, which at level 6 was about a sixth of an upload's
 * analysis in the ingest worker, for output 6-7% larger (8.0 KB instead of 7.6 KB for the ingest
 * benchmark's profile).
 */
const PGO_GZIP_LEVEL = 1;

/**
 * Returns what intake stores of an uploaded CPU profile (gzip, zstd or raw): its stats, its
 * trimmed PGO form and its prepared form, done once here so that no read repeats it.
 * Decompression is bounded by `maxDecompressedBytes` and decoding by decodeProfile's budget.
 * Throws DecompressedSizeError over the limit and ProfileError for anything else wrong with the
 * bytes, including a negative sample value. Synchronous and self-contained, so it can run in a worker thread.
 */
export function analyzeCpuProfile(bytes: Uint8Array, maxDecompressedBytes: number): CpuAnalysis {
  if (bytes.length === 0) throw new ProfileError('empty file: a profile cannot be zero bytes');
  const profile = decodeProfile(decompress(bytes, maxDecompressedBytes));
  refuseNegativeSamples(profile);
  const stats = profileStats(profile, 0);
  return {
    cpuCores: stats.cpuCores,
    sampleCount: stats.sampleCount,
    durationNanos: stats.durationNanos,
    isGo: looksLikeGo(profile),
    pgoBytes: gzipMemberSync(encodeProfile(trimForPgo(profile)), PGO_GZIP_LEVEL),
    preparedBytes: encodePreparedForm(profile),
  };
}

/**
 * Throws ProfileError naming the first sample with a negative value. Clients send CPU profiles
 * as measured, never as differences, and a negative value would become negative CPU cores;
 * diff profiles are for `hotpath inspect`, not intake.
 */
function refuseNegativeSamples(p: Profile): void {
  const values = p.samples.values;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < 0) {
      const V = p.sampleTypes.length >> 1;
      const sample = Math.floor(i / V);
      const column = i % V;
      const type = `${p.strings[p.sampleTypes[2 * column]]}/${p.strings[p.sampleTypes[2 * column + 1]]}`;
      throw new ProfileError(
        `sample ${sample} has a negative ${type} value (${values[i]}): a CPU profile's values are never negative (a diff profile cannot be uploaded)`,
      );
    }
  }
}

/**
 * True when the profile is plainly a Go program's: it names a function every Go program runs
 * (runtime.goexit, runtime.main, runtime.mcall) or a function in a .go source file. The second
 * is needed for short profiles from net/http/pprof: Go 1.2x CPU profiles of worker goroutines
 * often hold none of those runtime functions, but every symbolized Go frame has its .go file.
 */
export function looksLikeGo(p: Profile): boolean {
  for (let f = 0; f < p.functions.count; f++) {
    const name = p.strings[p.functions.name[f]];
    if (name === 'runtime.goexit' || name === 'runtime.main' || name === 'runtime.mcall') return true;
    if (p.strings[p.functions.filename[f]]?.endsWith('.go')) return true;
  }
  return false;
}
