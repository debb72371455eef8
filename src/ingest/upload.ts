import type { IntakeAdapter } from './adapter.js';
import { parseTagList } from './datadog.js';
import { IngestError } from './errors.js';
import { checkAttachmentName, DEFAULT_INTAKE_LIMITS, enforceIntakeLimits, type IntakeLimits } from './limits.js';
import { header, type IngestedProfile, type IntakeRequest } from './record.js';

/**
 * Returns the profile of a native upload (`POST /api/v1/profiles`, what `hotpath upload` sends):
 * the body is one pprof file (gzip, zstd or raw protobuf), tags come from the `tags` query
 * parameter or the X-Hotpath-Tags header ("k:v,k:v"), times from `start`/`end` (ms since the
 * epoch); without them the upload ends now and starts one profile duration earlier. The
 * attachment is named by `name` (cpu.pprof by default). Every IntakeLimits rule applies.
 */
export function parseUpload(req: IntakeRequest, limits: IntakeLimits = DEFAULT_INTAKE_LIMITS): IngestedProfile {
  if (req.body.length === 0) throw new IngestError(400, 'empty', 'the request body is empty: send the pprof file as the body');
  const q = req.query ?? {};
  const tags = parseTagList(q.tags ?? header(req, 'x-hotpath-tags') ?? '', limits, q.tags === undefined ? 'X-Hotpath-Tags' : '"tags"');
  for (const [k] of tags) {
    if (!/^[A-Za-z0-9_.\-/]+$/.test(k))
      throw new IngestError(400, 'tags', `tag key ${JSON.stringify(k)} may only contain letters, digits and _.-/`);
  }
  const time = (name: 'start' | 'end'): number | null => {
    const v = q[name];
    if (v === undefined || v === '') return null;
    const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (!Number.isFinite(ms))
      throw new IngestError(400, 'time', `"${name}" must be ms since the epoch or RFC 3339, got ${JSON.stringify(v)}`);
    return ms;
  };
  const end = time('end') ?? Date.now();
  const start = time('start');
  if (start !== null && end < start) throw new IngestError(400, 'time', '"end" is before "start"');
  const name = q.name || 'cpu.pprof';
  checkAttachmentName(name);
  const upload: IngestedProfile = {
    protocol: 'upload',
    start,
    end,
    tags,
    attachments: [{ name, bytes: req.body }],
    cpuAttachment: name,
    endpointCounts: null,
  };
  enforceIntakeLimits(upload, limits);
  return upload;
}

/** The native upload (`hotpath upload`, curl): 201 with the stored id. */
export const uploadAdapter: IntakeAdapter = {
  protocol: 'upload',
  routes: ['/api/v1/profiles'],
  parse: (req, limits) => [parseUpload(req, limits)],
  answer: (stored) => ({ status: 201, body: { id: stored[0].id } }),
};
