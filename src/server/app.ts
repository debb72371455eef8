import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { parseDatadogUpload } from '../ingest/datadog.js';
import { IngestError } from '../ingest/errors.js';
import { DEFAULT_INTAKE_LIMITS, type IntakeLimits } from '../ingest/limits.js';
import { ingestProfile } from '../ingest/pipeline.js';
import { parsePyroscopeUpload } from '../ingest/pyroscope.js';
import type { IngestedProfile, IntakeRequest } from '../ingest/record.js';
import { parseUpload } from '../ingest/upload.js';
import { QuerySyntaxError } from '../query/errors.js';
import { PROFILE_SORTS, type ProfileSort } from '../store/profile-index.js';
import type { ProfileStore } from '../store/store.js';
import type { ProfileRecord } from '../store/types.js';
import { authorize } from './auth.js';
import type { KeyStore } from './keys.js';
import { DEFAULT_LIMITS, type ServerLimits } from './limits.js';
import { ServerMetrics } from './metrics.js';
import { registerPgoRoutes } from './pgo-route.js';
import type { AppScope } from './scopes.js';
import { registerStaticUi } from './static-ui.js';
import { parseWindow } from './time-params.js';
import { registerViewRoutes } from './view-routes.js';

export interface AppOptions {
  store: ProfileStore;
  keys: KeyStore;
  logger: Logger;
  limits?: Partial<ServerLimits>;
  /** Accept profiles without an API key (the --allow-anonymous-intake flag). */
  anonymousIntake?: boolean;
  /** Serve reads without an application key (the --allow-anonymous-read flag). */
  anonymousRead?: boolean;
  /** Where the built web UI is (dist/web by default). */
  uiDir?: string;
  /** The blob store's size, for /metrics. */
  storeBytes?: () => Promise<number>;
}

/** A JSON error answer: every refusal has a message that says what to fix. */
function fail(reply: FastifyReply, status: number, message: string, extra: Record<string, unknown> = {}): FastifyReply {
  return reply
    .code(status)
    .type('application/json')
    .send({ error: message, ...extra });
}

/**
 * Builds the HTTP app: intake for dd-trace-go, pyroscope-go and native uploads, the JSON API
 * under /api/v1/, /metrics and /healthz. One port serves all of them.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const metrics = new ServerMetrics();
  // Fastify's own per-request logging is off; the onResponse hook logs what is worth a line.
  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: limits.maxBodyBytes });
  const log = options.logger;

  // Every body is read as bytes: intake parses its own formats, and the API has no JSON bodies.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requestSeconds.observe(reply.elapsedTime / 1000, { route, status: `${Math.floor(reply.statusCode / 100)}xx` });
    if (reply.statusCode >= 400 || reply.elapsedTime > 1000) {
      log.info({ method: req.method, url: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      metrics.rejections.inc({ reason: 'body_size' });
      return fail(reply, 413, `request body is larger than the limit of ${limits.maxBodyBytes} bytes`);
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      metrics.rejections.inc({ reason: 'bad_request' });
      return fail(reply, err.statusCode, err.message);
    }
    options.logger.error({ err }, 'request failed');
    return fail(reply, 500, 'internal error: see the server log');
  });

  const allowed = (req: FastifyRequest, reply: FastifyReply, need: { write: true } | { scope: AppScope }): boolean => {
    const anonymous = 'write' in need ? options.anonymousIntake === true : options.anonymousRead === true;
    const result = authorize(options.keys, req.headers, need, anonymous);
    if (result.ok) return true;
    metrics.rejections.inc({ reason: result.status === 401 ? 'unauthenticated' : 'forbidden' });
    fail(reply, result.status, result.message);
    return false;
  };

  const intake =
    (
      protocol: 'datadog' | 'pyroscope' | 'upload',
      parse: (req: IntakeRequest) => IngestedProfile,
      ok: (reply: FastifyReply, record: ProfileRecord) => unknown,
    ) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      if (!allowed(req, reply, { write: true })) return reply;
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      try {
        const upload = parse({ headers: req.headers, body, query: req.query as Record<string, string | undefined> });
        const record = await ingestProfile(options.store, upload, { maxDecompressedBytes: limits.maxDecompressedBytes });
        metrics.profilesIngested.inc({ protocol });
        metrics.bytesIngested.inc({ protocol }, body.length);
        return ok(reply, record);
      } catch (err) {
        if (err instanceof IngestError) {
          metrics.rejections.inc({ reason: err.reason });
          return fail(reply, err.status, err.message);
        }
        throw err;
      }
    };

  const intakeLimits: IntakeLimits = { ...DEFAULT_INTAKE_LIMITS, maxAttachments: limits.maxAttachments };
  const datadog = intake(
    'datadog',
    (req) => parseDatadogUpload(req, intakeLimits),
    (reply, record) => reply.code(200).send({ id: record.id }),
  );
  app.post('/profiling/v1/input', datadog);
  app.post('/api/v2/profile', datadog);
  // dd-trace-go reports telemetry to the agent; answer so it does not log errors.
  app.post('/telemetry/proxy/api/v2/apmtelemetry', async (_req, reply) => reply.code(202).send({}));

  // pyroscope-go treats anything but exactly 200 as a failure.
  const pyroscope = intake(
    'pyroscope',
    (req) => parsePyroscopeUpload(req, intakeLimits),
    (reply) => reply.code(200).send(''),
  );
  app.post('/ingest', pyroscope);
  app.post('/pyroscope/ingest', pyroscope);

  app.post(
    '/api/v1/profiles',
    intake(
      'upload',
      (req) => parseUpload(req, intakeLimits),
      (reply, record) => reply.code(201).send({ id: record.id }),
    ),
  );

  app.get('/api/v1/profiles', async (req, reply) => {
    if (!allowed(req, reply, { scope: 'profiles_read' })) return reply;
    const q = req.query as Record<string, string | undefined>;
    let from: number;
    let to: number;
    let limit: number;
    let offset: number;
    try {
      ({ from, to } = parseWindow(q, 'now-72h'));
      limit = q.limit === undefined ? 50 : Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new RangeError(`"limit" must be an integer from 1 to 1000, got ${JSON.stringify(q.limit)}`);
      offset = q.offset === undefined ? 0 : Number(q.offset);
      if (!Number.isSafeInteger(offset) || offset < 0)
        throw new RangeError(`"offset" must be a non-negative integer, got ${JSON.stringify(q.offset)}`);
      if (q.sort !== undefined && !(PROFILE_SORTS as readonly string[]).includes(q.sort)) {
        throw new RangeError(`"sort" must be one of ${PROFILE_SORTS.join(', ')}, got ${JSON.stringify(q.sort)}`);
      }
    } catch (err) {
      metrics.rejections.inc({ reason: 'bad_parameter' });
      return fail(reply, 400, (err as Error).message);
    }
    try {
      const query = q.query ?? '';
      const [profiles, total] = await Promise.all([
        options.store.search({ query, from, to, limit, offset, sort: (q.sort as ProfileSort | undefined) ?? '-start' }),
        options.store.index.countMatching({ query, from, to }),
      ]);
      return { profiles: profiles.map(publicRecord), total, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
    } catch (err) {
      if (err instanceof QuerySyntaxError) {
        metrics.rejections.inc({ reason: 'query' });
        return fail(reply, 400, `query: ${err.message}`, { column: err.column });
      }
      throw err;
    }
  });

  app.get('/api/v1/profiles/:id', async (req, reply) => {
    if (!allowed(req, reply, { scope: 'profiles_read' })) return reply;
    const { id } = req.params as { id: string };
    const record = await options.store.getProfile(id);
    if (!record) return fail(reply, 404, `no profile with id ${id}`);
    return publicRecord(record);
  });

  app.get('/api/v1/profiles/:id/attachments/:name', async (req, reply) => {
    if (!allowed(req, reply, { scope: 'profiles_read' })) return reply;
    const { id, name } = req.params as { id: string; name: string };
    const found = await options.store.readAttachment(id, name);
    if (!found) return fail(reply, 404, `profile ${id} has no attachment ${name} (unknown, or deleted by retention)`);
    return reply
      .type('application/octet-stream')
      .header('content-disposition', `attachment; filename="${name.replace(/"/g, '')}"`)
      .send(Buffer.from(found.bytes.buffer, found.bytes.byteOffset, found.bytes.byteLength));
  });

  app.get('/api/v1/profiles/:id/pgo', async (req, reply) => {
    if (!allowed(req, reply, { scope: 'pgo_read' })) return reply;
    const { id } = req.params as { id: string };
    const bytes = await options.store.readPgo(id);
    if (!bytes) return fail(reply, 404, `profile ${id} has no PGO form (unknown, or no CPU profile)`);
    return reply.type('application/octet-stream').send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });

  registerViewRoutes(app, {
    store: options.store,
    maxDecompressedBytes: limits.maxDecompressedBytes,
    allowed: (req, reply) => allowed(req, reply, { scope: 'profiles_read' }),
    fail,
    reject: (reason) => metrics.rejections.inc({ reason }),
  });

  registerPgoRoutes(app, {
    store: options.store,
    allowed: (req, reply) => allowed(req, reply, { scope: 'pgo_read' }),
    fail,
    reject: (reason) => metrics.rejections.inc({ reason }),
  });

  // Every service seen in the window with its PGO adoption; a service whose newest profile says
  // pgo:false runs a build without PGO and is flagged.
  app.get('/api/v1/services', async (req, reply) => {
    if (!allowed(req, reply, { scope: 'profiles_read' })) return reply;
    const q = req.query as Record<string, string | undefined>;
    let from: number;
    let to: number;
    try {
      ({ from, to } = parseWindow(q, 'now-7d'));
    } catch (err) {
      metrics.rejections.inc({ reason: 'bad_parameter' });
      return fail(reply, 400, (err as Error).message);
    }
    const services = await options.store.index.services(from, to);
    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      services: services.map((s) => ({ ...s, withoutPgo: s.latestPgo === false })),
    };
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/metrics', async (_req, reply) => {
    const gauges = [{ name: 'hotpath_store_profiles', help: 'Profiles in the index.', value: await options.store.index.count() }];
    if (options.storeBytes)
      gauges.push({ name: 'hotpath_store_blob_bytes', help: 'Bytes held by the blob store.', value: await options.storeBytes() });
    return reply.type('text/plain; version=0.0.4').send(metrics.render(gauges));
  });

  registerStaticUi(app, options.uiDir);

  app.setNotFoundHandler((req, reply) => fail(reply, 404, `no route ${req.method} ${req.url.split('?')[0]}`));
  return app;
}

/** The JSON form of a profile for the API: times as RFC 3339, blob keys left out. */
export function publicRecord(r: ProfileRecord): Record<string, unknown> {
  return {
    id: r.id,
    start: new Date(r.start).toISOString(),
    end: new Date(r.end).toISOString(),
    received: new Date(r.receivedAt).toISOString(),
    protocol: r.protocol,
    service: r.service,
    env: r.env,
    version: r.version,
    host: r.host,
    runtime: r.runtime,
    pgo: r.pgo,
    cpuCores: r.cpuCores,
    samples: r.sampleCount,
    durationNanos: r.durationNanos,
    tags: r.tags.map(([k, v]) => `${k}:${v}`),
    attachments: r.attachments.map((a) => ({ name: a.name, size: a.size, compression: a.compression })),
    rawDeleted: r.rawDeleted,
    endpointCounts: r.endpointCounts,
  };
}
