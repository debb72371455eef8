import type { IntakeAdapter } from './adapter.js';
import { IngestError } from './errors.js';
import {
  checkAttachmentName,
  checkTagCount,
  countListItems,
  DEFAULT_INTAKE_LIMITS,
  enforceIntakeLimits,
  type IntakeLimits,
} from './limits.js';
import { multipartBoundary, parseMultipart } from './multipart.js';
import { header, type IntakeRequest, type TimedIngestedProfile } from './record.js';

/**
 * Returns the profile in a pyroscope-go upload: `POST /ingest?name=app{k=v,...}&from=&until=
 * &spyName=gospy&units=samples...` with the pprof in a multipart part named `profile` (or, from
 * older clients, as the raw body). The application name becomes the `service` tag, the labels
 * in braces become tags (internal `__x__` labels are dropped), `from`/`until` are read in
 * seconds, milliseconds, microseconds or nanoseconds by their number of digits (10, 13, 16,
 * 19). A gospy CPU upload (units=samples) is the CPU profile and gets `runtime:go`. Every
 * IntakeLimits rule applies (labels are tags; a multipart file name must be a plain file name).
 */
export function parsePyroscopeUpload(req: IntakeRequest, limits: IntakeLimits = DEFAULT_INTAKE_LIMITS): TimedIngestedProfile {
  const q = req.query ?? {};
  const { app, labels } = parseAppName(q.name, limits);
  const start = parseEpoch(q.from, 'from');
  const end = parseEpoch(q.until, 'until');
  if (end < start) throw new IngestError(400, 'time', `"until" (${q.until}) is before "from" (${q.from})`);

  let bytes: Uint8Array;
  let name = 'profile.pprof';
  const contentType = header(req, 'content-type') ?? '';
  if (/^multipart\//i.test(contentType)) {
    const parts = parseMultipart(req.body, multipartBoundary(contentType), { maxParts: limits.maxAttachments });
    const part = parts.find((p) => p.name === 'profile');
    if (!part) throw new IngestError(400, 'multipart', 'the upload has no "profile" part');
    bytes = part.body;
    if (part.filename) {
      checkAttachmentName(part.filename);
      name = part.filename;
    }
  } else {
    bytes = req.body;
  }
  if (bytes.length === 0) throw new IngestError(400, 'empty', 'the profile is empty');

  const tags: Array<[string, string]> = [['service', app]];
  for (const [k, v] of labels) if (!(k.startsWith('__') && k.endsWith('__')) && k !== 'service') tags.push([k, v]);
  const spy = q.spyName ?? '';
  const isCpu = (q.units ?? 'samples') === 'samples' && (spy === 'gospy' || spy === '');
  if (spy === 'gospy' && !tags.some(([k]) => k === 'runtime')) tags.push(['runtime', 'go']);
  const upload: TimedIngestedProfile = {
    protocol: 'pyroscope',
    start,
    end,
    tags,
    attachments: [{ name, bytes }],
    cpuAttachment: isCpu ? name : null,
    endpointCounts: null,
  };
  enforceIntakeLimits(upload, limits);
  return upload;
}

/**
 * Parses `app.name{k=v,k2=v2}` into the application name and its labels; the labels are counted
 * before they are split (413 over the tag limit).
 */
export function parseAppName(
  name: string | undefined,
  limits: IntakeLimits = DEFAULT_INTAKE_LIMITS,
): { app: string; labels: Array<[string, string]> } {
  if (!name) throw new IngestError(400, 'name', 'missing "name" query parameter (expected app{key=value,...})');
  const brace = name.indexOf('{');
  const app = (brace < 0 ? name : name.slice(0, brace)).trim();
  if (app === '') throw new IngestError(400, 'name', `"name" ${JSON.stringify(name)} has no application name before "{"`);
  const labels: Array<[string, string]> = [];
  if (brace >= 0) {
    if (!name.endsWith('}')) throw new IngestError(400, 'name', `"name" ${JSON.stringify(name)} has an unclosed "{"`);
    const inner = name.slice(brace + 1, -1);
    checkTagCount(countListItems(inner, ','), limits, 'labels in "name"');
    for (const item of inner.split(',')) {
      if (item.trim() === '') continue;
      const eq = item.indexOf('=');
      if (eq <= 0) throw new IngestError(400, 'name', `label ${JSON.stringify(item)} in "name" is not key=value`);
      labels.push([item.slice(0, eq).trim(), item.slice(eq + 1).trim()]);
    }
  }
  return { app, labels };
}

/** Reads a pyroscope timestamp whose unit is given by its digit count; returns ms. */
export function parseEpoch(value: string | undefined, what: string): number {
  if (value === undefined || !/^\d{1,19}$/.test(value)) {
    throw new IngestError(400, 'time', `"${what}" must be a Unix timestamp, got ${JSON.stringify(value ?? '')}`);
  }
  const digits = value.length;
  // Keep ms precision without going through a float for 19-digit nanoseconds.
  if (digits <= 10) return Number(value) * 1000;
  if (digits <= 13) return Number(value);
  if (digits <= 16) return Number(value.slice(0, -3));
  return Number(value.slice(0, -6));
}

/** pyroscope-go's intake; it treats anything but exactly 200 as a failure, and reads no body. */
export const pyroscopeAdapter: IntakeAdapter = {
  protocol: 'pyroscope',
  routes: ['/ingest', '/pyroscope/ingest'],
  parse: (req, limits) => [parsePyroscopeUpload(req, limits)],
  answer: () => ({ status: 200, body: '' }),
};
