import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { IntakeAdapter, RefusedProfile } from '../../ingest/adapter.js';
import { IngestError } from '../../ingest/errors.js';
import { DEFAULT_INTAKE_LIMITS, type IntakeLimits } from '../../ingest/limits.js';
import { ingestProfile } from '../../ingest/pipeline.js';
import { INTAKE_ADAPTERS } from '../../ingest/registry.js';
import type { ProfileRecord } from '../../store/types.js';
import { INTAKE, type RouteContext } from './context.js';

/**
 * Intake: every adapter of the registry on each of its paths, with intake access (checked before
 * the body is read) and the intake gate. A request's profiles are all parsed (and so checked
 * against every limit) before any is stored, then stored in order. For an adapter with
 * `partialSuccess` (OTLP), a profile the pipeline refuses (a CPU profile with a negative value)
 * is reported in the answer and the others are stored; the request fails only when every
 * profile is refused. For the others, a refusal fails the request and leaves the profiles
 * before it stored (they send one profile per request).
 */
export const intakeRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const limits: IntakeLimits = {
    ...DEFAULT_INTAKE_LIMITS,
    maxAttachments: ctx.limits.maxAttachments,
    maxDecompressedBytes: ctx.limits.maxDecompressedBytes,
  };
  const handler = (adapter: IntakeAdapter) => async (req: FastifyRequest, reply: FastifyReply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    // Each adapter reads and checks the query parameters of its protocol (pyroscope's name, from
    // and until; the upload's tags, start and end); the app has already refused repeated ones.
    const query = req.query as Record<string, string | undefined>;
    const request = { headers: req.headers, body, query };
    const profiles = await adapter.parse(request, limits);
    const stored: ProfileRecord[] = [];
    const refused: RefusedProfile[] = [];
    for (const [index, profile] of profiles.entries()) {
      try {
        stored.push(await ingestProfile(ctx.store, profile, { maxDecompressedBytes: ctx.limits.maxDecompressedBytes }));
      } catch (err) {
        // Only the profile's own content may be refused alone; a busy server or a full disk fails the request.
        if (adapter.partialSuccess !== true || !(err instanceof IngestError) || err.status >= 500) throw err;
        ctx.metrics.rejections.inc({ reason: err.reason });
        refused.push({ index, error: err });
      }
    }
    if (stored.length === 0 && refused.length > 0) throw refused[0].error;
    ctx.metrics.profilesIngested.inc({ protocol: adapter.protocol }, stored.length);
    ctx.metrics.bytesIngested.inc({ protocol: adapter.protocol }, body.length);
    const answer = adapter.answer(stored, request, refused);
    if (answer.contentType !== undefined) reply.type(answer.contentType);
    return reply.code(answer.status).send(answer.body instanceof Uint8Array ? Buffer.from(answer.body) : answer.body);
  };
  for (const adapter of INTAKE_ADAPTERS) {
    const handle = handler(adapter);
    for (const url of adapter.routes) app.post(url, INTAKE, handle);
  }

  // dd-trace-go reports telemetry to the agent; answer so it does not log errors. It sends the
  // same credentials as its profiles (the key in DD_TRACE_AGENT_URL).
  app.post('/telemetry/proxy/api/v2/apmtelemetry', INTAKE, async (_req, reply) => reply.code(202).send({}));
};
