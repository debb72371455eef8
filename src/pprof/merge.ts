import { ProfileBuilder } from './builder.js';
import { ProfileError } from './errors.js';
import type { Profile } from './profile.js';
import { SequenceInterner } from './sequence-interner.js';

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
  const merger = new ProfileMerger(profiles[0], options);
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
    this.merger = new Merger(all, options.dropLabels === true);
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

const PAGE = 0x1000n;

class Merger {
  private readonly out = new ProfileBuilder();
  private readonly nValues: number;
  private readonly dropLabels: boolean;
  private readonly samples: SequenceInterner;
  // Keys are interned as uint32 word sequences (numbers as their float64 bits), so
  // deduplication builds no strings and allocates nothing per location or sample.
  private readonly functionKeys = new SequenceInterner(4096);
  private readonly locationKeys: SequenceInterner;
  private readonly labelSets = new SequenceInterner(1024);
  private readonly mappingKeys = new Map<string, number>();
  private scratch = new Uint32Array(256);
  private keyWords = new Uint32Array(256);
  private readonly float = new Float64Array(1);
  private readonly floatWords = new Uint32Array(this.float.buffer);
  private labelOrder: number[] = [];
  private readonly seenComments = new Set<string>();
  private timeNanos = 0n;

  // Per-source translation tables, reset by add().
  private src!: Profile;
  private strMap!: Int32Array;
  private fnMap!: Int32Array;
  private locMap!: Int32Array;
  private mapMap!: Int32Array;
  private mapShift!: BigInt64Array;
  private addressWords!: Uint32Array;

  constructor(profiles: Profile[], dropLabels: boolean) {
    this.dropLabels = dropLabels;
    const first = profiles[0];
    this.nValues = first.sampleTypes.length >> 1;
    // Size the output for the worst case (no sample shared between inputs): regrowing
    // multi-megabyte tables costs more than the memory.
    let samples = 0;
    let stackWords = 0;
    let locations = 0;
    let lines = 0;
    for (const p of profiles) {
      samples += p.samples.count;
      stackWords += p.samples.locs.length + p.samples.count;
      locations += p.locations.count;
      lines += p.locations.lineFunction.length;
    }
    this.samples = new SequenceInterner(samples, stackWords);
    this.locationKeys = new SequenceInterner(locations, locations * 4 + lines * 5);
    const b = this.out;
    b.sampleLocs.reserve(stackWords);
    b.sampleLocStart.reserve(samples + 1);
    b.sampleLabelStart.reserve(samples + 1);
    b.sampleValues.reserve(samples * this.nValues);
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

  add(p: Profile): void {
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

    const s = p.samples;
    const V = this.nValues;
    const values = s.values;
    const outValues = this.out.sampleValues;
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
      if (this.scratch.length < n + 1) this.scratch = new Uint32Array((n + 1) * 2);
      const key = this.scratch;
      for (let j = 0; j < n; j++) {
        const loc = s.locs[a + j];
        const mapped = this.locMap[loc];
        key[j] = mapped >= 0 ? mapped : this.mapLocation(loc);
      }
      const hasLabels = !this.dropLabels && s.labelStart[i + 1] > s.labelStart[i];
      key[n] = hasLabels ? this.labelSetId(i) : 0;

      const before = this.samples.count;
      const id = this.samples.intern(key, 0, n + 1);
      if (id < before) {
        const data = outValues.data;
        const o = id * V;
        for (let j = 0; j < V; j++) data[o + j] += values[vBase + j];
        continue;
      }
      const b = this.out;
      b.sampleLocs.reserve(b.sampleLocs.length + n);
      b.sampleLocs.data.set(key.subarray(0, n), b.sampleLocs.length);
      b.sampleLocs.length += n;
      b.sampleLocStart.push(b.sampleLocs.length);
      for (let j = 0; j < V; j++) outValues.push(values[vBase + j]);
      if (hasLabels) {
        for (let l = s.labelStart[i]; l < s.labelStart[i + 1]; l++) {
          b.labelKey.push(this.str(s.labelKey[l]));
          b.labelStr.push(this.str(s.labelStr[l]));
          b.labelNum.push(s.labelNum[l]);
          b.labelNumUnit.push(this.str(s.labelNumUnit[l]));
        }
      }
      b.sampleLabelStart.push(b.labelKey.length);
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
  private labelSetId(sample: number): number {
    const s = this.src.samples;
    const from = s.labelStart[sample];
    const to = s.labelStart[sample + 1];
    const order = this.labelOrder;
    order.length = 0;
    for (let l = from; l < to; l++) {
      // Sort key: merged key index, numeric labels after string ones; stable insertion sort.
      const rank = this.str(s.labelKey[l]) * 2 + (s.labelStr[l] !== 0 ? 0 : 1);
      let k = order.length;
      order.push(l, rank);
      while (k > 0 && order[k - 1] > rank) {
        order[k] = order[k - 2];
        order[k + 1] = order[k - 1];
        k -= 2;
      }
      order[k] = l;
      order[k + 1] = rank;
    }
    let words = this.keyWords;
    if (words.length < order.length * 3) words = this.keyWords = new Uint32Array(order.length * 4);
    let w = 0;
    for (let k = 0; k < order.length; k += 2) {
      const l = order[k];
      words[w++] = order[k + 1];
      if (s.labelStr[l] !== 0) {
        words[w++] = this.str(s.labelStr[l]);
      } else {
        this.float[0] = s.labelNum[l];
        words[w++] = this.floatWords[0];
        words[w++] = this.floatWords[1];
        words[w++] = this.str(s.labelNumUnit[l]);
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
