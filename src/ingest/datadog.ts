import { IngestError } from './errors.js';
import { multipartBoundary, parseMultipart } from './multipart.js';
import { header, type IntakeRequest, type TimedIngestedProfile } from './record.js';

export interface DatadogLimits {
  /** Most attachments (file parts) accepted in one upload. */
  maxAttachments: number;
}

/** The attachment names dd-trace-go gives the CPU profile (v1 and v2 clients). */
const CPU_ATTACHMENTS = ['cpu.pprof', 'cpu.pb.gz'];

/**
 * Returns the profile in a dd-trace-go upload (`POST /profiling/v1/input`, also sent as
 * `/api/v2/profile` in agentless mode): a multipart body with one part per attachment, named
 * by its file name, and an `event` part (event.json) with start, end, attachments,
 * `tags_profiler` ("k:v,k:v") and optionally `endpoint_counts`. Tags from a Datadog agent's
 * `X-Datadog-Additional-Tags` header are added unless the client sent the same key (client tags
 * win). Throws IngestError naming what is malformed.
 */
export function parseDatadogUpload(req: IntakeRequest, limits: DatadogLimits): TimedIngestedProfile {
  const boundary = multipartBoundary(header(req, 'content-type'));
  const parts = parseMultipart(req.body, boundary, { maxParts: limits.maxAttachments + 1 });
  const eventPart = parts.find((p) => p.name === 'event');
  if (!eventPart) throw new IngestError(400, 'event', 'the upload has no "event" part (event.json)');
  const event = parseEvent(eventPart.body);

  const attachments: Array<{ name: string; bytes: Uint8Array }> = [];
  for (const part of parts) {
    if (part === eventPart) continue;
    const name = part.filename ?? part.name;
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(name)) {
      throw new IngestError(400, 'attachment', `attachment name ${JSON.stringify(name)} is not a plain file name`);
    }
    if (attachments.some((a) => a.name === name)) throw new IngestError(400, 'attachment', `attachment ${name} appears twice`);
    attachments.push({ name, bytes: part.body });
  }
  for (const name of event.attachments) {
    if (!attachments.some((a) => a.name === name)) {
      throw new IngestError(400, 'attachment', `event.json lists attachment ${name} but the upload has no part for it`);
    }
  }

  const tags = parseTagList(event.tagsProfiler);
  const present = new Set(tags.map(([k]) => k));
  for (const [k, v] of parseTagList(header(req, 'x-datadog-additional-tags') ?? '')) {
    if (!present.has(k)) tags.push([k, v]);
  }
  const cpu = CPU_ATTACHMENTS.find((n) => attachments.some((a) => a.name === n)) ?? null;
  return {
    protocol: 'datadog',
    start: event.start,
    end: event.end,
    tags,
    attachments,
    cpuAttachment: cpu,
    endpointCounts: event.endpointCounts,
  };
}

interface DatadogEvent {
  start: number;
  end: number;
  attachments: string[];
  tagsProfiler: string;
  endpointCounts: Record<string, number> | null;
}

function parseEvent(bytes: Buffer): DatadogEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
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
    endpointCounts = {};
    for (const [k, v] of Object.entries(counts as Record<string, unknown>)) {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new IngestError(400, 'event', `endpoint_counts[${JSON.stringify(k)}] must be a number`);
      endpointCounts[k] = v;
    }
  }
  return { start, end, attachments: attachments as string[], tagsProfiler, endpointCounts };
}

/** Parses Datadog's "k:v,k:v" tag lists; a tag without ":" gets an empty value. */
export function parseTagList(text: string): Array<[string, string]> {
  const tags: Array<[string, string]> = [];
  for (const item of text.split(',')) {
    const tag = item.trim();
    if (tag === '') continue;
    const colon = tag.indexOf(':');
    tags.push(colon < 0 ? [tag, ''] : [tag.slice(0, colon), tag.slice(colon + 1)]);
  }
  return tags;
}
