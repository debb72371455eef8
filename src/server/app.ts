import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { parseDatadogUpload } from '../ingest/datadog.js';
import { DEFAULT_INTAKE_LIMITS, type IntakeLimits } from '../ingest/limits.js';
import { ingestProfile } from '../ingest/pipeline.js';
import { parsePyroscopeUpload } from '../ingest/pyroscope.js';
import type { IngestedProfile, IntakeRequest } from '../ingest/record.js';
import { parseUpload } from '../ingest/upload.js';
import { PROFILE_SORTS, type ProfileSort } from '../store/profile-index.js';
import type { ProfileStore } from '../store/store.js';
import type { ProfileRecord } from '../store/types.js';
import { registerAccessControl } from './access.js';
import { clientErrorAnswer, toHttpError } from './error-mapping.js';
import { HttpError } from './http-error.js';
import { IntakeGate } from './intake-gate.js';
import { integerParam } from './integer-param.js';
import type { KeyStore } from './keys.js';
import { connectionsCheckingIntervalMs, DEFAULT_LIMITS, type ServerLimits } from './limits.js';
import { ServerMetrics } from './metrics.js';
import { registerPgoRoutes } from './pgo-route.js';
import { registerStaticUi } from './static-ui.js';
import { Throttle } from './throttled-log.js';
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
  /** Serve /metrics without a key (the --public-metrics flag); otherwise it needs profiles_read or admin. */
  publicMetrics?: boolean;
  /** Where the built web UI is (dist/web by default). */
  uiDir?: string;
  /** The blob store's size, for /metrics. */
  storeBytes?: () => Promise<number>;
}

/** A full disk is logged at most this often, however many requests it refuses. */
const DISK_FULL_LOG_INTERVAL_MS = 60_000;
/** What a refused intake request is told to wait before retrying, in seconds. */
const BUSY_RETRY_AFTER_SECONDS = 5;
/** Largest body of POST /api/v1/pgo (a JSON list of queries). */
const PGO_REQUEST_BODY_LIMIT = 1024 * 1024;

/**
 * Builds the HTTP app: intake for dd-trace-go, pyroscope-go and native uploads, the JSON API
 * under /api/v1/, /metrics and /healthz. One port serves all of them.
 *
 * Guarantees: every route declares its access and one hook checks it before the body is read
 * (see access.ts); intake bodies are read by at most `maxIntakeInFlight` requests at once, a
 * short queue behind them, then 503 with Retry-After; a request not received within the
 * header or request timeout is answered 408 and its connection closed; every failure is
 * answered by one error handler (see error-mapping.ts), so bad input gets a 4xx JSON answer
 * with `error` and `code`, a full disk 507, and only a bug 500.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const log = options.logger;
  const metrics = new ServerMetrics();
  const gate = new IntakeGate(limits.maxIntakeInFlight, limits.intakeQueueLength, limits.intakeQueueTimeoutMs);
  const diskFullLog = new Throttle(DISK_FULL_LOG_INTERVAL_MS);
  const timeouts = { requestMs: limits.requestTimeoutMs, headersMs: limits.headersTimeoutMs };
  /** The one place a failed request is answered: see error-mapping.ts for what maps to what. */
  const answerError = (err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const mapped = toHttpError(err, req.routeOptions.bodyLimit ?? limits.maxBodyBytes);
    if (mapped === null) {
      log.error({ err, method: req.method, url: req.url.split('?')[0] }, 'request failed');
      return reply.code(500).type('application/json').send({ error: 'internal error: see the server log', code: 'internal' });
    }
    // A client cut off by a timeout was already answered and counted by clientErrorHandler; its
    // body read then fails here, with nobody left to answer.
    if (req.raw.socket?.destroyed === true) return reply.code(mapped.status).send();
    metrics.rejections.inc({ reason: mapped.code });
    if (mapped.code === 'disk_full') {
      const logged = diskFullLog.pass();
      if (logged !== null) {
        log.error(
          { code: (err as { code?: string }).code, refusedSinceLastLine: logged.suppressed },
          `the data directory's disk is full: refusing writes (logged at most once a minute)`,
        );
      }
    }
    return reply
      .code(mapped.status)
      .headers(mapped.headers)
      .type('application/json')
      .send({ error: mapped.message, code: mapped.code, ...mapped.details });
  };
  const app: FastifyInstance = Fastify({
    // Fastify's own per-request logging is off; the onResponse hook logs what is worth a line.
    logger: false,
    bodyLimit: limits.maxBodyBytes,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // URLs the router cannot decode, parameters over its length limit.
    frameworkErrors: (err, req, reply) => answerError(err, req, reply),
    // Answers in the same JSON form as every other refusal, and counts it.
    clientErrorHandler: (err, socket) => {
      const answer = socket.destroyed ? null : clientErrorAnswer(err, timeouts);
      if (answer !== null) {
        metrics.rejections.inc({ reason: answer.code });
        if (socket.writable) {
          const body = JSON.stringify({ error: answer.message, code: answer.code });
          socket.write(
            `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
          );
        }
      }
      socket.destroy();
    },
    http: {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: connectionsCheckingIntervalMs(limits),
    },
  });

  // Every body is read as bytes: intake parses its own formats, and the API has no JSON bodies.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // First hooks: access (before any body is read), then the intake gate.
  registerAccessControl(app, {
    keys: options.keys,
    anonymousIntake: options.anonymousIntake === true,
    anonymousRead: options.anonymousRead === true,
  });
  // Every route reads each query parameter as one string; a repeated one (`?from=a&from=b`)
  // would reach it as a list.
  app.addHook('onRequest', async (req) => {
    for (const [name, value] of Object.entries(req.query as Record<string, unknown>)) {
      if (typeof value !== 'string') {
        throw new HttpError(
          400,
          'bad_parameter',
          `"${name}" is given ${Array.isArray(value) ? value.length : 'several'} times: give it once`,
        );
      }
    }
  });
  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config.access !== 'intake') return;
    const gone = new AbortController();
    const onClose = () => gone.abort();
    reply.raw.once('close', onClose);
    const slot = await gate.acquire(gone.signal);
    reply.raw.off('close', onClose);
    if ('refused' in slot) {
      throw new HttpError(
        503,
        'busy',
        `the server is already taking in ${gate.maxInFlight} profiles with ${gate.queued} waiting: retry in ${BUSY_RETRY_AFTER_SECONDS} s`,
        { headers: { 'retry-after': String(BUSY_RETRY_AFTER_SECONDS) } },
      );
    }
    // 'close' comes once the answer is sent or the client is gone, whichever is first.
    reply.raw.once('close', slot.release);
  });
  // Last onRequest hook: the request passed every check, so a client waiting with
  // `Expect: 100-continue` (curl does for bodies over 1 MiB) may now send its body. A refused
  // one gets its final answer instead and never sends the body at all.
  app.server.on('checkContinue', (req, res) => app.server.emit('request', req, res));
  app.addHook('onRequest', async (req, reply) => {
    if (req.headers.expect?.toLowerCase() === '100-continue' && typeof reply.raw.writeContinue === 'function') reply.raw.writeContinue();
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requestSeconds.observe(reply.elapsedTime / 1000, { route, status: `${Math.floor(reply.statusCode / 100)}xx` });
    // Refusals are counted in /metrics; a line each only at debug, so a flood of bad requests
    // (or a full disk) cannot flood the log.
    const refused = reply.statusCode < 500 || reply.statusCode === 507;
    const level = reply.statusCode >= 400 && refused ? 'debug' : 'info';
    if (reply.statusCode >= 400 || reply.elapsedTime > 1000) {
      log[level](
        { method: req.method, url: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
        'request',
      );
    }
  });

  app.setErrorHandler((err: unknown, req, reply) => answerError(err, req, reply));

  const intake =
    (
      protocol: 'datadog' | 'pyroscope' | 'upload',
      parse: (req: IntakeRequest) => IngestedProfile,
      ok: (reply: FastifyReply, record: ProfileRecord) => unknown,
    ) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const upload = parse({ headers: req.headers, body, query: req.query as Record<string, string | undefined> });
      const record = await ingestProfile(options.store, upload, { maxDecompressedBytes: limits.maxDecompressedBytes });
      metrics.profilesIngested.inc({ protocol });
      metrics.bytesIngested.inc({ protocol }, body.length);
      return ok(reply, record);
    };

  const intakeLimits: IntakeLimits = { ...DEFAULT_INTAKE_LIMITS, maxAttachments: limits.maxAttachments };
  const intakeRoute = { config: { access: 'intake' } } as const;
  const read = { config: { access: 'profiles_read' } } as const;

  const datadog = intake(
    'datadog',
    (req) => parseDatadogUpload(req, intakeLimits),
    (reply, record) => reply.code(200).send({ id: record.id }),
  );
  app.post('/profiling/v1/input', intakeRoute, datadog);
  app.post('/api/v2/profile', intakeRoute, datadog);
  // dd-trace-go reports telemetry to the agent; answer so it does not log errors. It sends the
  // same credentials as its profiles (the key in DD_TRACE_AGENT_URL).
  app.post('/telemetry/proxy/api/v2/apmtelemetry', intakeRoute, async (_req, reply) => reply.code(202).send({}));

  // pyroscope-go treats anything but exactly 200 as a failure.
  const pyroscope = intake(
    'pyroscope',
    (req) => parsePyroscopeUpload(req, intakeLimits),
    (reply) => reply.code(200).send(''),
  );
  app.post('/ingest', intakeRoute, pyroscope);
  app.post('/pyroscope/ingest', intakeRoute, pyroscope);

  app.post(
    '/api/v1/profiles',
    intakeRoute,
    intake(
      'upload',
      (req) => parseUpload(req, intakeLimits),
      (reply, record) => reply.code(201).send({ id: record.id }),
    ),
  );

  app.get('/api/v1/profiles', read, async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const { from, to } = parseWindow(q, 'now-72h');
    const limit = integerParam(q, 'limit', { min: 1, max: 1000, fallback: 50 });
    const offset = integerParam(q, 'offset', { min: 0, max: MAX_OFFSET, fallback: 0 });
    if (q.sort !== undefined && !(PROFILE_SORTS as readonly string[]).includes(q.sort)) {
      throw new HttpError(400, 'bad_parameter', `"sort" must be one of ${PROFILE_SORTS.join(', ')}, got ${JSON.stringify(q.sort)}`);
    }
    const query = q.query ?? '';
    const [profiles, total] = await Promise.all([
      options.store.search({ query, from, to, limit, offset, sort: (q.sort as ProfileSort | undefined) ?? '-start' }),
      options.store.index.countMatching({ query, from, to }),
    ]);
    return { profiles: profiles.map(publicRecord), total, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
  });

  app.get('/api/v1/profiles/:id', read, async (req) => {
    const { id } = req.params as { id: string };
    const record = await options.store.getProfile(id);
    if (!record) throw new HttpError(404, 'not_found', `no profile with id ${id}`);
    return publicRecord(record);
  });

  app.get('/api/v1/profiles/:id/attachments/:name', read, async (req, reply) => {
    const { id, name } = req.params as { id: string; name: string };
    const found = await options.store.readAttachment(id, name);
    if (!found) throw new HttpError(404, 'not_found', `profile ${id} has no attachment ${name} (unknown, or deleted by retention)`);
    return reply
      .type('application/octet-stream')
      .header('content-disposition', `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`)
      .send(Buffer.from(found.bytes.buffer, found.bytes.byteOffset, found.bytes.byteLength));
  });

  app.get('/api/v1/profiles/:id/pgo', { config: { access: 'pgo_read' } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const bytes = await options.store.readPgo(id);
    if (!bytes) throw new HttpError(404, 'not_found', `profile ${id} has no PGO form (unknown, or no CPU profile)`);
    return reply.type('application/octet-stream').send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });

  registerViewRoutes(app, { store: options.store, maxDecompressedBytes: limits.maxDecompressedBytes });
  registerPgoRoutes(app, {
    store: options.store,
    maxDecompressedBytes: limits.maxDecompressedBytes,
    requestBodyLimit: PGO_REQUEST_BODY_LIMIT,
  });

  // Every service seen in the window with its PGO adoption; a service whose newest profile says
  // pgo:false runs a build without PGO and is flagged.
  app.get('/api/v1/services', read, async (req) => {
    const { from, to } = parseWindow(req.query as Record<string, string | undefined>, 'now-7d');
    const services = await options.store.index.services(from, to);
    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      services: services.map((s) => ({ ...s, withoutPgo: s.latestPgo === false })),
    };
  });

  app.get('/healthz', { config: { access: 'public' } }, async () => ({ status: 'ok' }));

  app.get('/metrics', { config: { access: options.publicMetrics === true ? 'public' : 'profiles_read' } }, async (_req, reply) => {
    const gauges = [
      { name: 'hotpath_store_profiles', help: 'Profiles in the index.', value: await options.store.index.count() },
      { name: 'hotpath_intake_in_flight', help: 'Intake requests reading or processing their body.', value: gate.inFlight },
      { name: 'hotpath_intake_queued', help: 'Intake requests waiting for a slot.', value: gate.queued },
    ];
    if (options.storeBytes)
      gauges.push({ name: 'hotpath_store_blob_bytes', help: 'Bytes held by the blob store.', value: await options.storeBytes() });
    return reply.type('text/plain; version=0.0.4').send(metrics.render(gauges));
  });

  registerStaticUi(app, options.uiDir);

  // Not reached for requests (the access hook answers 404 before the body is read); kept so
  // that reply.callNotFound() answers in the same form.
  app.setNotFoundHandler((req) => {
    throw new HttpError(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`);
  });
  return app;
}

/** Largest `offset` of a profile search: far beyond any index, small enough for SQLite. */
const MAX_OFFSET = 1_000_000_000;

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
