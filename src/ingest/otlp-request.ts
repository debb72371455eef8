import { DecodeBudget } from '../pprof/budget.js';
import { ProfileError } from '../pprof/errors.js';
import { expectWire, ProtoReader } from '../pprof/proto-reader.js';
import {
  type AttributeValue,
  checkIndex,
  decodeDictionary,
  type OtlpDictionary,
  outOfRange,
  outside,
  readAnyValue,
} from './otlp-dictionary.js';

/**
 * An ExportProfilesServiceRequest (opentelemetry-proto collector/profiles/v1development, the
 * message layout of proto v1.10: a shared ProfilesDictionary, samples that point at stack_table
 * and hold their own values and timestamps, one sample_type per profile), as sent by
 * go.opentelemetry.io/collector/pdata/pprofile's pprofileotlp.ExportRequest (pdata v1.71.0 /
 * pprofile v0.165.0) and by the OpenTelemetry Collector's otlphttp exporter.
 *
 * Guarantees of a decoded request: every index it holds (sample -> stack, link, attribute;
 * profile -> attribute; value type -> string) is within its dictionary table, every sample's
 * value is a finite number within ±2^53, and there are at most `maxProfiles` profiles.
 */
export interface OtlpRequest {
  dictionary: OtlpDictionary;
  /** The resource of each resource_profiles entry, in order. */
  resources: OtlpResource[];
  /** Every profile of every resource and scope, in wire order. */
  profiles: OtlpProfile[];
  /**
   * The memory the request may still take once decoded: what is left of its DecodeBudget, but at
   * least CONVERSION_FLOOR_BYTES, since pprof repeats per sample the stacks OTLP shares, so a
   * small request may rightly convert to a much larger profile. Converting charges it.
   */
  conversionBudget: DecodeBudget;
}

/** Room for converting any request to pprof, however small it is: the default decompression limit. */
export const CONVERSION_FLOOR_BYTES = 64 * 1024 * 1024;

export interface OtlpResource {
  /** Resource attributes as [key, value], in wire order. */
  attributes: Array<[string, AttributeValue]>;
}

export interface OtlpProfile {
  /** Index into OtlpRequest.resources. */
  resource: number;
  /** sample_type as string_table indexes. */
  sampleType: { type: number; unit: number };
  periodType: { type: number; unit: number };
  /** period, within ±2^53. */
  period: number;
  timeUnixNano: bigint;
  durationNano: bigint;
  /** attribute_table indexes of the profile's own attributes. */
  attributeIndices: Int32Array;
  samples: {
    count: number;
    /** stack_table index of each sample. */
    stack: Int32Array;
    /**
     * The total of each sample: the sum of its values, or, for a sample of timestamps only, one
     * per timestamp (as the spec says consumers must assume).
     */
    value: Float64Array;
    /** The attributes of sample i are attrs[attrStart[i] .. attrStart[i+1]] (attribute_table indexes). */
    attrStart: Uint32Array;
    attrs: Int32Array;
  };
}

/** Limits on one request besides its byte size (the server's body and decompression limits). */
export interface OtlpRequestLimits {
  /** Most profiles in one request: each becomes a stored profile. */
  maxProfiles: number;
  /** Most attributes of one resource. */
  maxResourceAttributes: number;
}

const utf8 = new TextDecoder('utf-8');

/** Bytes charged per resource attribute: the pair, its key string and the value slot. */
const RESOURCE_ATTRIBUTE_BYTES = 96;
/** Bytes charged per profile record besides its sample columns. */
const PROFILE_BYTES = 256;

/**
 * Decodes an ExportProfilesServiceRequest. The dictionary is decoded first, wherever it is in
 * the message, so every reference can be checked as it is read; the memory decoding allocates
 * is charged to a DecodeBudget of the request's size before it is allocated. Throws ProfileError
 * naming the field that is malformed, refers outside its table or passes a limit (the message
 * then starts with "too many" for a limit).
 */
export function decodeOtlpRequest(buf: Uint8Array, limits: OtlpRequestLimits): OtlpRequest {
  const budget = new DecodeBudget(buf.length);
  const r = new ProtoReader(buf);
  const resourceRanges: Array<[number, number]> = [];
  const dictionaryRanges: Array<[number, number]> = [];
  while (r.pos < r.end) {
    const field = r.readTag();
    if (field === 1 || field === 2) {
      expectWire(r.wire, 2, field === 1 ? 'resource_profiles' : 'dictionary');
      const end = r.delimitedEnd(field === 1 ? 'resource_profiles' : 'dictionary');
      budget.charge(32, field === 1 ? 'resource_profiles entries' : 'dictionary fields');
      (field === 1 ? resourceRanges : dictionaryRanges).push([r.pos, end]);
      r.pos = end;
    } else {
      r.skip(r.wire, field);
    }
  }
  const dictionary = decodeDictionary(buf, dictionaryRanges, budget);
  const out: OtlpRequest = { dictionary, resources: [], profiles: [], conversionBudget: budget };
  for (const [start, end] of resourceRanges) {
    decodeResourceProfiles(new ProtoReader(buf, start, end), out, limits, budget);
  }
  out.conversionBudget = new DecodeBudget(buf.length, Math.max(budget.limitBytes - budget.usedBytes, CONVERSION_FLOOR_BYTES));
  return out;
}

function decodeResourceProfiles(r: ProtoReader, out: OtlpRequest, limits: OtlpRequestLimits, budget: DecodeBudget): void {
  const index = out.resources.length;
  const resource: OtlpResource = { attributes: [] };
  out.resources.push(resource);
  const end = r.end;
  while (r.pos < end) {
    const field = r.readTag();
    if (field === 1 && r.wire === 2) {
      const resourceEnd = r.delimitedEnd(`resource_profiles[${index}].resource`);
      resource.attributes = decodeResource(r, resourceEnd, out.dictionary, limits, budget, index);
      r.pos = resourceEnd;
      r.end = end;
    } else if (field === 2 && r.wire === 2) {
      const scopeEnd = r.delimitedEnd(`resource_profiles[${index}].scope_profiles`);
      decodeScopeProfiles(r, scopeEnd, out, index, limits, budget);
      r.pos = scopeEnd;
      r.end = end;
    } else {
      r.skip(r.wire, field);
    }
  }
}

function decodeResource(
  r: ProtoReader,
  end: number,
  dict: OtlpDictionary,
  limits: OtlpRequestLimits,
  budget: DecodeBudget,
  index: number,
): Array<[string, AttributeValue]> {
  const what = `resource_profiles[${index}].resource`;
  // Count first: a resource of a million attributes is refused before any is decoded.
  const start = r.pos;
  r.end = end;
  let count = 0;
  while (r.pos < end) {
    const field = r.readTag();
    if (field === 1 && r.wire === 2) count++;
    r.skip(r.wire, field);
  }
  if (count > limits.maxResourceAttributes) {
    throw new ProfileError(`too many attributes in ${what}: ${count}, the limit is ${limits.maxResourceAttributes}`);
  }
  budget.charge(count * RESOURCE_ATTRIBUTE_BYTES, `${count} resource attributes`);
  const attributes: Array<[string, AttributeValue]> = [];
  r.pos = start;
  while (r.pos < end) {
    const field = r.readTag();
    if (field === 1 && r.wire === 2) {
      const kvEnd = r.delimitedEnd(`${what} attribute`);
      attributes.push(decodeKeyValue(r, kvEnd, dict, budget, `${what}.attributes[${attributes.length}]`));
      r.pos = kvEnd;
      r.end = end;
    } else {
      r.skip(r.wire, field);
    }
  }
  return attributes;
}

/** Reads a KeyValue (key or key_strindex, value) that ends at `end`. */
function decodeKeyValue(r: ProtoReader, end: number, dict: OtlpDictionary, budget: DecodeBudget, what: string): [string, AttributeValue] {
  let key = '';
  let value: AttributeValue = null;
  while (r.pos < end) {
    r.end = end;
    const field = r.readTag();
    if (field === 1 && r.wire === 2) {
      const keyEnd = r.delimitedEnd(`${what} key`);
      budget.charge(2 * (keyEnd - r.pos), `${what} key`);
      key = utf8.decode(r.buf.subarray(r.pos, keyEnd));
      r.pos = keyEnd;
    } else if (field === 3 && r.wire === 0) {
      key = dict.strings[checkIndex(r.int(`${what} key_strindex`), dict.strings.length, `${what} key_strindex`, 'string_table')];
    } else if (field === 2 && r.wire === 2) {
      const valueEnd = r.delimitedEnd(`${what} value`);
      value = readAnyValue(r, valueEnd, dict.strings, budget, `${what} value`);
      r.pos = valueEnd;
    } else {
      r.skip(r.wire, field);
    }
  }
  return [key, value];
}

function decodeScopeProfiles(
  r: ProtoReader,
  end: number,
  out: OtlpRequest,
  resource: number,
  limits: OtlpRequestLimits,
  budget: DecodeBudget,
): void {
  const profileRanges: Array<[number, number]> = [];
  r.end = end;
  while (r.pos < end) {
    const field = r.readTag();
    // The instrumentation scope (field 1) and schema_url (3) are skipped: not kept.
    if (field === 2 && r.wire === 2) {
      const profileEnd = r.delimitedEnd('profile');
      if (out.profiles.length + profileRanges.length >= limits.maxProfiles) {
        throw new ProfileError(`too many profiles in one request: more than ${limits.maxProfiles}; send them in several requests`);
      }
      profileRanges.push([r.pos, profileEnd]);
      r.pos = profileEnd;
    } else {
      r.skip(r.wire, field);
    }
  }
  for (const [start, profileEnd] of profileRanges) {
    budget.charge(PROFILE_BYTES, 'profiles');
    const index = out.profiles.length;
    try {
      out.profiles.push(decodeProfile(new ProtoReader(r.buf, start, profileEnd), out.dictionary, resource, index, budget));
    } catch (err) {
      // Wire errors inside a profile name a field and a byte; say which profile too.
      if (err instanceof ProfileError && !err.message.startsWith('profile ')) throw new ProfileError(`profile ${index}: ${err.message}`);
      throw err;
    }
  }
}

function decodeValueType(r: ProtoReader, end: number, dict: OtlpDictionary, what: string): { type: number; unit: number } {
  const vt = { type: 0, unit: 0 };
  const outer = r.end;
  r.end = end;
  while (r.pos < end) {
    const field = r.readTag();
    if (field === 1 && r.wire === 0)
      vt.type = checkIndex(r.int(`${what}.type_strindex`), dict.strings.length, `${what}.type_strindex`, 'string_table');
    else if (field === 2 && r.wire === 0)
      vt.unit = checkIndex(r.int(`${what}.unit_strindex`), dict.strings.length, `${what}.unit_strindex`, 'string_table');
    else r.skip(r.wire, field);
  }
  r.end = outer;
  return vt;
}

function decodeProfile(r: ProtoReader, dict: OtlpDictionary, resource: number, index: number, budget: DecodeBudget): OtlpProfile {
  const what = `profile ${index}`;
  const end = r.end;
  const start = r.pos;
  // First pass: the header fields, and the samples' count and total attribute indexes.
  let sampleCount = 0;
  let attrTotal = 0;
  let profileAttrs = 0;
  const p: OtlpProfile = {
    resource,
    sampleType: { type: 0, unit: 0 },
    periodType: { type: 0, unit: 0 },
    period: 0,
    timeUnixNano: 0n,
    durationNano: 0n,
    attributeIndices: new Int32Array(0),
    samples: { count: 0, stack: new Int32Array(0), value: new Float64Array(0), attrStart: new Uint32Array(1), attrs: new Int32Array(0) },
  };
  while (r.pos < end) {
    const field = r.readTag();
    if (field === 1 && r.wire === 2) {
      p.sampleType = decodeValueType(r, r.delimitedEnd(`${what} sample_type`), dict, `${what} sample_type`);
    } else if (field === 2 && r.wire === 2) {
      const sampleEnd = r.delimitedEnd('sample');
      r.end = sampleEnd;
      while (r.pos < sampleEnd) {
        const f = r.readTag();
        const wire: number = r.wire;
        if (f === 2 && wire === 2) {
          const attrsEnd = r.delimitedEnd('sample attribute_indices');
          for (let q = r.pos; q < attrsEnd; q++) if (r.buf[q] < 0x80) attrTotal++;
          r.pos = attrsEnd;
        } else {
          if (f === 2 && wire === 0) attrTotal++;
          r.skip(wire, f);
        }
      }
      r.end = end;
      sampleCount++;
    } else if (field === 3 && r.wire === 1) {
      if (r.pos + 8 > end) throw new ProfileError(`${what} time_unix_nano runs past the end of the profile`);
      p.timeUnixNano = new DataView(r.buf.buffer, r.buf.byteOffset + r.pos, 8).getBigUint64(0, true);
      r.pos += 8;
    } else if (field === 4 && r.wire === 0) {
      p.durationNano = r.uint64();
    } else if (field === 5 && r.wire === 2) {
      p.periodType = decodeValueType(r, r.delimitedEnd(`${what} period_type`), dict, `${what} period_type`);
    } else if (field === 6 && r.wire === 0) {
      p.period = r.int(`${what} period`);
    } else if (field === 11 && r.wire === 2) {
      const listEnd = r.delimitedEnd(`${what} attribute_indices`);
      for (let q = r.pos; q < listEnd; q++) if (r.buf[q] < 0x80) profileAttrs++;
      r.pos = listEnd;
    } else if (field === 11 && r.wire === 0) {
      profileAttrs++;
      r.readRawVarint();
    } else {
      r.skip(r.wire, field);
    }
  }

  budget.chargeTables([
    { what: `${sampleCount} samples in ${what}`, bytes: sampleCount * (4 + 8 + 4) + 4 },
    { what: `${attrTotal} sample attribute indexes in ${what}`, bytes: attrTotal * 4 },
    { what: `${profileAttrs} attribute indexes of ${what}`, bytes: profileAttrs * 4 },
  ]);
  const s = {
    count: sampleCount,
    stack: new Int32Array(sampleCount),
    value: new Float64Array(sampleCount),
    attrStart: new Uint32Array(sampleCount + 1),
    attrs: new Int32Array(attrTotal),
  };
  p.samples = s;
  const profileAttributes = new Int32Array(profileAttrs);
  p.attributeIndices = profileAttributes;
  let nProfileAttrs = 0;
  let sample = 0;
  let k = 0;
  r.pos = start;
  r.end = end;
  while (r.pos < end) {
    const field = r.readTag();
    if (field === 2 && r.wire === 2) {
      const sampleEnd = r.delimitedEnd('sample');
      s.attrStart[sample] = k;
      k = decodeSample(r, sampleEnd, dict, s, sample, k, what);
      r.pos = sampleEnd;
      r.end = end;
      sample++;
    } else if (field === 11 && (r.wire === 2 || r.wire === 0)) {
      const listEnd = r.repeatedEnd(r.wire, `${what} attribute_indices`);
      while (r.pos < listEnd && r.pos < r.end) {
        const a = r.int('attribute index');
        if (outside(a, dict.attributes.count)) throw outOfRange(`${what} attribute index`, a, 'attribute_table', dict.attributes.count);
        profileAttributes[nProfileAttrs++] = a;
      }
      r.end = end;
    } else {
      r.skip(r.wire, field);
    }
  }
  s.attrStart[sample] = k;
  return p;
}

/** "profile 0 sample 3", built only for an error message. */
function sampleName(profile: string, row: number): string {
  return `${profile} sample ${row}`;
}

/** Reads one sample (of the profile `what` names) into row `row` of `s`; returns the next free row of s.attrs. */
function decodeSample(
  r: ProtoReader,
  end: number,
  dict: OtlpDictionary,
  s: OtlpProfile['samples'],
  row: number,
  k: number,
  what: string,
): number {
  let valueCount = 0;
  let total = 0;
  let timestamps = 0;
  r.end = end;
  while (r.pos < end) {
    const field = r.readTag();
    if (field === 1 && r.wire === 0) {
      const stack = r.int('stack_index');
      if (outside(stack, dict.stacks.count))
        throw outOfRange(`${sampleName(what, row)} stack_index`, stack, 'stack_table', dict.stacks.count);
      s.stack[row] = stack;
    } else if (field === 2 && (r.wire === 0 || r.wire === 2)) {
      const listEnd = r.repeatedEnd(r.wire, 'sample attribute_indices');
      while (r.pos < listEnd && r.pos < r.end) {
        const a = r.int('sample attribute index');
        if (outside(a, dict.attributes.count)) {
          throw outOfRange(`${sampleName(what, row)} attribute index`, a, 'attribute_table', dict.attributes.count);
        }
        s.attrs[k++] = a;
      }
      r.end = end;
    } else if (field === 3 && r.wire === 0) {
      const link = r.int('link_index');
      if (outside(link, dict.linkCount)) throw outOfRange(`${sampleName(what, row)} link_index`, link, 'link_table', dict.linkCount);
    } else if (field === 4 && (r.wire === 0 || r.wire === 2)) {
      const listEnd = r.repeatedEnd(r.wire, 'sample values');
      while (r.pos < listEnd && r.pos < r.end) {
        total += r.int('sample value');
        valueCount++;
      }
      r.end = end;
    } else if (field === 5 && r.wire === 2) {
      const listEnd = r.delimitedEnd('sample timestamps_unix_nano');
      const bytes = listEnd - r.pos;
      if (bytes % 8 !== 0)
        throw new ProfileError(`${sampleName(what, row)} timestamps_unix_nano is ${bytes} bytes, not a whole number of 8-byte timestamps`);
      timestamps += bytes / 8;
      r.pos = listEnd;
    } else if (field === 5 && r.wire === 1) {
      timestamps++;
      r.skip(1, field);
    } else {
      r.skip(r.wire, field);
    }
  }
  if (valueCount > 0 && timestamps > 0 && valueCount !== timestamps) {
    throw new ProfileError(
      `${sampleName(what, row)} has ${valueCount} values and ${timestamps} timestamps: when both are given they must be as many (one value per timestamp)`,
    );
  }
  if (valueCount === 0 && timestamps === 0) {
    throw new ProfileError(`${sampleName(what, row)} has neither values nor timestamps: a sample must have at least one of them`);
  }
  const value = valueCount > 0 ? total : timestamps;
  if (!Number.isSafeInteger(value)) throw new ProfileError(`${sampleName(what, row)}: its values add up to ${value}, beyond ±2^53`);
  s.value[row] = value;
  return k;
}
