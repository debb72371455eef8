import { DecodeBudget } from './budget.js';
import { chargeDecodedTables } from './decode-costs.js';
import { decodeSamples } from './decode-samples.js';
import { decodeStrings } from './decode-strings.js';
import { decodeFunctions, decodeLocations, decodeMappings } from './decode-tables.js';
import { type Ranges, scanTopLevel, TopLevel } from './decode-top-level.js';
import { IdTable } from './id-table.js';
import { emptyProfile, type Profile, type SampleTable } from './profile.js';
import { validateProfile } from './validate.js';

/**
 * Decodes an uncompressed profile.proto message into the columnar model and validates it.
 * Accepts packed and unpacked repeated fields and any field order; unknown fields are skipped.
 * Throws ProfileError naming the field when the bytes are not a well-formed, consistent profile.
 *
 * Bounded memory: every buffer the decode allocates, garbage from regrowing included, is first
 * charged to `budget`, by default K x bytes.length + 1 MiB with K = DECODED_BYTES_PER_INPUT_BYTE
 * = 6 (real profiles need 2.7 to 3.7, see budget.ts), and a decode that would pass it is
 * refused with a ProfileError ("... would need N MB decoded from M MB: not a plausible
 * profile") having allocated at most that. The records of every table are counted before any
 * table is allocated, so a profile whose tables alone pass the budget (empty or minimal
 * records, the usual amplification attack) is refused having allocated only its header
 * (at most MAX_SAMPLE_TYPES sample types); stacks, lines and labels, whose number only their
 * messages tell, are charged as they grow. A profile whose samples cannot hold one byte per
 * value is refused before its values are allocated. The only JavaScript array sized by the
 * wire is the string table, after the budget has accepted it.
 */
export function decodeProfile(bytes: Uint8Array, budget: DecodeBudget = new DecodeBudget(bytes.length)): Profile {
  const t = decodeProfileTables(bytes, budget);
  t.profile.samples = decodeSamples(t.buf, t.sampleRanges, t.sampleBytes, t.locationIds, t.profile.sampleTypes.length >> 1, budget);
  validateProfile(t.profile);
  return t.profile;
}

/**
 * A profile decoded up to its samples: everything but the sample table is decoded and
 * resolved (row numbers, not ids), the samples are only located, so a caller can read them
 * straight into its own structures (merge does) instead of building the sample table.
 */
export interface ProfileTables {
  /** The profile with an empty sample table; not validated yet (see validateProfile). */
  profile: Profile;
  /** The input as a Buffer (the same memory). */
  buf: Buffer;
  /** [start, end) byte offsets of the body of each sample message, flattened, in order. */
  sampleRanges: Uint32Array;
  /** Sum of the lengths of the sample messages: every location id or value takes one at least. */
  sampleBytes: number;
  /** Location proto id → location row. */
  locationIds: IdTable;
  /** The budget the tables were charged to, for whoever reads the samples. */
  budget: DecodeBudget;
}

/**
 * Decodes everything of an uncompressed profile.proto message except the body of its
 * samples (see ProfileTables). Throws ProfileError like decodeProfile for any malformed
 * field it reads; the profile is not validated (validateProfile), samples are not read.
 * Charges `budget` like decodeProfile, the sample table's fixed part included (its
 * stacks and labels are charged by whoever reads them).
 */
export function decodeProfileTables(bytes: Uint8Array, budget: DecodeBudget = new DecodeBudget(bytes.length)): ProfileTables {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  // Pass 1 walks the top-level fields, decoding the header and only counting the records of
  // each table, so the tables can be charged to the budget before any of them is allocated.
  const top = new TopLevel();
  scanTopLevel(buf, top, budget, null);
  const { count, payload } = top;
  const sampleTypes = top.sampleTypes.finish();
  chargeDecodedTables(count, payload, top.empty, sampleTypes.length >> 1, budget);

  // Pass 2 locates every record in exact-size arrays. Samples refer to locations by id, so
  // ids are resolved once all locations are known, whatever order the fields came in.
  const ranges: Ranges[] = [];
  for (let f = 0; f <= 6; f++) ranges.push(new Uint32Array(f >= 2 ? 2 * count[f] : 0));
  scanTopLevel(buf, top, budget, ranges);
  const stringRanges = ranges[6];
  const strings = decodeStrings(buf, stringRanges, payload[6]);
  const { comments, periodType, dropFrames, keepFrames, timeNanos, durationNanos, period, defaultSampleType, docUrl } = top;

  const mappings = decodeMappings(buf, ranges[3]);
  const functions = decodeFunctions(buf, ranges[5]);
  const locations = decodeLocations(
    buf,
    ranges[4],
    payload[4],
    new IdTable(mappings.id, 'mapping', budget),
    new IdTable(functions.id, 'function', budget),
    budget,
  );
  const locationIds = new IdTable(locations.id, 'location', budget);

  const profile: Profile = {
    strings,
    sampleTypes,
    samples: NO_SAMPLES,
    locations,
    functions,
    mappings,
    dropFrames,
    keepFrames,
    timeNanos,
    durationNanos,
    periodType,
    period,
    comments: comments.finish(),
    defaultSampleType,
    docUrl,
  };
  return { profile, buf, sampleRanges: ranges[2], sampleBytes: payload[2], locationIds, budget };
}

/** The sample table of ProfileTables.profile until a caller sets its own; never written to. */
const NO_SAMPLES: SampleTable = emptyProfile().samples;
