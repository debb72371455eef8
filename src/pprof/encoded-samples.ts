import { DecodeBudget } from './budget.js';
import type { ProfileTables } from './decode.js';
import { SAMPLE_LABEL_BYTES } from './decode-costs.js';
import {
  readLabelMessage,
  readLocationIds,
  readValueField,
  tooManyValues,
  truncatedStack,
  unknownLocation,
  wrongValueCount,
} from './decode-samples.js';
import { ProfileError } from './errors.js';
import { GrowableFloat64, GrowableInt32 } from './growable.js';
import type { IdTable } from './id-table.js';
import type { LabelColumns } from './merge-keys.js';
import { allZero, type Merger } from './merger.js';
import { ProtoReader } from './proto-reader.js';

/** Location words at or above this in a stack being read are ~(source row), not yet mapped. */
const MISS = 0x80000000;

/**
 * Reads the samples of a profile straight from its wire bytes into a Merger: location ids
 * are translated to merged rows as they are read, so no sample table is built for the input.
 * The result is the same as merger.add(decodeProfile(bytes)), and so are the errors for bad
 * samples: every field Go does not write the way the fast paths expect, and every malformed
 * one, is read by the same general code as decodeProfile's (decode-samples.ts).
 *
 * The work is split into small methods on purpose: in a short-lived process (the CLI) most
 * of this code runs before V8 has optimized it, and small functions are optimized sooner
 * and thrown away (deoptimized) less often than one big loop, whose every rare branch costs
 * a deoptimization and a recompilation the first time it is taken.
 */
export class EncodedSampleReader {
  private readonly merger: Merger;
  /** Values of the sample being read. */
  private readonly values: Float64Array;
  // Labels of the sample being read, source string indexes.
  private readonly labelKey = new GrowableInt32(16);
  private readonly labelStr = new GrowableInt32(16);
  private readonly labelNum = new GrowableFloat64(16);
  private readonly labelNumUnit = new GrowableInt32(16);
  /** The label scratch columns' current arrays, for Merger.mergeStack. */
  private readonly labels: LabelColumns = {
    labelKey: this.labelKey.data,
    labelStr: this.labelStr.data,
    labelNum: this.labelNum.data,
    labelNumUnit: this.labelNumUnit.data,
  };
  /** One label as readLabelMessage reads it. */
  private readonly label = new Float64Array(4);

  // The source being read (set by merge()).
  private buf: Buffer = Buffer.alloc(0);
  private reader = new ProtoReader(this.buf);
  private locationIds: IdTable | null = null;
  /** Location row → proto id of the source. */
  private locationIdOf: Float64Array = new Float64Array(0);
  private nStrings = 0;
  /** Location id → merged row, for the ids met so far in this source (-1: not yet). */
  private known = new Int32Array(0);
  /** Count of location ids read whose merged row was not known (see readStack). */
  private misses = 0;
  /** Number of labels read so far in this source, for error messages. */
  private labelRow = 0;
  /** The budget of the source being read. */
  private budget = new DecodeBudget(0);

  constructor(merger: Merger) {
    this.merger = merger;
    this.values = new Float64Array(merger.nValues);
  }

  /**
   * Merges every sample of `t` (whose profile is validated) into the merger, charging the
   * stacks and labels read to (a fork of) t.budget as decodeProfile charges its sample table.
   */
  merge(t: ProfileTables): void {
    this.merger.begin(t.profile);
    this.buf = t.buf;
    this.reader = new ProtoReader(t.buf);
    this.locationIds = t.locationIds;
    this.locationIdOf = t.profile.locations.id;
    this.nStrings = t.profile.strings.length;
    this.known = new Int32Array(t.locationIds.dense.length).fill(-1);
    this.labelRow = 0;
    const budget = t.budget.fork();
    this.budget = budget;
    const ranges = t.sampleRanges;
    const stacks = this.merger.out.sampleLocs;
    for (let i = 0; i < ranges.length; i += 2) {
      const start = ranges[i];
      const end = ranges[i + 1];
      // The stack is read onto the end of the merged stacks, and kept there only if new.
      // Every location id takes at least one byte, so the sample's length bounds its stack.
      const base = stacks.length;
      stacks.reserve(base + (end - start));
      const misses = this.misses;
      const k = this.readSample(start, end, stacks.data, base, i >> 1);
      // What decodeProfile's sample table would hold of this sample.
      budget.charge(4 * (k - base) + SAMPLE_LABEL_BYTES * this.labelKey.length, 'sample location ids and labels');
      this.mergeSample(stacks.data, base, k, this.misses !== misses);
    }
  }

  /**
   * Reads the sample message buf[start..end): its stack into data[base..] (see readStack), its
   * values into this.values, its labels into the label scratch columns. Returns the stack's end.
   * Checks what decodeProfile checks of a sample; accepts any field order, packed or not.
   */
  private readSample(start: number, end: number, data: Uint32Array, base: number, sample: number): number {
    const buf = this.buf;
    const r = this.reader;
    const V = this.values.length;
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
      const field = r.readTagAt(pos, end);
      const wire = r.wire;
      if (field === 1) {
        const from = k;
        k = readLocationIds(r, wire, this.locationIds as IdTable, sample, data, k);
        // Marked as not mapped yet (see readStack), for mergeSample.
        for (let q = from; q < k; q++) data[q] = ~data[q];
        this.misses++;
      } else if (field === 2) {
        v = readValueField(r, wire, this.values, v, V);
        if (v < 0) tooManyValues(sample, V);
      } else if (field === 3 && wire === 2) {
        readLabelMessage(r, this.label);
        this.pushLabel(this.label[0], this.label[1], this.label[2], this.label[3]);
      } else {
        r.skip(wire, field);
      }
      pos = r.pos;
    }
    if (v !== V) wrongValueCount(sample, v, V);
    return k;
  }

  /**
   * Reads packed location ids buf[pos..end) into data[k..] and returns the new k. An id whose
   * merged row is known is written as that row; any other as ~(its source row), which has
   * the top bit set, so mergeSample maps it only if the sample is kept (a location is mapped
   * on its first use by a kept sample, as Merger.add does). Throws for an id that does not exist.
   */
  private readStack(pos: number, end: number, data: Uint32Array, k: number, sample: number): number {
    const known = this.known;
    const knownLength = known.length;
    const r = this.reader;
    r.pos = pos;
    while (r.pos < end) {
      let id = r.smallUint();
      if (id < 0) {
        r.end = end;
        id = r.uint('sample location_id');
      }
      const m = id < knownLength ? known[id] : -1;
      data[k++] = m >= 0 ? m : this.missing(sample, id);
    }
    pos = r.pos;
    if (pos > end) truncatedStack(sample);
    return k;
  }

  /** Returns ~(source row) of a location id of the current source (see readStack), or throws when it does not exist. */
  private missing(sample: number, locId: number): number {
    const row = (this.locationIds as IdTable).row(locId);
    if (row < 0) unknownLocation(sample, locId);
    this.misses++;
    return ~row;
  }

  /**
   * Reads packed values buf[pos..end), all varints below 2^28, into this.values from index v,
   * and returns how many; returns -1 when the field holds anything else (a longer varint, one
   * that runs past the end, too many values), for the general path to read (or reject) it.
   */
  private readValues(pos: number, end: number, v: number): number {
    const values = this.values;
    const V = values.length;
    const first = v;
    const r = this.reader;
    r.pos = pos;
    while (r.pos < end) {
      const x = r.smallUint();
      if (x < 0 || r.pos > end || v === V) return -1;
      values[v++] = x;
    }
    return v - first;
  }

  /**
   * Reads the label message buf[pos..end) when it is made only of fields 1-4 with varints
   * below 2^28 (what Go writes), pushing it as the general path does; returns false, having
   * pushed nothing, for anything else (a negative number, another field...).
   */
  private readLabelFast(pos: number, end: number): boolean {
    const buf = this.buf;
    let key = 0;
    let str = 0;
    let num = 0;
    let numUnit = 0;
    const r = this.reader;
    r.pos = pos;
    while (r.pos < end) {
      const tag = buf[r.pos++];
      const x = r.smallUint();
      if (x < 0 || r.pos > end) return false;
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
    const nStrings = this.nStrings;
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
      `sample label ${this.labelRow} ${what} refers to string index ${index} but the string table has ${this.nStrings} entries`,
    );
  }

  /**
   * Merges the sample just read by readSample, whose stack is data[base..end): drops it if all
   * its values are zero, else maps its new locations (in stack order, as Merger.add does) and
   * merges it.
   */
  private mergeSample(data: Uint32Array, base: number, end: number, missed: boolean): void {
    const values = this.values;
    if (allZero(values, 0, values.length)) return;
    const merger = this.merger;
    if (missed) {
      const locIds = this.locationIdOf;
      const known = this.known;
      for (let q = base; q < end; q++) {
        const x = data[q];
        if (x >= MISS) {
          const row = ~x;
          const m = merger.location(row);
          data[q] = m;
          const id = locIds[row];
          if (id < known.length) known[id] = m;
        }
      }
    }
    const labels = this.labels;
    labels.labelKey = this.labelKey.data;
    labels.labelStr = this.labelStr.data;
    labels.labelNum = this.labelNum.data;
    labels.labelNumUnit = this.labelNumUnit.data;
    merger.mergeStack(data, base, end, values, 0, labels, 0, this.labelKey.length);
  }
}
