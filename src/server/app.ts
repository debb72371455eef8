import { type createServer as createHttpServer, type Server as HttpServer, STATUS_CODES } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ScrapeStatus } from '../scrape/scraper.js';
import type { KeyStore } from '../store/keys.js';
import type { ProfileStore } from '../store/store.js';
import { registerAccessControl } from './access.js';
import { clientErrorAnswer, toHttpError } from './error-mapping.js';
import { HttpError } from './http-error.js';
import { IntakeGate } from './intake-gate.js';
import { connectionsCheckingIntervalMs, DEFAULT_LIMITS, type ServerLimits } from './limits.js';
import { ServerMetrics } from './metrics.js';
import { AJV_OPTIONS, queryErrorFormatter } from './query-schema.js';
import type { RouteContext } from './routes/context.js';
import { datadogPgoRoutes } from './routes/datadog-pgo.js';
import { impactRoutes } from './routes/impact.js';
import { intakeRoutes } from './routes/intake.js';
import { keyRoutes } from './routes/keys.js';
import { opsRoutes } from './routes/ops.js';
import { pgoRoutes } from './routes/pgo.js';
import { profileRoutes } from './routes/profiles.js';
import { serviceRoutes } from './routes/services.js';
import { targetRoutes } from './routes/targets.js';
import { timelineRoutes } from './routes/timeline.js';
import { traceAgentRoutes } from './routes/trace-agent.js';
import { viewRoutes } from './routes/views.js';
import { registerStaticUi } from './static-ui.js';
import { Throttle } from './throttled-log.js';

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
  /** Serve HTTPS with this PEM certificate chain and key (the --tls-cert and --tls-key flags); replace it later with app.server.setSecureContext. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** The scrape targets' health (hotpath serve --scrape), for /api/v1/targets and /metrics. */
  scrape?: ScrapeStatus;
}

/** A full disk is logged at most this often, however many requests it refuses. */
const DISK_FULL_LOG_INTERVAL_MS = 60_000;
/** What a refused intake request is told to wait before retrying, in seconds. */
const BUSY_RETRY_AFTER_SECONDS = 5;

/**
 * Builds the HTTP app: intake for dd-trace-go, pyroscope-go and native uploads, the JSON API
 * under /api/v1/, /metrics and /healthz. One port serves all of them.
 *
 * Guarantees: every route declares its access and one hook checks it before the body is read
 * (see access.ts); intake bodies are read by at most `maxIntakeInFlight` requests declaring at most
 * `maxIntakeBytes` of bodies at once, a
 * short queue behind them, then 503 with Retry-After; a request not received within the
 * header or request timeout is answered 408 and its connection closed; every failure is
 * answered by one error handler (see error-mapping.ts), so bad input gets a 4xx JSON answer
 * with `error` and `code`, a full disk 507, and only a bug 500.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const log = options.logger;
  const metrics = new ServerMetrics();
  // The budget always admits one body of the largest size, or such a body could never run.
  const gate = new IntakeGate(
    limits.maxIntakeInFlight,
    limits.intakeQueueLength,
    limits.intakeQueueTimeoutMs,
    Math.max(limits.maxIntakeBytes, limits.maxBodyBytes),
  );
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
  const serverOptions = {
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: connectionsCheckingIntervalMs(limits),
  };
  const tls = options.tls;
  const app: FastifyInstance = Fastify({
    // HTTPS: the same limits on an https.Server (fastify passes its `http` options to HTTP servers only).
    ...(tls === undefined
      ? {}
      : {
          serverFactory: (handler: Parameters<typeof createHttpServer>[1]) => {
            const server = createHttpsServer({ ...serverOptions, cert: tls.cert, key: tls.key }, handler);
            server.keepAliveTimeout = limits.keepAliveTimeoutMs;
            server.requestTimeout = limits.requestTimeoutMs;
            server.headersTimeout = limits.headersTimeoutMs;
            return server as unknown as HttpServer;
          },
        }),
    // Fastify's own per-request logging is off; the onResponse hook logs what is worth a line.
    logger: false,
    bodyLimit: limits.maxBodyBytes,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Query strings and bodies are declared as JSON schemas on each route (see query-schema.ts);
    // a refused parameter answers 400 naming it.
    ajv: AJV_OPTIONS,
    schemaErrorFormatter: queryErrorFormatter,
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
    http: serverOptions,
  });

  // Every body is read as bytes: intake parses its own formats; the PGO routes read JSON (routes/pgo.ts).
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
    // A request weighs the body it declares; one that declares none (chunked) may send up to the limit.
    const declared = Number(req.headers['content-length']);
    const weight = Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, limits.maxBodyBytes) : limits.maxBodyBytes;
    const slot = await gate.acquire(gone.signal, weight);
    reply.raw.off('close', onClose);
    if ('refused' in slot) {
      throw new HttpError(
        503,
        'busy',
        `the server is already taking in ${gate.inFlight} profiles (${Math.round(gate.inFlightBytes / 1048576)} MB) with ${gate.queued} waiting: retry in ${BUSY_RETRY_AFTER_SECONDS} s`,
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

  const context: RouteContext = {
    store: options.store,
    keys: options.keys,
    limits,
    metrics,
    gate,
    publicMetrics: options.publicMetrics === true,
    storeBytes: options.storeBytes,
    scrape: options.scrape,
  };
  // One plugin per area; each route declares its access and its query parameters.
  for (const routes of [
    intakeRoutes,
    traceAgentRoutes,
    profileRoutes,
    viewRoutes,
    timelineRoutes,
    impactRoutes,
    pgoRoutes,
    datadogPgoRoutes,
    serviceRoutes,
    keyRoutes,
    targetRoutes,
    opsRoutes,
  ])
    app.register(routes, context);

  registerStaticUi(app, options.uiDir);

  // Not reached for requests (the access hook answers 404 before the body is read); kept so
  // that reply.callNotFound() answers in the same form.
  app.setNotFoundHandler((req) => {
    throw new HttpError(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`);
  });
  return app;
}
