import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { INTAKE, PUBLIC, type RouteContext } from './context.js';

/**
 * Largest trace or stats payload accepted, in bytes. dd-trace-go flushes a payload before it
 * reaches 9.5 MiB (its payloadMaxLimit); the Datadog agent itself accepts 25 MiB.
 */
export const MAX_TRACE_PAYLOAD_BYTES = 10 * 1024 * 1024;

/**
 * Most traces one payload may claim in X-Datadog-Trace-Count. Only a counter is added to, so the
 * bound keeps a hostile header from making the counter meaningless rather than protecting memory.
 */
const MAX_TRACE_COUNT = 1_000_000;

/**
 * The paths this server answers as a trace agent, as `GET /info` lists them. dd-trace-go reads
 * this list: `/v0.6/stats` lets it send client-side stats, `/telemetry/proxy/` sends its
 * telemetry here rather than to Datadog; `/v0.7/config` (remote configuration) and
 * `/v1.0/traces` are left out, so the tracer neither polls for configuration nor switches to
 * the v1 trace protocol.
 */
export const TRACE_AGENT_ENDPOINTS = ['/v0.4/traces', '/v0.5/traces', '/v0.6/stats', '/telemetry/proxy/'] as const;

/** What `GET /info` answers: the fields of the Datadog agent's answer that dd-trace-go v2 reads. */
export interface TraceAgentInfo {
  version: string;
  endpoints: readonly string[];
  client_drop_p0s: boolean;
  span_events: boolean;
  span_meta_structs: boolean;
  feature_flags: string[];
  peer_tags: string[];
  config: { statsd_port: number; default_env: string };
}

/**
 * `client_drop_p0s: true` lets a tracer that computes stats drop unsampled traces before sending
 * them, which only saves work here since every trace is dropped anyway. `statsd_port: 0` tells it
 * there is no DogStatsD to send its health metrics to.
 */
const INFO: TraceAgentInfo = {
  version: 'hotpath',
  endpoints: TRACE_AGENT_ENDPOINTS,
  client_drop_p0s: true,
  span_events: true,
  span_meta_structs: false,
  feature_flags: [],
  peer_tags: [],
  config: { statsd_port: 0, default_env: '' },
};

/**
 * The Datadog trace agent's endpoints that dd-trace-go's tracer calls at the address its profiler
 * uploads to, so a service with both the tracer and the profiler logs no errors about its agent.
 * The tracer is needed for the `endpoint_counts` of its profiles (requests per endpoint), which
 * is what CPU per request is computed from; its traces themselves are not kept.
 *
 * Guarantees: trace and stats payloads are counted (traces, bytes) in /metrics and dropped,
 * never parsed or stored; a body over MAX_TRACE_PAYLOAD_BYTES is refused with 413 before it is
 * read whole; trace and stats routes have intake access, like the profiles of the same client
 * (dd-trace-go sends the key of DD_TRACE_AGENT_URL with every request); `/info` is public since
 * it is the same fixed answer for everyone.
 */
export const traceAgentRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const payload = { ...INTAKE, bodyLimit: MAX_TRACE_PAYLOAD_BYTES };
  app.get('/info', PUBLIC, async () => INFO);

  const traces = async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers['x-datadog-trace-count'];
    const claimed = Number(Array.isArray(header) ? header[0] : header);
    const count = Number.isSafeInteger(claimed) && claimed >= 0 ? Math.min(claimed, MAX_TRACE_COUNT) : 0;
    ctx.metrics.tracesDropped.inc({}, count);
    ctx.metrics.traceBytesDropped.inc({ kind: 'traces' }, bodyLength(req));
    // An empty rate table: the tracer keeps its own default sampling rate.
    return reply.code(200).send({ rate_by_service: {} });
  };
  for (const url of ['/v0.4/traces', '/v0.5/traces']) {
    app.post(url, payload, traces);
    app.put(url, payload, traces);
  }
  app.post('/v0.6/stats', payload, async (req, reply) => {
    ctx.metrics.traceBytesDropped.inc({ kind: 'stats' }, bodyLength(req));
    return reply.code(200).send('OK');
  });
};

function bodyLength(req: FastifyRequest): number {
  return Buffer.isBuffer(req.body) ? req.body.length : 0;
}
