import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fixture } from '../e2e/support/paths.js';
import { trimForPgo } from '../src/pgo/trim.js';
import { decodeProfile } from '../src/pprof/decode.js';
import { encodeProfile } from '../src/pprof/encode.js';
import { mergeProfiles } from '../src/pprof/merge.js';
import { parseProfile } from '../src/pprof/parse.js';
import type { Profile } from '../src/pprof/profile.js';

/** A recorded intake request: what a real client sent, to mutate the envelope around a profile. */
export interface RecordedRequest {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** The seeds every fuzz input starts from. */
export interface FuzzCorpus {
  /**
   * Uncompressed profiles written by real Go programs, then their trimmed PGO forms, then each
   * cut to its first samples: small inputs run through every target fast, so most of the time
   * goes to inputs and not to re-running the same big tables.
   */
  profiles: Uint8Array[];
  /** Names of `profiles`, in the same order, for reports. */
  names: string[];
  /** Recorded dd-trace-go and pyroscope-go uploads (e2e/testdata/intake). */
  datadog: RecordedRequest;
  pyroscope: RecordedRequest;
}

/** Samples kept in the cut forms of the fixtures. */
const CUT_SAMPLES = 24;

/**
 * Loads the corpus from e2e/testdata: every *.pprof decompressed, plus the trimmed form of each
 * CPU profile and the first samples of each profile (with only what they use), and the two
 * recorded client uploads. The order is fixed (sorted file names), so
 * a seed means the same inputs on every machine with the same checkout.
 */
export function loadCorpus(): FuzzCorpus {
  const files = readdirSync(fixture('.'))
    .filter((f) => f.endsWith('.pprof'))
    .sort();
  const profiles: Uint8Array[] = [];
  const names: string[] = [];
  for (const f of files) {
    profiles.push(gunzipSync(readFileSync(fixture(f))));
    names.push(f);
  }
  for (const f of files) {
    if (!f.startsWith('cpu-')) continue;
    profiles.push(encodeProfile(trimForPgo(parseProfile(readFileSync(fixture(f))))));
    names.push(`${f} (trimmed)`);
  }
  for (const f of files) {
    profiles.push(encodeProfile(firstSamples(decodeProfile(gunzipSync(readFileSync(fixture(f)))), CUT_SAMPLES)));
    names.push(`${f} (first ${CUT_SAMPLES} samples)`);
  }
  return { profiles, names, datadog: recorded('dd-trace-go-v2.12.0'), pyroscope: recorded('pyroscope-go-v1.4.3') };
}

/** Returns `p` with only its first `n` samples and the locations, functions, mappings and strings they use. */
function firstSamples(p: Profile, n: number): Profile {
  const V = p.sampleTypes.length >> 1;
  const values = p.samples.values.slice();
  values.fill(0, n * V);
  // The merge drops all-zero samples and whatever only they used.
  return mergeProfiles([{ ...p, samples: { ...p.samples, values } }]);
}

function recorded(name: string): RecordedRequest {
  const meta = JSON.parse(readFileSync(fixture(`intake/${name}.json`), 'utf8')) as { url: string; headers: Record<string, string> };
  const headers = { ...meta.headers };
  // Intake runs with anonymousIntake: the recorded keys are not in the fuzz server's key store.
  delete headers.authorization;
  return { url: meta.url, headers, body: readFileSync(fixture(`intake/${name}.multipart`)) };
}
