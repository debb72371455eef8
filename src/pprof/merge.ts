import { DecodeBudget } from './budget.js';
import { ProfileBuilder } from './builder.js';
import { decodeProfileTables, expectWire, type IdTable, type ProfileTables, readLabelMessage, readValueField } from './decode.js';
import { encodeProfile, encodeProfileChunks } from './encode.js';
import { ProfileError } from './errors.js';
import { GrowableFloat64, GrowableInt32 } from './growable.js';
import type { Profile } from './profile.js';
import { ProtoReader } from './proto-reader.js';
import { SequenceInterner } from './sequence-interner.js';
import { validateProfile } from './validate.js';

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
 *   the mapping start, folded flag, lines), samples by (locations, labels) with values summed;
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
    if (this.first === null || this.merger === null) {
      this.first = p;
      // Reserved for all inputs, as if they were like the first, up to MAX_RESERVED_INPUT_BYTES
      // of them (none for a larger first input): beyond, the tables grow with what is merged.
      const n = Math.min(this.expectedInputs, Math.floor(MAX_RESERVED_INPUT_BYTES / Math.max(1, t.buf.length)));
      const sampleBytes = t.sampleBytes;
      // A location id is one to three bytes, and a sample has a few more bytes of values and labels.
      this.merger = new Merger(p, this.dropLabels, {
        samples: (t.sampleRanges.length >> 1) * n,
        stackWords: Math.ceil((sampleBytes / 2) * n),
        locations: p.locations.count * n,
        lines: p.locations.lineFunction.length * n,
      });
    } else {
      checkCompatible([this.first, p], this.added);
    }
    this.merger.addEncoded(t);
  }

  finish(): Profile {
    if (this.merger === null) throw new ProfileError('no profiles to merge');
    return this.merger.finish();
  }
}

/** Inputs the encoded merger reserves its output tables for at the first one, in decompressed bytes. */
const MAX_RESERVED_INPUT_BYTES = 32 * 1024 * 1024;

/**
 * Merges and encodes a tiny synthetic profile, and throws the result away. Call it once in a
 * short-lived process before EncodedProfileMerger sees real input (the CLI does it while the
 * first file inflates): V8 optimizes hot code using the type feedback it has collected, and
 * optimized code that reaches a branch never taken before is thrown away and rebuilt later.
 * Taking every branch once here, on a profile of the same shape as real ones (mappings,
 * inlined lines, 1- and 2-byte ids, string and numeric labels, a zero sample, a sample
 * repeated across inputs), saved 15–40 ms of CPU (measurements vary) when merging the
 * bench's five 1.5 MB inputs, for ~2 ms.
 * Has no effect on any result.
 */
export function warmUpEncodedMerge(): void {
  const inputs: Uint8Array[] = [];
  for (let n = 0; n < 2; n++) {
    const b = ProfileBuilder.goCpu();
    b.header.durationNanos = 1_000_000_000n;
    b.header.timeNanos = BigInt(n + 1);
    const mapping = b.addMapping({ start: 0x400000n, limit: 0x800000n, filename: '/bin/app', buildId: 'id' });
    const fns: number[] = [];
    for (let f = 0; f < 4; f++) fns.push(b.addFunction(`main.f${f + n}`, 'main.go', 10 * f, `main.f${f + n}`, 150 + f));
    const locs: number[] = [];
    for (let l = 0; l < 6; l++) {
      const lines =
        l % 3 === 0
          ? [
              { fn: fns[l % 4], line: l },
              { fn: fns[(l + 1) % 4], line: l + 1 },
            ]
          : [{ fn: fns[l % 4], line: l }];
      locs.push(b.addLocation(lines, { mapping, address: 0x401000n + BigInt(16 * l), id: l < 3 ? l + 1 : 300 + l }));
    }
    for (let i = 0; i < 8; i++) {
      const stack = [locs[(i + n) % 6], locs[(i + 1) % 6], locs[5], locs[4]];
      b.addSample(
        stack,
        [i === 3 ? 0 : 1, i === 3 ? 0 : 10_000_000],
        [
          { key: 'worker', str: `w${i % 2}` },
          { key: 'n', num: i },
        ],
      );
    }
    inputs.push(encodeProfile(b.finish()));
  }
  for (const dropLabels of [false, true]) {
    const merger = new EncodedProfileMerger({ dropLabels }, inputs.length);
    for (const bytes of inputs) {
      const t = decodeProfileTables(bytes);
      validateProfile(t.profile);
      merger.add(t);
    }
    encodeProfileChunks(merger.finish(), 64, () => undefined);
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

const PAGE = 0x1000n;

/** Sizes a merger's output tables are reserved for, to avoid regrowing them. */
interface Capacity {
  samples: number;
  stackWords: number;
  locations: number;
  lines: number;
}

function capacityOf(profiles: Profile[]): Capacity {
  const c: Capacity = { samples: 0, stackWords: 0, locations: 0, lines: 0 };
  for (const p of profiles) {
    c.samples += p.samples.count;
    c.stackWords += p.samples.locs.length;
    c.locations += p.locations.count;
    c.lines += p.locations.lineFunction.length;
  }
  return c;
}

/** Location words at or above this in a stack being read are ~(source row), not yet mapped. */
const MISS = 0x80000000;

class Merger {
  private readonly out = new ProfileBuilder();
  private readonly nValues: number;
  private readonly dropLabels: boolean;
  // Keys are interned as uint32 word sequences (numbers as their float64 bits), so
  // deduplication builds no strings and allocates nothing per location or sample.
  private readonly functionKeys = new SequenceInterner(4096);
  private readonly locationKeys: SequenceInterner;
  private readonly labelSets = new SequenceInterner(1024);
  private readonly mappingKeys = new Map<string, number>();
  private keyWords = new Uint32Array(256);
  private readonly float = new Float64Array(1);
  private readonly floatWords = new Uint32Array(this.float.buffer);
  private labelOrder = new Int32Array(64);
  private readonly seenComments = new Set<string>();
  private timeNanos = 0n;

  // Merged samples are deduplicated in place: a sample's stack is written (translated) at the
  // end of out.sampleLocs, looked up in this open-addressing table over the stacks already
  // there, and kept (by advancing the length) only when new. No key is copied or allocated.
  private sampleHash = new Int32Array(0);
  private readonly sampleLabelSet = new GrowableInt32(1024);
  private slots = new Int32Array(0);
  private mask = 0;

  // Scratch for one sample read from bytes (addEncoded).
  private readonly values: Float64Array;
  private readonly labelKey = new GrowableInt32(16);
  private readonly labelStr = new GrowableInt32(16);
  private readonly labelNum = new GrowableFloat64(16);
  private readonly labelNumUnit = new GrowableInt32(16);
  /** One label as readLabelMessage reads it. */
  private readonly label = new Float64Array(4);

  // Per-source translation tables, reset by begin().
  private src!: Profile;
  private strMap!: Int32Array;
  private fnMap!: Int32Array;
  private locMap!: Int32Array;
  private mapMap!: Int32Array;
  private mapShift!: BigInt64Array;
  private addressWords!: Uint32Array;

  constructor(first: Profile, dropLabels: boolean, capacity: Capacity) {
    this.dropLabels = dropLabels;
    this.nValues = first.sampleTypes.length >> 1;
    this.values = new Float64Array(this.nValues);
    // Size the output for the worst case (no sample shared between inputs): regrowing
    // multi-megabyte tables costs more than the memory.
    const { samples, stackWords, locations, lines } = capacity;
    this.locationKeys = new SequenceInterner(locations, locations * 4 + lines * 5);
    this.reserveSamples(samples, stackWords);
    const b = this.out;
    b.locId.reserve(locations);
    b.locMapping.reserve(locations);
    b.locAddress.reserve(locations);
    b.locIsFolded.reserve(locations);
    b.locLineStart.reserve(locations + 1);
    b.lineFunction.reserve(lines);
    b.lineLine.reserve(lines);
    b.lineColumn.reserve(lines);
    const h = this.out.header;
    const types = new Int32Array(first.sampleTypes.length);
    for (let i = 0; i < types.length; i++) types[i] = this.out.string(first.strings[first.sampleTypes[i]]);
    h.sampleTypes = types;
    h.periodType = Int32Array.of(this.out.string(first.strings[first.periodType[0]]), this.out.string(first.strings[first.periodType[1]]));
    h.defaultSampleType = this.out.string(first.strings[first.defaultSampleType]);
  }

  /** Makes room for `samples` merged samples with `stackWords` location words in all. */
  private reserveSamples(samples: number, stackWords: number): void {
    const b = this.out;
    b.sampleLocs.reserve(stackWords);
    b.sampleLocStart.reserve(samples + 1);
    b.sampleLabelStart.reserve(samples + 1);
    b.sampleValues.reserve(samples * this.nValues);
    this.sampleLabelSet.reserve(samples);
    if (this.sampleHash.length < Math.max(16, samples)) {
      const hashes = new Int32Array(Math.max(16, samples));
      hashes.set(this.sampleHash.subarray(0, b.sampleCount));
      this.sampleHash = hashes;
    }
    let size = 16;
    while (size < samples * 2) size *= 2;
    if (size > this.slots.length) this.rehash(size);
  }

  /** Sets up the translation tables for a new source profile (its header is merged first). */
  private begin(p: Profile): void {
    this.mergeHeader(p);
    this.src = p;
    this.strMap = new Int32Array(p.strings.length).fill(-1);
    this.fnMap = new Int32Array(p.functions.count).fill(-1);
    this.locMap = new Int32Array(p.locations.count).fill(-1);
    this.mapMap = new Int32Array(p.mappings.count).fill(-1);
    this.mapShift = new BigInt64Array(p.mappings.count);
    this.addressWords = new Uint32Array(p.locations.address.buffer, p.locations.address.byteOffset, p.locations.count * 2);
    // google/pprof keeps the first mapping of the first profile that has any, so the main
    // binary stays mapping 1 even when no sample uses it.
    if (this.out.mapId.length === 0 && p.mappings.count > 0) this.mapMapping(0);
  }

  add(p: Profile): void {
    this.begin(p);
    const s = p.samples;
    const V = this.nValues;
    const values = s.values;
    const stacks = this.out.sampleLocs;
    for (let i = 0; i < s.count; i++) {
      const vBase = i * V;
      let zero = true;
      for (let j = 0; j < V; j++) {
        if (values[vBase + j] !== 0) {
          zero = false;
          break;
        }
      }
      if (zero) continue;

      const a = s.locStart[i];
      const n = s.locStart[i + 1] - a;
      // The translated stack goes at the end of the merged stacks, where it stays if new.
      const base = stacks.length;
      stacks.reserve(base + n);
      const data = stacks.data;
      for (let j = 0; j < n; j++) {
        const loc = s.locs[a + j];
        const mapped = this.locMap[loc];
        data[base + j] = mapped >= 0 ? mapped : this.mapLocation(loc);
      }
      const hasLabels = !this.dropLabels && s.labelStart[i + 1] > s.labelStart[i];
      const labelSet = hasLabels
        ? this.labelSetId(s.labelKey, s.labelStr, s.labelNum, s.labelNumUnit, s.labelStart[i], s.labelStart[i + 1])
        : 0;
      if (this.addSample(data, base, base + n, labelSet, values, vBase)) {
        if (hasLabels) this.pushLabels(s.labelKey, s.labelStr, s.labelNum, s.labelNumUnit, s.labelStart[i], s.labelStart[i + 1]);
        this.out.sampleLabelStart.push(this.out.labelKey.length);
      }
    }
  }

  /**
   * Merges the profile in `t` reading its samples straight from the wire bytes: location ids
   * are translated to merged rows as they are read, so no sample table is built for it. The
   * result is the same as add(decodeProfile(bytes)), and so are the errors for bad samples.
   *
   * The work is split into small methods on purpose: in a short-lived process (the CLI) most
   * of this code runs before V8 has optimized it, and small functions are optimized sooner
   * and thrown away (deoptimized) less often than one big loop, whose every rare branch
   * costs a deoptimization and a recompilation the first time it is taken.
   */
  addEncoded(t: ProfileTables): void {
    const p = t.profile;
    this.begin(p);
    this.buf = t.buf;
    this.reader = new ProtoReader(t.buf);
    this.locationIds = t.locationIds;
    this.known = new Int32Array(t.locationIds.dense.length).fill(-1);
    this.labelRow = 0;
    this.budget = t.budget;
    const budget = t.budget;
    const ranges = t.sampleRanges;
    const stacks = this.out.sampleLocs;
    for (let i = 0; i < ranges.length; i += 2) {
      const start = ranges[i];
      const end = ranges[i + 1];
      // The stack is read onto the end of the merged stacks, and kept there only if new.
      // Every location id takes at least one byte, so the sample's length bounds its stack.
      const base = stacks.length;
      stacks.reserve(base + (end - start));
      const misses = this.misses;
      const k = this.readSample(start, end, stacks.data, base, i >> 1);
      // What decodeProfile's sample table would hold of this sample (see LABEL_BYTES there).
      budget.charge(4 * (k - base) + 20 * this.labelKey.length, 'sample location ids and labels');
      this.mergeSample(stacks.data, base, k, this.misses !== misses);
    }
  }

  // State of addEncoded for the methods it calls.
  private buf: Buffer = Buffer.alloc(0);
  private reader = new ProtoReader(this.buf);
  private locationIds: IdTable | null = null;
  /** Location id → merged row, for the ids met so far in this source (-1: not yet). */
  private known = new Int32Array(0);
  /** Count of location ids read whose merged row was not known (see readStack). */
  private misses = 0;
  /** Number of labels read so far in this source, for error messages. */
  private labelRow = 0;
  /** The budget of the source being read. */
  private budget = new DecodeBudget(0);

  /**
   * Reads the sample message buf[start..end): its stack into data[base..] (see readStack), its
   * values into this.values, its labels into the label scratch columns. Returns the stack's end.
   * Checks what decodeProfile checks of a sample; accepts any field order, packed or not.
   */
  private readSample(start: number, end: number, data: Uint32Array, base: number, sample: number): number {
    const buf = this.buf;
    const r = this.reader;
    const V = this.nValues;
    const values = this.values;
    let k = base;
    let v = 0;
    this.labelKey.length = 0;
    this.labelStr.length = 0;
    this.labelNum.length = 0;
    this.labelNumUnit.length = 0;
    let pos = start;
    while (pos < end) {
      // Fast path: packed location ids with a one-byte length prefix, what Go writes.
      if (buf[pos] === 0x0a && buf[pos + 1] < 0x80) {
        const fieldEnd = pos + 2 + buf[pos + 1];
        if (fieldEnd > end) {
          r.pos = pos + 1;
          r.end = end;
          r.delimitedEnd('sample location_id');
        }
        k = this.readStack(pos + 2, fieldEnd, data, k, sample);
        pos = fieldEnd;
        continue;
      }
      // Fast paths for the other fields Go writes, short packed values and short labels, so
      // a sample costs a few calls rather than ~15 reader calls; anything else, including
      // every malformed field, takes the general path below, which gives decode's errors.
      if (buf[pos] === 0x12 && buf[pos + 1] < 0x80) {
        const fieldEnd = pos + 2 + buf[pos + 1];
        const n = fieldEnd <= end ? this.readValues(pos + 2, fieldEnd, v) : -1;
        if (n >= 0) {
          v += n;
          pos = fieldEnd;
          continue;
        }
      } else if (buf[pos] === 0x1a && buf[pos + 1] < 0x80) {
        const fieldEnd = pos + 2 + buf[pos + 1];
        if (fieldEnd <= end && this.readLabelFast(pos + 2, fieldEnd)) {
          pos = fieldEnd;
          continue;
        }
      }
      r.pos = pos;
      r.end = end;
      const tag = r.uint('field tag');
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 1) {
        if (wire === 2) {
          const fieldEnd = r.delimitedEnd('sample location_id');
          r.end = fieldEnd;
          while (r.pos < fieldEnd) data[k++] = this.missing(sample, r.uint('sample location_id'));
        } else {
          expectWire(wire, 0, 'sample location_id');
          data[k++] = this.missing(sample, r.uint('sample location_id'));
        }
      } else if (field === 2) {
        v = readValueField(r, wire, values, v, V);
        if (v < 0) this.tooManyValues(sample);
      } else if (field === 3 && wire === 2) {
        readLabelMessage(r, this.label);
        this.pushLabel(this.label[0], this.label[1], this.label[2], this.label[3]);
      } else {
        r.skip(wire, field);
      }
      pos = r.pos;
    }
    if (v !== V) throw new ProfileError(`sample ${sample} has ${v} values but the profile has ${V} sample types`);
    return k;
  }

  /**
   * Reads packed location ids buf[pos..end) into data[k..] and returns the new k. An id whose
   * merged row is known is written as that row; any other as ~(its source row), which has
   * the top bit set, so mergeSample maps it only if the sample is kept (a location is mapped
   * on its first use by a kept sample, as add() does). Throws for an id that does not exist.
   */
  private readStack(pos: number, end: number, data: Uint32Array, k: number, sample: number): number {
    const buf = this.buf;
    const known = this.known;
    const knownLength = known.length;
    while (pos < end) {
      // One loop for every varint length (ids below 2^28), so that no branch of it is first
      // taken after V8 has optimized it (3-byte ids only appear after 16384 locations).
      const at = pos;
      let b = buf[pos++];
      let id = b;
      if (b >= 0x80) {
        id &= 0x7f;
        for (let shift = 7; shift < 28; shift += 7) {
          b = buf[pos++];
          id |= (b & 0x7f) << shift;
          if (b < 0x80) break;
        }
        if (b >= 0x80) {
          // 2^28 or more: rare enough for the general reader.
          this.reader.pos = at;
          this.reader.end = end;
          id = this.reader.uint('sample location_id');
          pos = this.reader.pos;
        }
      }
      const m = id < knownLength ? known[id] : -1;
      data[k++] = m >= 0 ? m : this.missing(sample, id);
    }
    if (pos > end) throw new ProfileError(`truncated protobuf: sample ${sample} has a varint that runs past the end of its field`);
    return k;
  }

  /** Returns ~(source row) of a location id of the current source (see readStack), or throws when it does not exist. */
  private missing(sample: number, locId: number): number {
    const row = (this.locationIds as IdTable).row(locId);
    if (row < 0) throw new ProfileError(`sample ${sample} refers to location id ${locId}, which does not exist`);
    this.misses++;
    return ~row;
  }

  private tooManyValues(sample: number): never {
    throw new ProfileError(`sample ${sample} has more values than the profile's ${this.nValues} sample types`);
  }

  /**
   * Reads packed values buf[pos..end), all varints below 2^28, into this.values from index v,
   * and returns how many; returns -1 when the field holds anything else (a longer varint, one
   * that runs past the end, too many values), for the general path to read (or reject) it.
   */
  private readValues(pos: number, end: number, v: number): number {
    const buf = this.buf;
    const values = this.values;
    const V = this.nValues;
    const first = v;
    while (pos < end) {
      let b = buf[pos++];
      let x = b;
      if (b >= 0x80) {
        x &= 0x7f;
        for (let shift = 7; shift < 28; shift += 7) {
          b = buf[pos++];
          x |= (b & 0x7f) << shift;
          if (b < 0x80) break;
        }
      }
      if (b >= 0x80 || pos > end || v === V) return -1;
      values[v++] = x;
    }
    return v - first;
  }

  /**
   * Reads the label message buf[pos..end) when it is made only of fields 1-4 with varints
   * below 2^28 (what Go writes), pushing it as readLabel does; returns false, having pushed
   * nothing, for anything else (a negative number, another field...), which readLabel reads.
   */
  private readLabelFast(pos: number, end: number): boolean {
    const buf = this.buf;
    let key = 0;
    let str = 0;
    let num = 0;
    let numUnit = 0;
    while (pos < end) {
      const tag = buf[pos++];
      let b = buf[pos++];
      let x = b;
      if (b >= 0x80) {
        x &= 0x7f;
        for (let shift = 7; shift < 28; shift += 7) {
          b = buf[pos++];
          x |= (b & 0x7f) << shift;
          if (b < 0x80) break;
        }
      }
      if (b >= 0x80 || pos > end) return false;
      if (tag === 0x08) key = x;
      else if (tag === 0x10) str = x;
      else if (tag === 0x18) num = x;
      else if (tag === 0x20) numUnit = x;
      else return false;
    }
    this.pushLabel(key, str, num, numUnit);
    return true;
  }

  /** Appends a label (source string indexes, checked here as validateProfile does) to the label scratch columns. */
  private pushLabel(key: number, str: number, num: number, numUnit: number): void {
    const nStrings = this.src.strings.length;
    if (key >= nStrings) this.badLabelString(key, 'key');
    if (str >= nStrings) this.badLabelString(str, 'str');
    if (numUnit >= nStrings) this.badLabelString(numUnit, 'num_unit');
    this.labelRow++;
    // The scratch columns grow (double) to the largest label count of a sample.
    if (this.labelKey.length === this.labelKey.data.length) this.budget.charge(40 * this.labelKey.length, 'sample labels');
    this.labelKey.push(key);
    this.labelStr.push(str);
    this.labelNum.push(num);
    this.labelNumUnit.push(numUnit);
  }

  private badLabelString(index: number, what: string): never {
    throw new ProfileError(
      `sample label ${this.labelRow} ${what} refers to string index ${index} but the string table has ${this.src.strings.length} entries`,
    );
  }

  /**
   * Merges the sample just read by readSample, whose stack is data[base..end): drops it if all
   * its values are zero, else maps its new locations and adds it (addSample).
   */
  private mergeSample(data: Uint32Array, base: number, end: number, missed: boolean): void {
    const V = this.nValues;
    const values = this.values;
    let zero = true;
    for (let j = 0; j < V; j++) {
      if (values[j] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) return;
    if (missed) {
      // First use of some locations: map them now, in stack order, as add() does.
      const locIds = this.src.locations.id;
      const known = this.known;
      for (let q = base; q < end; q++) {
        const x = data[q];
        if (x >= MISS) {
          const row = ~x;
          let m = this.locMap[row];
          if (m < 0) m = this.mapLocation(row);
          data[q] = m;
          const id = locIds[row];
          if (id < known.length) known[id] = m;
        }
      }
    }
    const nLabels = this.labelKey.length;
    const hasLabels = !this.dropLabels && nLabels > 0;
    const keys = this.labelKey.data;
    const strs = this.labelStr.data;
    const nums = this.labelNum.data;
    const units = this.labelNumUnit.data;
    const labelSet = hasLabels ? this.labelSetId(keys, strs, nums, units, 0, nLabels) : 0;
    if (this.addSample(data, base, end, labelSet, values, 0)) {
      if (hasLabels) this.pushLabels(keys, strs, nums, units, 0, nLabels);
      this.out.sampleLabelStart.push(this.out.labelKey.length);
    }
  }

  /**
   * Adds the sample whose translated stack is stacks.data[base..end) (at the end of the merged
   * stacks) with label set `labelSet` and values values[v..v+V): sums the values into an equal
   * merged sample, or keeps the stack and appends the values. Returns true when the sample is
   * new; the caller then appends its labels (pushLabels) and its end in sampleLabelStart.
   */
  private addSample(data: Uint32Array, base: number, end: number, labelSet: number, values: Float64Array, v: number): boolean {
    const V = this.nValues;
    const b = this.out;
    // FNV-style word hash, finished with murmur3's avalanche so that nearby stacks spread.
    let h = 0x811c9dc5 ^ (end - base) ^ Math.imul(labelSet, 0x9e3779b1);
    for (let i = base; i < end; i++) h = Math.imul(h ^ data[i], 0x01000193);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    const starts = b.sampleLocStart.data;
    const labelSets = this.sampleLabelSet.data;
    const hashes = this.sampleHash;
    const slots = this.slots;
    const mask = this.mask;
    const len = end - base;
    let slot = h & mask;
    for (;;) {
      const id = slots[slot];
      if (id === -1) break;
      if (hashes[id] === h && labelSets[id] === labelSet) {
        const s = starts[id];
        if (starts[id + 1] - s === len) {
          let same = true;
          for (let i = 0; i < len; i++) {
            if (data[s + i] !== data[base + i]) {
              same = false;
              break;
            }
          }
          if (same) {
            const out = b.sampleValues.data;
            const o = id * V;
            for (let j = 0; j < V; j++) out[o + j] += values[v + j];
            return false;
          }
        }
      }
      slot = (slot + 1) & mask;
    }
    const id = b.sampleCount;
    slots[slot] = id;
    if (id >= hashes.length) {
      const next = new Int32Array(Math.max(16, hashes.length * 2));
      next.set(hashes);
      this.sampleHash = next;
    }
    this.sampleHash[id] = h;
    this.sampleLabelSet.push(labelSet);
    b.sampleLocs.length = end;
    b.sampleLocStart.push(end);
    for (let j = 0; j < V; j++) b.sampleValues.push(values[v + j]);
    if ((id + 1) * 2 > mask) this.rehash(this.slots.length * 2);
    return true;
  }

  private rehash(size: number): void {
    const slots = new Int32Array(size).fill(-1);
    const mask = size - 1;
    const count = this.out.sampleCount;
    for (let id = 0; id < count; id++) {
      let slot = this.sampleHash[id] & mask;
      while (slots[slot] !== -1) slot = (slot + 1) & mask;
      slots[slot] = id;
    }
    this.slots = slots;
    this.mask = mask;
  }

  /** Appends the labels rows from..to of the given columns (source string indexes) to the merged sample labels. */
  private pushLabels(keys: Int32Array, strs: Int32Array, nums: Float64Array, units: Int32Array, from: number, to: number): void {
    const b = this.out;
    for (let l = from; l < to; l++) {
      b.labelKey.push(this.str(keys[l]));
      b.labelStr.push(this.str(strs[l]));
      b.labelNum.push(nums[l]);
      b.labelNumUnit.push(this.str(units[l]));
    }
  }
  finish(): Profile {
    this.out.header.timeNanos = this.timeNanos;
    const merged = this.out.finish();
    // Summing can cancel values out (negative deltas); google/pprof then merges again to drop them.
    const V = this.nValues;
    for (let i = 0; i < merged.samples.count; i++) {
      let zero = true;
      for (let j = 0; j < V; j++) if (merged.samples.values[i * V + j] !== 0) zero = false;
      if (zero) return mergeProfiles([merged], { dropLabels: this.dropLabels });
    }
    return merged;
  }

  private mergeHeader(p: Profile): void {
    const h = this.out.header;
    if (this.timeNanos === 0n || p.timeNanos < this.timeNanos) this.timeNanos = p.timeNanos;
    h.durationNanos += p.durationNanos;
    if (h.period === 0n || h.period < p.period) h.period = p.period;
    const comments = Array.from(h.comments);
    for (const c of p.comments) {
      const text = p.strings[c];
      if (!this.seenComments.has(text)) {
        this.seenComments.add(text);
        comments.push(this.out.string(text));
      }
    }
    h.comments = Int32Array.from(comments);
    if (h.defaultSampleType === 0 && p.defaultSampleType !== 0) h.defaultSampleType = this.out.string(p.strings[p.defaultSampleType]);
    if (h.docUrl === 0 && p.docUrl !== 0) h.docUrl = this.out.string(p.strings[p.docUrl]);
    if (h.dropFrames === 0 && p.dropFrames !== 0) h.dropFrames = this.out.string(p.strings[p.dropFrames]);
    if (h.keepFrames === 0 && p.keepFrames !== 0) h.keepFrames = this.out.string(p.strings[p.keepFrames]);
  }

  private str(i: number): number {
    const m = this.strMap[i];
    if (m >= 0) return m;
    const o = this.out.string(this.src.strings[i]);
    this.strMap[i] = o;
    return o;
  }

  /**
   * Returns the id (1-based) of the sample's label set. Like google/pprof's sample key, the
   * set is ordered by key (here: merged string index; string labels before numeric ones)
   * while the values of one key keep their order.
   */
  private labelSetId(keys: Int32Array, strs: Int32Array, nums: Float64Array, units: Int32Array, from: number, to: number): number {
    // (label row, rank) pairs in a reused typed array: an array emptied with `length = 0`
    // gives up its storage, which made this the main source of garbage of a merge.
    const n = to - from;
    if (this.labelOrder.length < 2 * n) this.labelOrder = new Int32Array(4 * n);
    const order = this.labelOrder;
    for (let l = from; l < to; l++) {
      // Sort key: merged key index, numeric labels after string ones; stable insertion sort.
      const rank = this.str(keys[l]) * 2 + (strs[l] !== 0 ? 0 : 1);
      let k = 2 * (l - from);
      while (k > 0 && order[k - 1] > rank) {
        order[k] = order[k - 2];
        order[k + 1] = order[k - 1];
        k -= 2;
      }
      order[k] = l;
      order[k + 1] = rank;
    }
    let words = this.keyWords;
    if (words.length < n * 4) words = this.keyWords = new Uint32Array(n * 8);
    let w = 0;
    for (let k = 0; k < 2 * n; k += 2) {
      const l = order[k];
      words[w++] = order[k + 1];
      if (strs[l] !== 0) {
        words[w++] = this.str(strs[l]);
      } else {
        this.float[0] = nums[l];
        words[w++] = this.floatWords[0];
        words[w++] = this.floatWords[1];
        words[w++] = this.str(units[l]);
      }
    }
    return this.labelSets.intern(words, 0, w) + 1;
  }

  private mapFunction(f: number): number {
    const m = this.fnMap[f];
    if (m >= 0) return m;
    const fns = this.src.functions;
    const words = this.keyWords;
    words[0] = this.str(fns.name[f]);
    words[1] = this.str(fns.systemName[f]);
    words[2] = this.str(fns.filename[f]);
    this.float[0] = fns.startLine[f];
    words[3] = this.floatWords[0];
    words[4] = this.floatWords[1];
    const before = this.functionKeys.count;
    const row = this.functionKeys.intern(words, 0, 5);
    if (row === before) this.out.addFunctionIndexes(words[0], words[1], words[2], fns.startLine[f]);
    this.fnMap[f] = row;
    return row;
  }

  private mapMapping(m: number): number {
    const mapped = this.mapMap[m];
    if (mapped >= 0) return mapped;
    const maps = this.src.mappings;
    const strings = this.src.strings;
    const start = maps.memoryStart[m];
    let size = BigInt.asUintN(64, maps.memoryLimit[m] - start);
    size = BigInt.asUintN(64, size + PAGE - 1n);
    size -= size % PAGE;
    const buildId = strings[maps.buildId[m]];
    const file = strings[maps.filename[m]];
    const key = `${size},${maps.fileOffset[m]},${JSON.stringify(buildId !== '' ? buildId : file)}`;
    let row = this.mappingKeys.get(key);
    if (row === undefined) {
      const b = this.out;
      row = b.mapId.length;
      b.mapId.push(row + 1);
      b.mapStart.push(start);
      b.mapLimit.push(maps.memoryLimit[m]);
      b.mapOffset.push(maps.fileOffset[m]);
      b.mapFilename.push(this.str(maps.filename[m]));
      b.mapBuildId.push(this.str(maps.buildId[m]));
      b.mapFlags.push(maps.flags[m]);
      this.mappingKeys.set(key, row);
      this.mapShift[m] = 0n;
    } else {
      // Same binary loaded at another address: rebase this profile's addresses onto it.
      this.mapShift[m] = BigInt.asIntN(64, this.out.mapStart.data[row] - start);
    }
    this.mapMap[m] = row;
    return row;
  }

  private mapLocation(loc: number): number {
    const locs = this.src.locations;
    const srcMapping = locs.mapping[loc];
    let mapping = -1;
    let lo = this.addressWords[2 * loc];
    let hi = this.addressWords[2 * loc + 1];
    if (srcMapping >= 0) {
      mapping = this.mapMapping(srcMapping);
      const shift = this.mapShift[srcMapping];
      if (shift !== 0n) {
        const address = BigInt.asUintN(64, locs.address[loc] + shift);
        lo = Number(address & 0xffffffffn);
        hi = Number(address >> 32n);
      }
    }
    const a = locs.lineStart[loc];
    const b = locs.lineStart[loc + 1];
    // The key: merged mapping, address (in the merged mapping's frame, so equal to pprof's
    // mapping-relative address), folded flag, then (function, line, column) per line.
    const need = 4 + 5 * (b - a);
    if (this.keyWords.length < need) this.keyWords = new Uint32Array(need * 2);
    for (let l = a; l < b; l++) {
      const f = locs.lineFunction[l];
      if (f >= 0 && this.fnMap[f] < 0) this.mapFunction(f);
    }
    const words = this.keyWords;
    words[0] = mapping + 1;
    words[1] = lo;
    words[2] = hi;
    words[3] = locs.isFolded[loc];
    let w = 4;
    const floatWords = this.floatWords;
    for (let l = a; l < b; l++) {
      const f = locs.lineFunction[l];
      words[w++] = f >= 0 ? this.fnMap[f] + 1 : 0;
      this.float[0] = locs.lineLine[l];
      words[w++] = floatWords[0];
      words[w++] = floatWords[1];
      this.float[0] = locs.lineColumn[l];
      words[w++] = floatWords[0];
      words[w++] = floatWords[1];
    }
    const before = this.locationKeys.count;
    const row = this.locationKeys.intern(words, 0, w);
    if (row === before) {
      const out = this.out;
      out.locId.push(row + 1);
      out.locMapping.push(mapping);
      out.locAddress.pushWords(lo, hi);
      out.locIsFolded.push(locs.isFolded[loc]);
      for (let l = a; l < b; l++) {
        const f = locs.lineFunction[l];
        out.lineFunction.push(f >= 0 ? this.fnMap[f] : -1);
        out.lineLine.push(locs.lineLine[l]);
        out.lineColumn.push(locs.lineColumn[l]);
      }
      out.locLineStart.push(out.lineFunction.length);
    }
    this.locMap[loc] = row;
    return row;
  }
}
