import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { IntakeAdapter } from '../../ingest/adapter.js';
import { DEFAULT_INTAKE_LIMITS, type IntakeLimits } from '../../ingest/limits.js';
import { ingestProfile } from '../../ingest/pipeline.js';
import { INTAKE_ADAPTERS } from '../../ingest/registry.js';
import type { ProfileRecord } from '../../store/types.js';
import { INTAKE, type RouteContext } from './context.js';

/**
 * Intake: every adapter of the registry on each of its paths, with intake access (checked before
 * the body is read) and the intake gate. A request's profiles are all parsed (and so checked
 * against every limit) before any is stored, then stored in order; each adapter answers one
 * profile per request today, and with several, one refused by the pipeline (a CPU profile that
 * does not decode) would leave those before it stored.
 */
export const intakeRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const limits: IntakeLimits = { ...DEFAULT_INTAKE_LIMITS, maxAttachments: ctx.limits.maxAttachments };
  const handler = (adapter: IntakeAdapter) => async (req: FastifyRequest, reply: FastifyReply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    // Each adapter reads and checks the query parameters of its protocol (pyroscope's name, from
    // and until; the upload's tags, start and end); the app has already refused repeated ones.
    const query = req.query as Record<string, string | undefined>;
    const profiles = adapter.parse({ headers: req.headers, body, query }, limits);
    const stored: ProfileRecord[] = [];
    for (const profile of profiles) {
      stored.push(await ingestProfile(ctx.store, profile, { maxDecompressedBytes: ctx.limits.maxDecompressedBytes }));
    }
    ctx.metrics.profilesIngested.inc({ protocol: adapter.protocol }, stored.length);
    ctx.metrics.bytesIngested.inc({ protocol: adapter.protocol }, body.length);
    const answer = adapter.answer(stored);
    return reply.code(answer.status).send(answer.body);
  };
  for (const adapter of INTAKE_ADAPTERS) {
    const handle = handler(adapter);
    for (const url of adapter.routes) app.post(url, INTAKE, handle);
  }

  // dd-trace-go reports telemetry to the agent; answer so it does not log errors. It sends the
  // same credentials as its profiles (the key in DD_TRACE_AGENT_URL).
  app.post('/telemetry/proxy/api/v2/apmtelemetry', INTAKE, async (_req, reply) => reply.code(202).send({}));
};
