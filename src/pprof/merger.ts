import { ProfileBuilder } from './builder.js';
import { ProfileError } from './errors.js';
import { GrowableInt32 } from './growable.js';
import { KeyWriter, type LabelColumns, type MergedStrings, mappingKey } from './merge-keys.js';
import type { Profile } from './profile.js';
import { SequenceInterner } from './sequence-interner.js';
import { grownHashes, hashWords, sameWords, slotsFor } from './word-hash.js';

/** Merged values must stay in [-2^53, 2^53): exact in a float64, and what decodeProfile accepts back. */
const TWO_53 = 2 ** 53;

function sumOutOfRange(sum: number): never {
  throw new ProfileError(`merged sample value ${sum} is outside ±2^53: the inputs' values are too large to add up exactly`);
}

/** Sizes a merger's output tables are reserved for, to avoid regrowing them. */
export interface Capacity {
  samples: number;
  stackWords: number;
  locations: number;
  lines: number;
}

/** Returns the capacity that holds every row of `profiles`, as if no two were merged. */
export function capacityOf(profiles: Profile[]): Capacity {
  const c: Capacity = { samples: 0, stackWords: 0, locations: 0, lines: 0 };
  for (const p of profiles) {
    c.samples += p.samples.count;
    c.stackWords += p.samples.locs.length;
    c.locations += p.locations.count;
    c.lines += p.locations.lineFunction.length;
  }
  return c;
}

/** True when values[from..from+n) are all zero: such a sample is dropped, as pprof's isZeroSample. */
export function allZero(values: Float64Array, from: number, n: number): boolean {
  for (let j = 0; j < n; j++) if (values[from + j] !== 0) return false;
  return true;
}

/**
 * The merge itself, with google/pprof profile.Merge semantics (see mergeProfiles): source
 * rows are translated to merged rows through the identity keys of merge-keys.ts, first use
 * first. Sources are added as decoded profiles (add) or, by EncodedSampleReader, sample by
 * sample from their bytes (begin, location, mergeStack). Compatibility of the sources is the
 * caller's to check.
 */
export class Merger implements MergedStrings {
  readonly out = new ProfileBuilder();
  /** Values per sample (sample types). */
  readonly nValues: number;
  readonly dropLabels: boolean;
  private readonly keys = new KeyWriter();
  private readonly functionKeys = new SequenceInterner(4096);
  private readonly locationKeys: SequenceInterner;
  private readonly labelSets = new SequenceInterner(1024);
  private readonly mappingKeys = new Map<string, number>();
  private readonly seenComments = new Set<string>();
  private timeNanos = 0n;

  // The sample key table. Merged samples are deduplicated in place: a sample's stack is
  // written (translated) at the end of out.sampleLocs, looked up in this open-addressing
  // table over the stacks already there, and kept (by advancing the length) only when new.
  private sampleHash = new Int32Array(0);
  private readonly sampleLabelSet = new GrowableInt32(1024);
  private slots = new Int32Array(0);
  private mask = 0;

  // Per-source translation tables (-1: not mapped yet), reset by begin().
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
    const h = b.header;
    const types = new Int32Array(first.sampleTypes.length);
    for (let i = 0; i < types.length; i++) types[i] = b.string(first.strings[first.sampleTypes[i]]);
    h.sampleTypes = types;
    h.periodType = Int32Array.of(b.string(first.strings[first.periodType[0]]), b.string(first.strings[first.periodType[1]]));
    h.defaultSampleType = b.string(first.strings[first.defaultSampleType]);
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

  /** Sets up the translation tables for a new source profile, whose header is merged first. */
  begin(p: Profile): void {
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

  /** Merges every sample of decoded profile `p`. */
  add(p: Profile): void {
    this.begin(p);
    const s = p.samples;
    const V = this.nValues;
    const values = s.values;
    const stacks = this.out.sampleLocs;
    for (let i = 0; i < s.count; i++) {
      const vBase = i * V;
      if (allZero(values, vBase, V)) continue;
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
      this.mergeStack(data, base, base + n, values, vBase, s, s.labelStart[i], s.labelStart[i + 1]);
    }
  }

  /** Returns the merged row of source location row `loc`, mapping it on first use. */
  location(loc: number): number {
    const m = this.locMap[loc];
    return m >= 0 ? m : this.mapLocation(loc);
  }

  /**
   * Merges the sample whose translated stack is data[base..end), at the end of out.sampleLocs,
   * with values values[v..v+nValues) and the labels rows from..to of the given columns
   * (source string indexes): sums its values into the equal merged sample, or keeps it.
   */
  mergeStack(
    data: Uint32Array,
    base: number,
    end: number,
    values: Float64Array,
    v: number,
    labels: LabelColumns,
    from: number,
    to: number,
  ): void {
    const hasLabels = !this.dropLabels && to > from;
    const labelSet = hasLabels ? this.labelSetId(labels, from, to) : 0;
    if (this.addSample(data, base, end, labelSet, values, v)) {
      if (hasLabels) this.pushLabels(labels, from, to);
      this.out.sampleLabelStart.push(this.out.labelKey.length);
    }
  }

  /**
   * Looks the sample key (stack data[base..end), label set `labelSet`) up: sums values[v..v+V)
   * into the equal merged sample and returns false, or keeps the stack, appends the values
   * and returns true (the caller then appends the labels and their end).
   */
  private addSample(data: Uint32Array, base: number, end: number, labelSet: number, values: Float64Array, v: number): boolean {
    const V = this.nValues;
    const b = this.out;
    const h = hashWords(data, base, end, Math.imul(labelSet, 0x9e3779b1));
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
        if (starts[id + 1] - s === len && sameWords(data, s, data, base, len)) {
          const out = b.sampleValues.data;
          const o = id * V;
          for (let j = 0; j < V; j++) {
            const sum = out[o + j] + values[v + j];
            if (sum >= TWO_53 || sum < -TWO_53) sumOutOfRange(sum);
            out[o + j] = sum;
          }
          return false;
        }
      }
      slot = (slot + 1) & mask;
    }
    const id = b.sampleCount;
    slots[slot] = id;
    if (id >= this.sampleHash.length) this.sampleHash = grownHashes(this.sampleHash);
    this.sampleHash[id] = h;
    this.sampleLabelSet.push(labelSet);
    b.sampleLocs.length = end;
    b.sampleLocStart.push(end);
    for (let j = 0; j < V; j++) b.sampleValues.push(values[v + j]);
    if ((id + 1) * 2 > mask) this.rehash(this.slots.length * 2);
    return true;
  }

  private rehash(size: number): void {
    this.slots = slotsFor(this.sampleHash, this.out.sampleCount, size);
    this.mask = size - 1;
  }

  /** Appends the labels rows from..to of the given columns (source string indexes) to the merged sample labels. */
  private pushLabels(labels: LabelColumns, from: number, to: number): void {
    const b = this.out;
    const { labelKey: keys, labelStr: strs, labelNum: nums, labelNumUnit: units } = labels;
    for (let l = from; l < to; l++) {
      b.labelKey.push(this.str(keys[l]));
      b.labelStr.push(this.str(strs[l]));
      b.labelNum.push(nums[l]);
      b.labelNumUnit.push(this.str(units[l]));
    }
  }

  /** Returns the merged profile; the merger must not be used further. */
  finish(): Profile {
    this.out.header.timeNanos = this.timeNanos;
    const merged = this.out.finish();
    // Summing can cancel values out (negative deltas); google/pprof then merges again to drop them.
    const V = this.nValues;
    for (let i = 0; i < merged.samples.count; i++) {
      if (allZero(merged.samples.values, i * V, V)) {
        const again = new Merger(merged, this.dropLabels, capacityOf([merged]));
        again.add(merged);
        return again.finish();
      }
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

  /** The merged index of source string `i`. */
  str(i: number): number {
    const m = this.strMap[i];
    if (m >= 0) return m;
    const o = this.out.string(this.src.strings[i]);
    this.strMap[i] = o;
    return o;
  }

  /** Returns the id (1-based) of the sample's label set (see KeyWriter.labelSetKey). */
  private labelSetId(labels: LabelColumns, from: number, to: number): number {
    const w = this.keys.labelSetKey(labels, from, to, this);
    return this.labelSets.intern(this.keys.words, 0, w) + 1;
  }

  private mapFunction(f: number): number {
    const m = this.fnMap[f];
    if (m >= 0) return m;
    const w = this.keys.functionKey(this.src.functions, f, this);
    const words = this.keys.words;
    const before = this.functionKeys.count;
    const row = this.functionKeys.intern(words, 0, w);
    if (row === before) this.out.addFunctionIndexes(words[0], words[1], words[2], this.src.functions.startLine[f]);
    this.fnMap[f] = row;
    return row;
  }

  private mapMapping(m: number): number {
    const mapped = this.mapMap[m];
    if (mapped >= 0) return mapped;
    const maps = this.src.mappings;
    const strings = this.src.strings;
    const start = maps.memoryStart[m];
    const key = mappingKey(start, maps.memoryLimit[m], maps.fileOffset[m], strings[maps.buildId[m]], strings[maps.filename[m]]);
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
    for (let l = a; l < b; l++) {
      const f = locs.lineFunction[l];
      if (f >= 0 && this.fnMap[f] < 0) this.mapFunction(f);
    }
    const w = this.keys.locationKey(locs, loc, mapping, lo, hi, this.fnMap);
    const before = this.locationKeys.count;
    const row = this.locationKeys.intern(this.keys.words, 0, w);
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
