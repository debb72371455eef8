import { gunzip } from 'node:zlib';
import { encodeProfileGzipAsync } from '../pprof/encode.js';
import { ProfileError } from '../pprof/errors.js';
import type { Profile } from '../pprof/profile.js';
import { ProtoWriter } from '../pprof/proto-writer.js';
import type { IntakeAdapter, IntakeAnswer, RefusedProfile } from './adapter.js';
import { IngestError } from './errors.js';
import { checkTag, checkTagCount, DEFAULT_INTAKE_LIMITS, enforceIntakeLimits, type IntakeLimits } from './limits.js';
import { otlpProfileToPprof } from './otlp-convert.js';
import type { AttributeValue } from './otlp-dictionary.js';
import { otlpJsonToProtobuf } from './otlp-json.js';
import { decodeOtlpRequest, type OtlpRequest } from './otlp-request.js';
import { ParseSlots } from './parse-slots.js';
import { header, type IngestedProfile, type IntakeRequest } from './record.js';

/**
 * OTLP/HTTP profiles intake: `POST /v1development/profiles` with an ExportProfilesServiceRequest
 * of opentelemetry-proto's profiles/v1development as of proto v1.10 (what
 * go.opentelemetry.io/collector/pdata/pprofile v0.165.0 and the Collector's otlphttp exporter
 * send: see otlp-request.ts), as protobuf (`application/x-protobuf`) or OTLP/JSON
 * (`application/json`), plain or `Content-Encoding: gzip`.
 */

/** Most profiles in one request: each is stored (and a CPU profile analysed) on its own. */
export const MAX_OTLP_PROFILES_PER_REQUEST = 256;
/** Largest OTLP/JSON body once inflated: JSON.parse builds the whole tree, so less than for protobuf. */
export const MAX_OTLP_JSON_BYTES = 16 * 1024 * 1024;

/** Resource attributes with a tag of their own name in Hotpath (the search language's service:, env:, ...). */
const MAPPED_ATTRIBUTES: ReadonlyMap<string, string> = new Map([
  ['service.name', 'service'],
  ['deployment.environment.name', 'env'],
  ['deployment.environment', 'env'],
  ['service.version', 'version'],
  ['host.name', 'host'],
]);

type Encoding = 'protobuf' | 'json';

/** Which encoding the request says it is in; 415 for another media type. */
function requestEncoding(req: IntakeRequest): Encoding {
  const contentType = (header(req, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (contentType === 'application/x-protobuf' || contentType === 'application/protobuf') return 'protobuf';
  if (contentType === 'application/json') return 'json';
  throw new IngestError(
    415,
    'content_type',
    `Content-Type ${JSON.stringify(contentType)} is not an OTLP encoding: send application/x-protobuf or application/json`,
  );
}

/** The request body with its Content-Encoding undone (on the thread pool), within `maxBytes`. */
async function inflatedBody(req: IntakeRequest, maxBytes: number): Promise<Uint8Array> {
  const encoding = (header(req, 'content-encoding') ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') {
    if (req.body.length > maxBytes) throw tooLarge(maxBytes);
    return req.body;
  }
  if (encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new IngestError(
      415,
      'content_encoding',
      `Content-Encoding ${JSON.stringify(encoding)} is not supported: send gzip or no encoding`,
    );
  }
  return new Promise((resolve, reject) =>
    gunzip(req.body, { maxOutputLength: maxBytes }, (err, out) => {
      if (err === null) return resolve(out);
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) return reject(tooLarge(maxBytes));
      reject(new IngestError(400, 'content_encoding', `the body is not valid gzip (Content-Encoding: gzip): ${e.message}`));
    }),
  );
}

function tooLarge(maxBytes: number): IngestError {
  return new IngestError(413, 'decompressed_size', `the request is larger than ${maxBytes} bytes once decompressed`);
}

/**
 * Returns the tags of one profile: resource attributes, then the profile's own attributes where
 * the resource did not give the key. service.name, deployment.environment(.name), service.version
 * and host.name become service, env, version and host; `runtime:go` is added when
 * process.runtime.name or telemetry.sdk.language says go (the pipeline also adds it for Go
 * frames); the others keep their key. Values are strings, numbers and booleans as text; arrays,
 * maps and bytes are not tags. An attribute that cannot be a tag (a key with ":", a control
 * character, longer than the tag limit) is left out, since the exporter does not choose which
 * attributes its resource detectors add; a mapped one is refused instead (400 or 413), as it
 * names the profile.
 */
export function otlpTags(
  resource: ReadonlyArray<[string, AttributeValue]>,
  profile: ReadonlyArray<[string, AttributeValue]>,
  limits: IntakeLimits,
): Array<[string, string]> {
  checkTagCount(resource.length + profile.length, limits, 'resource and profile attributes');
  const tags: Array<[string, string]> = [];
  const seen = new Set<string>();
  let isGo = false;
  for (const [key, value] of [...resource, ...profile]) {
    if (value === null || typeof value === 'object' || key === '') continue;
    const text = String(value);
    if ((key === 'process.runtime.name' || key === 'telemetry.sdk.language') && text.toLowerCase() === 'go') isGo = true;
    const mapped = MAPPED_ATTRIBUTES.get(key);
    const tagKey = mapped ?? key;
    if (seen.has(tagKey)) continue;
    if (mapped === undefined) {
      try {
        checkTag(tagKey, text, limits);
      } catch {
        continue;
      }
    }
    seen.add(tagKey);
    tags.push([tagKey, text]);
  }
  if (isGo && !seen.has('runtime')) tags.push(['runtime', 'go']);
  return tags;
}

/** The profile attributes (attribute_indices) of profile `index` as [key, value]. */
function profileAttributes(req: OtlpRequest, index: number): Array<[string, AttributeValue]> {
  const a = req.dictionary.attributes;
  const out: Array<[string, AttributeValue]> = [];
  for (const row of req.profiles[index].attributeIndices) out.push([req.dictionary.strings[a.key[row]], a.value[row]]);
  return out;
}

/** True when the profile has a function every Go program's goroutines start from. */
function hasGoFrames(p: Profile): boolean {
  for (let f = 0; f < p.functions.count; f++) {
    const name = p.strings[p.functions.name[f]];
    if (name === 'runtime.goexit' || name === 'runtime.main') return true;
  }
  return false;
}

/** A file name for a non-CPU profile's attachment, from its sample type ("alloc_space.pprof"). */
function attachmentName(sampleType: string): string {
  const base = sampleType
    .split('/')[0]
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 100);
  return `${base || 'profile'}.pprof`;
}

/**
 * Returns one IngestedProfile per OTLP profile in the request (one per resource, scope and
 * profile), each as a gzip pprof attachment (`cpu.pprof` for a CPU profile, which the pipeline
 * then analyses like an uploaded one), with tags from otlpTags and times from time_unix_nano and
 * duration_nano (a profile without a time ends now). Throws IngestError: 415 for another
 * Content-Type or Content-Encoding, 413 over a limit (size, profiles, attributes), 400 naming the
 * field that is malformed or points outside its table, 503 when the server is already parsing
 * as many OTLP requests as it takes at once and too many wait.
 */
export async function parseOtlpRequest(req: IntakeRequest, limits: IntakeLimits = DEFAULT_INTAKE_LIMITS): Promise<IngestedProfile[]> {
  // An empty protobuf body is a valid request with no profiles, answered as a success.
  const encoding = requestEncoding(req);
  return PARSE_SLOTS.run(() => parseBody(req, encoding, limits));
}

/**
 * Inflating, decoding, converting and compressing take memory in proportion to the inflated
 * request: two requests at a time (one per core), so a burst of small gzip bodies that inflate to
 * tens of MB each cannot hold more than two of them at once.
 */
const PARSE_SLOTS = new ParseSlots(2, 64, 30_000, 'OTLP requests');

/** A ProfileError from decoding or converting as the IngestError it answers: 413 over a limit, else 400. */
function refusal(err: unknown): unknown {
  if (!(err instanceof ProfileError)) return err;
  const status = /^too many|would need/.test(err.message) ? 413 : 400;
  return new IngestError(status, 'otlp', `invalid OTLP profiles request: ${err.message}`);
}

async function parseBody(req: IntakeRequest, encoding: Encoding, limits: IntakeLimits): Promise<IngestedProfile[]> {
  const body = await inflatedBody(
    req,
    encoding === 'json' ? Math.min(limits.maxDecompressedBytes, MAX_OTLP_JSON_BYTES) : limits.maxDecompressedBytes,
  );
  let decoded: OtlpRequest;
  try {
    const bytes = encoding === 'json' ? otlpJsonToProtobuf(body) : body;
    decoded = decodeOtlpRequest(bytes, { maxProfiles: MAX_OTLP_PROFILES_PER_REQUEST, maxResourceAttributes: limits.maxTags });
  } catch (err) {
    throw refusal(err);
  }
  const now = Date.now();
  const out: IngestedProfile[] = [];
  const pprofs: Profile[] = [];
  for (let i = 0; i < decoded.profiles.length; i++) {
    const p = decoded.profiles[i];
    let converted: ReturnType<typeof otlpProfileToPprof>;
    try {
      converted = otlpProfileToPprof(decoded, i);
    } catch (err) {
      throw refusal(err);
    }
    pprofs.push(converted.profile);
    const name = converted.isCpu ? 'cpu.pprof' : attachmentName(converted.sampleType);
    // Whole milliseconds, as every intake records them.
    const start = p.timeUnixNano > 0n ? Number(p.timeUnixNano / 1_000_000n) : null;
    const end = start === null ? now : Number((p.timeUnixNano + p.durationNano) / 1_000_000n);
    const tags = otlpTags(decoded.resources[p.resource].attributes, profileAttributes(decoded, i), limits);
    // The pipeline finds Go frames in CPU profiles; a heap or other profile is looked at here.
    if (!tags.some(([k]) => k === 'runtime') && hasGoFrames(converted.profile)) tags.push(['runtime', 'go']);
    const profile: IngestedProfile = {
      protocol: 'otlp',
      start,
      end,
      tags,
      attachments: [{ name, bytes: new Uint8Array(0) }],
      cpuAttachment: converted.isCpu ? name : null,
      endpointCounts: null,
    };
    enforceIntakeLimits(profile, limits);
    out.push(profile);
  }
  // Only once every profile passed every check: gzip runs on the thread pool, off the event loop.
  const bytes = await Promise.all(pprofs.map((p) => encodeProfileGzipAsync(p, 6)));
  for (let i = 0; i < out.length; i++) out[i].attachments[0].bytes = bytes[i];
  return out;
}

/**
 * The ExportProfilesServiceResponse, in the request's encoding: empty when every profile was
 * stored, else partial_success with the number refused and why.
 */
export function otlpAnswer(req: IntakeRequest, refused: readonly RefusedProfile[]): IntakeAnswer {
  const json = requestEncoding(req) === 'json';
  const message = refused.map((r) => `profile ${r.index}: ${r.error.message}`).join('; ');
  if (json) {
    const body = refused.length === 0 ? {} : { partialSuccess: { rejectedProfiles: String(refused.length), errorMessage: message } };
    // Exactly "application/json": the Collector's exporter reads partial_success only under that type.
    return { status: 200, body: new TextEncoder().encode(JSON.stringify(body)), contentType: 'application/json' };
  }
  const w = new ProtoWriter(64 + message.length * 3);
  if (refused.length > 0) {
    const mark = w.begin(1);
    w.uintField(1, refused.length);
    w.bytesField(2, new TextEncoder().encode(message));
    w.end(mark);
  }
  return { status: 200, body: w.finish(), contentType: 'application/x-protobuf' };
}

/** OTLP/HTTP profiles (`OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT`, the Collector's otlphttp exporter). */
export const otlpAdapter: IntakeAdapter = {
  protocol: 'otlp',
  routes: ['/v1development/profiles'],
  partialSuccess: true,
  parse: (req, limits) => parseOtlpRequest(req, limits),
  answer: (_stored, req, refused) => otlpAnswer(req, refused),
};
