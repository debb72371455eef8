import type { FuzzCorpus, RecordedRequest } from './corpus.js';
import { type Compression, MUTATORS, type MutationContext, type Mutator, recompress } from './mutate.js';
import { Prng } from './prng.js';

export type IntakeRoute = 'datadog' | 'pyroscope' | 'upload';

/** An HTTP request for one intake route, ready for fastify's inject(). */
export interface FuzzRequest {
  route: IntakeRoute;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** One fuzz input, fully determined by (seed, id) and the corpus. */
export interface FuzzInput {
  id: number;
  /** The mutated, uncompressed profile bytes. */
  raw: Uint8Array;
  /** What the profile functions receive: `raw` re-compressed, maybe with the compressed stream damaged. */
  bytes: Uint8Array;
  /** The corpus entry, mutators and compression that made it, for reports. */
  steps: string[];
  compression: Compression;
  /** Set for the fraction of inputs that also go through an intake route. */
  request: FuzzRequest | null;
}

export interface InputOptions {
  seed: number;
  /** One input in this many also goes through an intake route (0: none). */
  routeEvery: number;
  /** Ceiling on a mutated profile's uncompressed size. */
  maxBytes: number;
}

/** Mutators that change what a profile says while keeping its protobuf framing valid. */
const FRAMED_MUTATORS = MUTATORS.filter((m) => ['value', 'drop-field', 'duplicate-field', 'payload'].includes(m.name));

/** Mutators that make sense on any bytes (an HTTP body), not only on protobuf. */
const BYTE_MUTATORS = MUTATORS.filter((m) =>
  ['bit-flip', 'interesting-byte', 'truncate', 'splice', 'insert-range', 'delete-range'].includes(m.name),
);

/** Query and tag values that sit on parser boundaries: empty, signs, exponents, hex, huge, control characters. */
const ODD_VALUES = [
  '',
  '-1',
  '0',
  '1e3',
  '0x10',
  'NaN',
  'Infinity',
  '99999999999999999999',
  '9'.repeat(19),
  '1.5',
  ' 1',
  '\u0000',
  'a\u0007b',
  '%00',
];

/**
 * Returns input `id` of the campaign seeded with `options.seed`: a corpus profile put through
 * one to four mutators (havoc style), re-compressed, and for one input in `routeEvery` wrapped
 * in an intake request (a well-formed envelope around the profile, or a mutated recording of
 * a real client's upload).
 */
export function makeInput(corpus: FuzzCorpus, options: InputOptions, id: number): FuzzInput {
  const rng = new Prng(options.seed, id);
  const base = rng.below(corpus.profiles.length);
  const ctx: MutationContext = { rng, corpus: corpus.profiles, maxBytes: options.maxBytes };
  const steps = [corpus.names[base]];
  let raw = corpus.profiles[base];
  const rounds = rng.chance(0.5) ? 1 : rng.between(2, 4);
  // Half the inputs keep a valid wire format, so they get past the decoder's framing checks
  // into validation and every later target; the other half may damage anything.
  const pool = rng.chance(0.5) ? FRAMED_MUTATORS : MUTATORS;
  for (let r = 0; r < rounds; r++) {
    if (raw.length === 0) break;
    const m: Mutator = rng.pick(pool);
    raw = m.mutate(raw, ctx);
    steps.push(m.name);
  }
  const { bytes, compression, damaged } = recompress(raw, rng);
  steps.push(damaged ? `${compression} (damaged)` : compression);
  const request = options.routeEvery > 0 && rng.below(options.routeEvery) === 0 ? makeRequest(corpus, rng, bytes, steps) : null;
  return { id, raw, bytes, steps, compression, request };
}

function makeRequest(corpus: FuzzCorpus, rng: Prng, profile: Uint8Array, steps: string[]): FuzzRequest {
  const route = rng.pick<IntakeRoute>(['datadog', 'pyroscope', 'upload']);
  if (route !== 'upload' && rng.chance(0.3)) {
    // A real client's recorded upload with its envelope damaged (boundaries, headers, event.json).
    const recording = route === 'datadog' ? corpus.datadog : corpus.pyroscope;
    steps.push(`${route}: recorded upload, mutated`);
    return { route, url: recording.url, headers: { ...recording.headers }, body: mutateBytes(rng, recording.body, corpus) };
  }
  if (route === 'datadog') return datadogRequest(rng, profile, steps);
  if (route === 'pyroscope') return pyroscopeRequest(rng, corpus.pyroscope, profile, steps);
  let url = '/api/v1/profiles?tags=service:fuzz,env:fuzz';
  if (rng.chance(0.2)) {
    // The recorded URL already has "tags", so adding it again repeats it (an array to fastify).
    url += `&${rng.pick(['start', 'end', 'tags', 'name'])}=${encodeURIComponent(rng.pick(ODD_VALUES))}`;
    steps.push(`upload: ${url}`);
  }
  return { route, url, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from(profile) };
}

/** Applies one to three byte-level mutators to an HTTP body. */
function mutateBytes(rng: Prng, body: Buffer, corpus: FuzzCorpus): Buffer {
  let out: Uint8Array = body;
  const ctx: MutationContext = { rng, corpus: [corpus.datadog.body, corpus.pyroscope.body], maxBytes: body.length * 2 };
  const n = rng.between(1, 3);
  for (let i = 0; i < n && out.length > 0; i++) out = rng.pick(BYTE_MUTATORS).mutate(out, ctx);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** Returns a multipart/form-data body with the given parts. */
function multipart(boundary: string, parts: Array<{ name: string; filename: string; type: string; body: Uint8Array }>): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: ${p.type}\r\n\r\n`,
      ),
    );
    chunks.push(Buffer.from(p.body.buffer, p.body.byteOffset, p.body.byteLength), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** Returns `value` without what no HTTP client can send in a header value: control characters other than tab. */
function headerSafe(value: string): string {
  let out = '';
  for (const c of value) {
    const code = c.charCodeAt(0);
    if (code === 9 || (code >= 0x20 && code !== 0x7f)) out += c;
  }
  return out;
}

/** A dd-trace-go upload around the profile; one in four has a hostile event.json. */
function datadogRequest(rng: Prng, profile: Uint8Array, steps: string[]): FuzzRequest {
  const end = 1_764_000_000_000;
  const event: Record<string, unknown> = {
    start: new Date(end - 60_000).toISOString(),
    end: new Date(end).toISOString(),
    attachments: ['cpu.pprof'],
    tags_profiler: 'service:fuzz,env:fuzz,version:1',
    family: 'go',
    version: '4',
    endpoint_counts: { 'GET /api': 1 },
  };
  let eventText: string | null = null;
  if (rng.chance(0.25)) {
    const kind = rng.below(6);
    if (kind === 0) {
      // Deep nesting as the whole event or as one field's value (where error messages quote it).
      const depth = 2 ** rng.between(4, 17);
      const nested = rng.chance(0.5) ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      const field = rng.pick(['(whole event)', 'start', 'end', 'attachments', 'tags_profiler', 'endpoint_counts']);
      eventText = field === '(whole event)' ? nested : `${JSON.stringify(event).slice(0, -1)},"${field}":${nested}}`;
      steps.push(`datadog: ${field} nested ${depth} deep`);
    } else if (kind === 1) {
      const n = 2 ** rng.between(4, 16);
      event.tags_profiler = Array.from({ length: n }, (_, i) => `k${i}:v${i}`).join(',');
      steps.push(`datadog: ${n} tags`);
    } else if (kind === 2) {
      event[rng.pick(['start', 'end'])] = rng.pick<unknown>([
        -1,
        1e300,
        '9999-99-99',
        '',
        null,
        1.5,
        '0001-01-01T00:00:00Z',
        '+275760-09-13T00:00:01Z',
      ]);
      steps.push(`datadog: odd time ${JSON.stringify(event.start)}..${JSON.stringify(event.end)}`);
    } else if (kind === 3) {
      event.tags_profiler = `service:fuzz,env:a${rng.pick(ODD_VALUES)}b,${rng.pick(ODD_VALUES)}:x`;
      steps.push(`datadog: tags ${JSON.stringify(event.tags_profiler)}`);
    } else if (kind === 4) {
      const n = 2 ** rng.between(4, 16);
      event.endpoint_counts = Object.fromEntries(Array.from({ length: n }, (_, i) => [`GET /e${i}`, rng.pick([1, -1, 1e300, 0.5])]));
      steps.push(`datadog: ${n} endpoint counts`);
    } else {
      event.attachments = rng.pick<unknown>([[], ['cpu.pprof', 'cpu.pprof'], ['../x'], 'cpu.pprof', [1], null]);
      steps.push(`datadog: attachments ${JSON.stringify(event.attachments)}`);
    }
  }
  const boundary = 'fuzzboundary0123456789';
  const body = multipart(boundary, [
    { name: 'cpu.pprof', filename: 'cpu.pprof', type: 'application/octet-stream', body: profile },
    { name: 'event', filename: 'event.json', type: 'application/json', body: Buffer.from(eventText ?? JSON.stringify(event)) },
  ]);
  const headers: Record<string, string> = { 'content-type': `multipart/form-data; boundary=${boundary}` };
  if (rng.chance(0.05)) {
    // What a Datadog agent adds in front of Hotpath.
    headers['x-datadog-additional-tags'] = headerSafe(`host:${rng.pick(ODD_VALUES)},${rng.pick(ODD_VALUES)}:y`);
    steps.push(`datadog: x-datadog-additional-tags ${JSON.stringify(headers['x-datadog-additional-tags'])}`);
  }
  return { route: 'datadog', url: '/profiling/v1/input', headers, body };
}

/** A pyroscope-go upload around the profile, with the recorded query; one in five has an odd query value. */
function pyroscopeRequest(rng: Prng, recording: RecordedRequest, profile: Uint8Array, steps: string[]): FuzzRequest {
  let url = recording.url;
  if (rng.chance(0.2)) {
    const [path, query] = url.split('?');
    const params = new URLSearchParams(query);
    const key = rng.pick(['from', 'until', 'name', 'spyName', 'units']);
    const value = key === 'name' ? `app{${rng.pick(ODD_VALUES)}=${rng.pick(ODD_VALUES)}}` : rng.pick(ODD_VALUES);
    // Appending repeats the key: fastify then parses the parameter as an array.
    const repeat = rng.chance(0.3);
    if (repeat) params.append(key, value);
    else params.set(key, value);
    url = `${path}?${params.toString()}`;
    steps.push(`pyroscope: ${key}=${JSON.stringify(value)}${repeat ? ' (repeated)' : ''}`);
  }
  if (rng.chance(0.1)) {
    steps.push('pyroscope: raw body');
    return { route: 'pyroscope', url, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from(profile) };
  }
  const boundary = 'fuzzboundary0123456789';
  const body = multipart(boundary, [{ name: 'profile', filename: 'profile.pprof', type: 'application/octet-stream', body: profile }]);
  return { route: 'pyroscope', url, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body };
}
