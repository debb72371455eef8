import type { DecodeBudget } from './budget.js';
import { resizedUint32, SAMPLE_LABEL_BYTES, wasteful } from './decode-costs.js';
import type { Ranges } from './decode-top-level.js';
import { ProfileError } from './errors.js';
import { GrowableFloat64, GrowableInt32, projectedCapacity } from './growable.js';
import type { IdTable } from './id-table.js';
import type { SampleTable } from './profile.js';
import { ProtoReader } from './proto-reader.js';

/**
 * Decodes the sample records at `ranges`, whose lengths sum to `sampleBytes`. The fixed part
 * of the table (starts, values) was charged by decodeProfileTables; stacks and labels grow by
 * projection (projectedCapacity), charged to `budget`, and end in arrays of about their size.
 */
export function decodeSamples(
  buf: Uint8Array,
  ranges: Ranges,
  sampleBytes: number,
  locationIds: IdTable,
  valuesPerSample: number,
  budget: DecodeBudget,
): SampleTable {
  const n = ranges.length >> 1;
  const locStart = new Uint32Array(n + 1);
  // A location reference takes one byte at least, so a sample's bytes bound its stack and
  // all sample bytes bound all stacks; the first 1/32 read tells how many there will be.
  let locCapacity = Math.min(sampleBytes, 1024 + (sampleBytes >> 5));
  budget.charge(4 * locCapacity, 'sample location ids');
  let locs = new Uint32Array(locCapacity);
  let nLocs = 0;
  let consumed = 0;
  const values = new Float64Array(n * valuesPerSample);
  const label = new Float64Array(4);
  const labelStart = new Uint32Array(n + 1);
  let labelCapacity = 16;
  budget.charge(SAMPLE_LABEL_BYTES * labelCapacity, 'sample labels');
  const labelKey = new GrowableInt32(labelCapacity);
  const labelStr = new GrowableInt32(labelCapacity);
  const labelNum = new GrowableFloat64(labelCapacity);
  const labelNumUnit = new GrowableInt32(labelCapacity);
  const r = new ProtoReader(buf);
  const dense = locationIds.dense;
  const denseLength = dense.length;

  for (let i = 0; i < n; i++) {
    let pos = ranges[2 * i];
    const end = ranges[2 * i + 1];
    if (nLocs + (end - pos) > locCapacity) {
      locCapacity = projectedCapacity(locCapacity, nLocs + (end - pos), nLocs, consumed, sampleBytes, sampleBytes);
      budget.charge(4 * locCapacity, 'sample location ids');
      locs = resizedUint32(locs, locCapacity);
    }
    consumed += end - pos;
    let v = i * valuesPerSample;
    const vEnd = v + valuesPerSample;
    while (pos < end) {
      const tag = buf[pos];
      // Fast path: packed location ids with a one-byte length prefix, ids below 2^21 decoded
      // inline; this loop is most of the time spent decoding a CPU profile.
      if (tag === 0x0a && buf[pos + 1] < 0x80) {
        const fieldEnd = pos + 2 + buf[pos + 1];
        if (fieldEnd > end) {
          r.pos = pos + 1;
          r.end = end;
          r.delimitedEnd('sample location_id');
        }
        pos += 2;
        // The one hand-inlined varint read left (ProtoReader.smallUint everywhere else): with
        // smallUint here, decodeProfile of the bench/merge inputs took 4% longer (23.2 vs
        // 22.2 ms, medians of 6 processes each, alternating). Longer ids go to the reader.
        while (pos < fieldEnd) {
          const b0 = buf[pos];
          let id: number;
          if (b0 < 0x80) {
            id = b0;
            pos += 1;
          } else if (buf[pos + 1] < 0x80) {
            id = (b0 & 0x7f) | (buf[pos + 1] << 7);
            pos += 2;
          } else if (buf[pos + 2] < 0x80) {
            id = (b0 & 0x7f) | ((buf[pos + 1] & 0x7f) << 7) | (buf[pos + 2] << 14);
            pos += 3;
          } else {
            r.pos = pos;
            r.end = fieldEnd;
            id = r.uint('sample location_id');
            pos = r.pos;
          }
          const row = id < denseLength ? dense[id] : locationIds.row(id);
          if (row < 0) unknownLocation(i, id);
          locs[nLocs] = row;
          nLocs += 1;
        }
        if (pos > fieldEnd) truncatedStack(i);
        continue;
      }
      const field = r.readTagAt(pos, end);
      const wire = r.wire;
      if (field === 1) {
        nLocs = readLocationIds(r, wire, locationIds, i, locs, nLocs);
      } else if (field === 2) {
        v = readValueField(r, wire, values, v, vEnd);
        if (v < 0) tooManyValues(i, valuesPerSample);
      } else if (field === 3 && wire === 2) {
        readLabelMessage(r, label);
        if (labelKey.length === labelCapacity) {
          // A label takes two bytes at least (an empty message).
          const done = consumed - end + r.pos;
          labelCapacity = projectedCapacity(labelCapacity, labelCapacity + 1, labelCapacity, done, sampleBytes, sampleBytes >> 1);
          budget.charge(SAMPLE_LABEL_BYTES * labelCapacity, 'sample labels');
          labelKey.resize(labelCapacity);
          labelStr.resize(labelCapacity);
          labelNum.resize(labelCapacity);
          labelNumUnit.resize(labelCapacity);
        }
        labelKey.push(label[0]);
        labelStr.push(label[1]);
        labelNum.push(label[2]);
        labelNumUnit.push(label[3]);
      } else {
        r.skip(wire, field);
      }
      pos = r.pos;
    }
    if (v !== vEnd) wrongValueCount(i, v - i * valuesPerSample, valuesPerSample);
    locStart[i + 1] = nLocs;
    labelStart[i + 1] = labelKey.length;
  }
  // Stacks and labels are kept in exact-size arrays when their projection overshot.
  const trimLocs = wasteful(locCapacity, nLocs);
  if (trimLocs) budget.charge(4 * nLocs, 'sample location ids');
  const nLabels = labelKey.length;
  const trimLabels = wasteful(labelCapacity, nLabels);
  if (trimLabels) budget.charge(SAMPLE_LABEL_BYTES * nLabels, 'sample labels');
  return {
    count: n,
    locStart,
    locs: trimLocs ? locs.slice(0, nLocs) : locs.subarray(0, nLocs),
    values,
    labelStart,
    labelKey: trimLabels ? labelKey.finish().slice() : labelKey.finish(),
    labelStr: trimLabels ? labelStr.finish().slice() : labelStr.finish(),
    labelNum: trimLabels ? labelNum.finish().slice() : labelNum.finish(),
    labelNumUnit: trimLabels ? labelNumUnit.finish().slice() : labelNumUnit.finish(),
  };
}

/**
 * Reads a Sample.location_id field (packed, or one unpacked id) whose tag was just read, and
 * writes the location row of each id into out from index k; returns the next index.
 * Throws ProfileError for an id no location has. Shared by decodeProfile and the encoded
 * merger, which take their fast paths before this one; `out` has room for every id the
 * field can hold (one byte each at least).
 */
export function readLocationIds(r: ProtoReader, wire: number, ids: IdTable, sample: number, out: Uint32Array, k: number): number {
  const end = r.repeatedEnd(wire, 'sample location_id');
  while (r.pos < end) {
    const id = r.uint('sample location_id');
    const row = ids.row(id);
    if (row < 0) unknownLocation(sample, id);
    out[k++] = row;
  }
  return k;
}

/** Throws the error for a sample that refers to a location id no location has. */
export function unknownLocation(sample: number, id: number): never {
  throw new ProfileError(`sample ${sample} refers to location id ${id}, which does not exist`);
}

/** Throws the error for a packed location id that runs past the end of its field. */
export function truncatedStack(sample: number): never {
  throw new ProfileError(`truncated protobuf: sample ${sample} has a varint that runs past the end of its field`);
}

/** Throws the error for a sample with more values than sample types. */
export function tooManyValues(sample: number, valuesPerSample: number): never {
  throw new ProfileError(`sample ${sample} has more values than the profile's ${valuesPerSample} sample types`);
}

/** Throws the error for a sample whose `values` are not one per sample type. */
export function wrongValueCount(sample: number, values: number, valuesPerSample: number): never {
  throw new ProfileError(`sample ${sample} has ${values} values but the profile has ${valuesPerSample} sample types`);
}

/**
 * Reads a Sample.value field (packed, or one unpacked value) whose tag was just read, into
 * `values` from index v; returns the next index, or -1 when the values would pass `vEnd`.
 * Shared by decodeProfile and the encoded merger, which take their fast paths before this one.
 */
export function readValueField(r: ProtoReader, wire: number, values: Float64Array, v: number, vEnd: number): number {
  const end = r.repeatedEnd(wire, 'sample value');
  while (r.pos < end) {
    if (v === vEnd) return -1;
    values[v++] = r.int('sample value');
  }
  return v;
}

/**
 * Reads a Sample.label message whose tag was just read into out = [key, str, num, num_unit]
 * (string indexes as written, for the caller to check). Shared by decodeProfile and the encoded
 * merger.
 */
export function readLabelMessage(r: ProtoReader, out: Float64Array): void {
  const fieldEnd = r.delimitedEnd('sample label');
  r.end = fieldEnd;
  out.fill(0);
  while (r.pos < fieldEnd) {
    const f = r.readTag();
    const w = r.wire;
    if (w !== 0) r.skip(w, f);
    else if (f === 1) out[0] = r.index('label key');
    else if (f === 2) out[1] = r.index('label str');
    else if (f === 3) out[2] = r.int('label num');
    else if (f === 4) out[3] = r.index('label num_unit');
    else r.skip(w, f);
  }
}
