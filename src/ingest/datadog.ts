import type { IntakeAdapter } from './adapter.js';
import { IngestError } from './errors.js';
import {
  checkAttachmentName,
  checkEndpointCount,
  checkEventJsonSize,
  checkJsonDepth,
  checkTagCount,
  countListItems,
  DEFAULT_INTAKE_LIMITS,
  enforceIntakeLimits,
  type IntakeLimits,
} from './limits.js';
import { multipartBoundary, parseMultipart } from './multipart.js';
import { header, type IntakeRequest, type TimedIngestedProfile } from './record.js';

/** The attachment names dd-trace-go gives the CPU profile (v1 and v2 clients). */
const CPU_ATTACHMENTS = ['cpu.pprof', 'cpu.pb.gz'];

/**
 * Returns the profile in a dd-trace-go upload (`POST /profiling/v1/input`, also sent as
 * `/api/v2/profile` in agentless mode): a multipart body with one part per attachment, named
 * by its file name, and an `event` part (event.json) with start, end, attachments,
 * `tags_profiler` ("k:v,k:v") and optionally `endpoint_counts`. Tags from a Datadog agent's
 * `X-Datadog-Additional-Tags` header are added unless the client sent the same key (client tags
 * win). Every IntakeLimits rule applies (event.json size and nesting, tags, endpoints,
 * attachments). Throws IngestError naming what is malformed or which limit was passed.
 */
export function parseDatadogUpload(req: IntakeRequest, limits: IntakeLimits = DEFAULT_INTAKE_LIMITS): TimedIngestedProfile {
  const boundary = multipartBoundary(header(req, 'content-type'));
  const parts = parseMultipart(req.body, boundary, { maxParts: limits.maxAttachments + 1 });
  const eventPart = parts.find((p) => p.name === 'event');
  if (!eventPart) throw new IngestError(400, 'event', 'the upload has no "event" part (event.json)');
  const event = parseEvent(eventPart.body, limits);

  const attachments: Array<{ name: string; bytes: Uint8Array }> = [];
  for (const part of parts) {
    if (part === eventPart) continue;
    const name = part.filename ?? part.name;
    checkAttachmentName(name);
    if (attachments.some((a) => a.name === name)) throw new IngestError(400, 'attachment', `attachment ${name} appears twice`);
    attachments.push({ name, bytes: part.body });
  }
  for (const name of event.attachments) {
    if (!attachments.some((a) => a.name === name)) {
      throw new IngestError(400, 'attachment', `event.json lists attachment ${name} but the upload has no part for it`);
    }
  }

  const tags = parseTagList(event.tagsProfiler, limits, 'event.json tags_profiler');
  const present = new Set(tags.map(([k]) => k));
  for (const [k, v] of parseTagList(header(req, 'x-datadog-additional-tags') ?? '', limits, 'X-Datadog-Additional-Tags')) {
    if (!present.has(k)) tags.push([k, v]);
  }
  const cpu = CPU_ATTACHMENTS.find((n) => attachments.some((a) => a.name === n)) ?? null;
  return enforced(limits, {
    protocol: 'datadog',
    start: event.start,
    end: event.end,
    tags,
    attachments,
    cpuAttachment: cpu,
    endpointCounts: event.endpointCounts,
  });
}

function enforced(limits: IntakeLimits, upload: TimedIngestedProfile): TimedIngestedProfile {
  enforceIntakeLimits(upload, limits);
  return upload;
}

interface DatadogEvent {
  start: number;
  end: number;
  attachments: string[];
  tagsProfiler: string;
  endpointCounts: Record<string, number> | null;
}

function parseEvent(bytes: Buffer, limits: IntakeLimits): DatadogEvent {
  checkEventJsonSize(bytes.length, limits);
  checkJsonDepth(bytes, limits, 'event.json');
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    // SyntaxError, or a RangeError if the engine still runs out of stack: bad input either way.
    throw new IngestError(400, 'event', `event.json is not valid JSON: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new IngestError(400, 'event', 'event.json must be a JSON object');
  const e = raw as Record<string, unknown>;
  const time = (field: string): number => {
    const v = e[field];
    const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
    if (!Number.isFinite(ms))
      throw new IngestError(400, 'event', `event.json field "${field}" must be an RFC 3339 time, got ${JSON.stringify(v)}`);
    return ms;
  };
  const start = time('start');
  const end = time('end');
  if (end < start) throw new IngestError(400, 'event', 'event.json "end" is before "start"');
  const attachments = e.attachments ?? [];
  if (!Array.isArray(attachments) || !attachments.every((a) => typeof a === 'string')) {
    throw new IngestError(400, 'event', 'event.json field "attachments" must be a list of file names');
  }
  const tagsProfiler = e.tags_profiler ?? '';
  if (typeof tagsProfiler !== 'string') throw new IngestError(400, 'event', 'event.json field "tags_profiler" must be a string');
  let endpointCounts: Record<string, number> | null = null;
  if (e.endpoint_counts !== undefined && e.endpoint_counts !== null) {
    const counts = e.endpoint_counts;
    if (typeof counts !== 'object' || Array.isArray(counts))
      throw new IngestError(400, 'event', 'event.json field "endpoint_counts" must be an object');
    checkEndpointCount(Object.keys(counts).length, limits);
    // No prototype: an endpoint named "__proto__" is an entry like any other.
    endpointCounts = Object.create(null) as Record<string, number>;
    for (const [k, v] of Object.entries(counts as Record<string, unknown>)) {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new IngestError(400, 'event', `endpoint_counts[${JSON.stringify(k)}] must be a number`);
      endpointCounts[k] = v;
    }
  }
  return { start, end, attachments: attachments as string[], tagsProfiler, endpointCounts };
}

/**
 * Parses Datadog's "k:v,k:v" tag lists; a tag without ":" gets an empty value. The tags are
 * counted before the text is split: a list over the limit is refused (413) without building it.
 * `where` names the list in that message.
 */
export function parseTagList(text: string, limits: IntakeLimits = DEFAULT_INTAKE_LIMITS, where?: string): Array<[string, string]> {
  checkTagCount(countListItems(text, ','), limits, where);
  const tags: Array<[string, string]> = [];
  for (const item of text.split(',')) {
    const tag = item.trim();
    if (tag === '') continue;
    const colon = tag.indexOf(':');
    tags.push(colon < 0 ? [tag, ''] : [tag.slice(0, colon), tag.slice(colon + 1)]);
  }
  return tags;
}

/** dd-trace-go's intake: the agent path, and the agentless path of v2 clients; answered with the stored id. */
export const datadogAdapter: IntakeAdapter = {
  protocol: 'datadog',
  routes: ['/profiling/v1/input', '/api/v2/profile'],
  parse: (req, limits) => [parseDatadogUpload(req, limits)],
  answer: (stored) => ({ status: 200, body: { id: stored[0].id } }),
};
