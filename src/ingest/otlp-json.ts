import { ProfileError } from '../pprof/errors.js';
import { ProtoWriter } from '../pprof/proto-writer.js';
import { jsonShapeViolation } from './json-shape.js';

/**
 * OTLP/JSON for profiles: the protobuf JSON mapping of the same ExportProfilesServiceRequest
 * (see otlp-request.ts), with the OTLP rules on top: trace, span and profile ids are hex, not
 * base64; 64-bit integers may be numbers or decimal strings; unknown fields are ignored. Field
 * names are accepted in lowerCamelCase (what exporters send) and as written in the .proto.
 *
 * The JSON is transcoded to protobuf bytes, which decodeOtlpRequest then reads with every check
 * and budget it applies to a protobuf request, so both encodings are refused for the same
 * reasons with the same messages.
 */

/** Deepest nesting of objects and arrays: an OTLP request nests about 10 levels; more is not OTLP. */
export const MAX_JSON_DEPTH = 32;
/**
 * Most objects and arrays per byte of JSON text: a real request has one per 20 bytes or more;
 * a body of `[{},{},...]` would make JSON.parse build tens of millions of objects.
 */
const MAX_CONTAINERS_PER_BYTE = 1 / 8;
/** Room on top of the per-byte allowance, so tiny requests are never refused. */
const CONTAINER_SLACK = 1024;

type Kind = 'message' | 'string' | 'bytes' | 'hex' | 'uint64' | 'int64' | 'int32' | 'fixed64' | 'double' | 'bool';

interface FieldSpec {
  number: number;
  kind: Kind;
  repeated: boolean;
  /** The message schema of a message field. */
  schema?: () => Schema;
}

type Schema = Map<string, FieldSpec>;

/** Builds a schema from [protoName, number, kind, repeated?, schema?]; camelCase names are derived. */
function schema(fields: Array<[string, number, Kind, boolean?, (() => Schema)?]>): Schema {
  const out: Schema = new Map();
  for (const [name, number, kind, repeated, sub] of fields) {
    const spec: FieldSpec = { number, kind, repeated: repeated === true, schema: sub };
    out.set(name, spec);
    out.set(
      name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()),
      spec,
    );
  }
  return out;
}

const VALUE_TYPE = schema([
  ['type_strindex', 1, 'int32'],
  ['unit_strindex', 2, 'int32'],
]);
const ANY_VALUE: Schema = schema([
  ['string_value', 1, 'string'],
  ['bool_value', 2, 'bool'],
  ['int_value', 3, 'int64'],
  ['double_value', 4, 'double'],
  ['array_value', 5, 'message', false, () => ARRAY_VALUE],
  ['kvlist_value', 6, 'message', false, () => KEY_VALUE_LIST],
  ['bytes_value', 7, 'bytes'],
  ['string_value_strindex', 8, 'int32'],
]);
const KEY_VALUE: Schema = schema([
  ['key', 1, 'string'],
  ['value', 2, 'message', false, () => ANY_VALUE],
  ['key_strindex', 3, 'int32'],
]);
const ARRAY_VALUE: Schema = schema([['values', 1, 'message', true, () => ANY_VALUE]]);
const KEY_VALUE_LIST: Schema = schema([['values', 1, 'message', true, () => KEY_VALUE]]);
const RESOURCE = schema([
  ['attributes', 1, 'message', true, () => KEY_VALUE],
  ['dropped_attributes_count', 2, 'uint64'],
]);
const SCOPE = schema([
  ['name', 1, 'string'],
  ['version', 2, 'string'],
  ['attributes', 3, 'message', true, () => KEY_VALUE],
  ['dropped_attributes_count', 4, 'uint64'],
]);
const SAMPLE = schema([
  ['stack_index', 1, 'int32'],
  ['attribute_indices', 2, 'int32', true],
  ['link_index', 3, 'int32'],
  ['values', 4, 'int64', true],
  ['timestamps_unix_nano', 5, 'fixed64', true],
]);
const PROFILE = schema([
  ['sample_type', 1, 'message', false, () => VALUE_TYPE],
  ['samples', 2, 'message', true, () => SAMPLE],
  ['time_unix_nano', 3, 'fixed64'],
  ['duration_nano', 4, 'uint64'],
  ['period_type', 5, 'message', false, () => VALUE_TYPE],
  ['period', 6, 'int64'],
  ['profile_id', 7, 'hex'],
  ['dropped_attributes_count', 8, 'uint64'],
  ['original_payload_format', 9, 'string'],
  ['original_payload', 10, 'bytes'],
  ['attribute_indices', 11, 'int32', true],
]);
const SCOPE_PROFILES = schema([
  ['scope', 1, 'message', false, () => SCOPE],
  ['profiles', 2, 'message', true, () => PROFILE],
  ['schema_url', 3, 'string'],
]);
const RESOURCE_PROFILES = schema([
  ['resource', 1, 'message', false, () => RESOURCE],
  ['scope_profiles', 2, 'message', true, () => SCOPE_PROFILES],
  ['schema_url', 3, 'string'],
]);
const MAPPING = schema([
  ['memory_start', 1, 'uint64'],
  ['memory_limit', 2, 'uint64'],
  ['file_offset', 3, 'uint64'],
  ['filename_strindex', 4, 'int32'],
  ['attribute_indices', 5, 'int32', true],
]);
const LINE = schema([
  ['function_index', 1, 'int32'],
  ['line', 2, 'int64'],
  ['column', 3, 'int64'],
]);
const LOCATION = schema([
  ['mapping_index', 1, 'int32'],
  ['address', 2, 'uint64'],
  ['lines', 3, 'message', true, () => LINE],
  ['attribute_indices', 4, 'int32', true],
]);
const FUNCTION = schema([
  ['name_strindex', 1, 'int32'],
  ['system_name_strindex', 2, 'int32'],
  ['filename_strindex', 3, 'int32'],
  ['start_line', 4, 'int64'],
]);
const LINK = schema([
  ['trace_id', 1, 'hex'],
  ['span_id', 2, 'hex'],
]);
const KEY_VALUE_AND_UNIT = schema([
  ['key_strindex', 1, 'int32'],
  ['value', 2, 'message', false, () => ANY_VALUE],
  ['unit_strindex', 3, 'int32'],
]);
const STACK = schema([['location_indices', 1, 'int32', true]]);
const DICTIONARY = schema([
  ['mapping_table', 1, 'message', true, () => MAPPING],
  ['location_table', 2, 'message', true, () => LOCATION],
  ['function_table', 3, 'message', true, () => FUNCTION],
  ['link_table', 4, 'message', true, () => LINK],
  ['string_table', 5, 'string', true],
  ['attribute_table', 6, 'message', true, () => KEY_VALUE_AND_UNIT],
  ['stack_table', 7, 'message', true, () => STACK],
]);
const REQUEST = schema([
  ['resource_profiles', 1, 'message', true, () => RESOURCE_PROFILES],
  ['dictionary', 2, 'message', false, () => DICTIONARY],
]);

const encoder = new TextEncoder();

/**
 * Returns the protobuf bytes of an OTLP/JSON ExportProfilesServiceRequest. Refuses, with a
 * ProfileError naming the place, text that is not JSON, nests deeper than MAX_JSON_DEPTH, holds
 * implausibly many objects and arrays for its size (checked before JSON.parse builds them), or
 * has a value of the wrong type for its field ("resourceProfiles[0].scopeProfiles[0].profiles[0]
 * .period: expected an integer").
 */
export function otlpJsonToProtobuf(text: Uint8Array): Uint8Array {
  checkShape(text);
  let root: unknown;
  try {
    root = JSON.parse(Buffer.from(text.buffer, text.byteOffset, text.length).toString('utf8'));
  } catch (err) {
    throw new ProfileError(`the body is not valid JSON: ${(err as Error).message}`);
  }
  const w = new ProtoWriter(Math.max(1024, text.length >> 1));
  writeMessage(w, root, REQUEST, 'the request');
  return w.finish();
}

/** Nesting depth and the number of objects and arrays, checked before JSON.parse. */
function checkShape(bytes: Uint8Array): void {
  const maxContainers = Math.floor(bytes.length * MAX_CONTAINERS_PER_BYTE) + CONTAINER_SLACK;
  const violation = jsonShapeViolation(bytes, MAX_JSON_DEPTH, maxContainers);
  if (violation === 'depth') throw new ProfileError(`the JSON nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`);
  if (violation === 'containers') {
    throw new ProfileError(`the JSON has more than ${maxContainers} objects and arrays for its ${bytes.length} bytes: not an OTLP request`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function writeMessage(w: ProtoWriter, value: unknown, s: Schema, path: string): void {
  if (!isObject(value)) throw new ProfileError(`${path}: expected a JSON object, got ${describe(value)}`);
  for (const [name, v] of Object.entries(value)) {
    const spec = s.get(name);
    // Unknown fields are ignored (OTLP/JSON), and null is the JSON mapping's "unset".
    if (spec === undefined || v === null) continue;
    const where = `${path === 'the request' ? '' : `${path}.`}${name}`;
    if (spec.repeated) {
      if (!Array.isArray(v)) throw new ProfileError(`${where}: expected a JSON array, got ${describe(v)}`);
      if (spec.kind === 'message' || spec.kind === 'string' || spec.kind === 'bytes' || spec.kind === 'hex') {
        for (let i = 0; i < v.length; i++) writeField(w, spec, v[i], `${where}[${i}]`);
      } else {
        // Repeated scalars are packed, as proto3 writes them.
        const mark = w.begin(spec.number);
        for (let i = 0; i < v.length; i++) writeScalar(w, spec.kind, v[i], `${where}[${i}]`);
        w.end(mark);
      }
    } else {
      writeField(w, spec, v, where);
    }
  }
}

function writeField(w: ProtoWriter, spec: FieldSpec, v: unknown, where: string): void {
  switch (spec.kind) {
    case 'message': {
      const mark = w.begin(spec.number);
      writeMessage(w, v, (spec.schema as () => Schema)(), where);
      w.end(mark);
      return;
    }
    case 'string':
      if (typeof v !== 'string') throw new ProfileError(`${where}: expected a string, got ${describe(v)}`);
      w.bytesField(spec.number, encoder.encode(v));
      return;
    case 'bytes':
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v))
        throw new ProfileError(`${where}: expected base64 bytes, got ${describe(v)}`);
      w.bytesField(spec.number, Buffer.from(v, 'base64'));
      return;
    case 'hex':
      if (typeof v !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(v))
        throw new ProfileError(`${where}: expected a hex id, got ${describe(v)}`);
      w.bytesField(spec.number, Buffer.from(v, 'hex'));
      return;
    case 'fixed64':
      w.tag(spec.number, 1);
      writeScalar(w, spec.kind, v, where);
      return;
    case 'double':
      w.tag(spec.number, 1);
      writeScalar(w, spec.kind, v, where);
      return;
    default:
      w.tag(spec.number, 0);
      writeScalar(w, spec.kind, v, where);
  }
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
const INT32_MIN = -(1n << 31n);
const INT32_MAX = (1n << 31n) - 1n;

/** Writes one scalar value (no tag): a varint, or 8 bytes for fixed64 and double. */
function writeScalar(w: ProtoWriter, kind: Kind, v: unknown, where: string): void {
  if (kind === 'bool') {
    if (typeof v !== 'boolean') throw new ProfileError(`${where}: expected true or false, got ${describe(v)}`);
    w.varint(v ? 1 : 0);
    return;
  }
  if (kind === 'double') {
    let x: number;
    if (typeof v === 'number') x = v;
    else if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') x = Number(v);
    else throw new ProfileError(`${where}: expected a number, got ${describe(v)}`);
    w.ensure(8);
    new DataView(w.buf.buffer, w.buf.byteOffset + w.pos, 8).setFloat64(0, x, true);
    w.pos += 8;
    return;
  }
  const n = integer(v, where);
  const [min, max] = kind === 'int32' ? [INT32_MIN, INT32_MAX] : kind === 'int64' ? [INT64_MIN, INT64_MAX] : [0n, UINT64_MAX];
  if (n < min || n > max) throw new ProfileError(`${where}: ${n} is outside the range of ${kind === 'fixed64' ? 'uint64' : kind}`);
  if (kind === 'fixed64') {
    w.ensure(8);
    new DataView(w.buf.buffer, w.buf.byteOffset + w.pos, 8).setBigUint64(0, n, true);
    w.pos += 8;
    return;
  }
  w.bigVarint(BigInt.asUintN(64, n));
}

/** Reads an integer given as a JSON number or a decimal string (the JSON mapping of 64-bit integers). */
function integer(v: unknown, where: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) return BigInt(v);
  throw new ProfileError(`${where}: expected an integer (a number or a decimal string), got ${describe(v)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}
