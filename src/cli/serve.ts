import type { Server as TlsServer } from 'node:tls';
import type { Command } from 'commander';
import { DEFAULT_LIMITS } from '../server/limits.js';
import { parseDuration } from './durations.js';
import { CliError } from './errors.js';
import { clientBaseUrl, firstStartBanner } from './first-start.js';
import { parseCount } from './format.js';
import { addStoreOptions, type StoreFlags, storeConfig } from './store-options.js';
import { readTlsPair, type TlsPair } from './tls-files.js';

/** dd-trace-go sends to localhost:8126 (the Datadog agent's port) when nothing is configured. */
export const DEFAULT_PORT = 8126;

interface ServeFlags extends StoreFlags {
  port: string;
  host: string;
  allowAnonymousIntake?: boolean;
  allowAnonymousRead?: boolean;
  publicMetrics?: boolean;
  maxBodyMb: string;
  requestTimeout: string;
  headersTimeout: string;
  keepAliveTimeout: string;
  maxIntakeConcurrency: string;
  maxIntakeMb: string;
  intakeQueue: string;
  intakeQueueTimeout: string;
  maxDecompressedMb: string;
  rawRetention: string;
  pgoRetention: string;
  retentionInterval: string;
  logLevel: string;
  tlsCert?: string;
  tlsKey?: string;
  scrape?: string;
}

export function registerServe(program: Command): void {
  const serve = program
    .command('serve')
    .summary('run the profile server (intake, API, metrics)')
    .description(
      'Run the Hotpath server: dd-trace-go intake (/profiling/v1/input), pyroscope-go intake (/ingest), native ' +
        'uploads, the JSON API under /api/v1/, /metrics and /healthz, on one port. Storage is embedded by default: SQLite for ' +
        'the index and files for the profiles, under --data. With --index (PostgreSQL) and --blobs (S3-compatible) any number of ' +
        'replicas share one store behind a load balancer. On first start it creates an API key (to send ' +
        'profiles) and an admin application key (to read) and prints them once, with ready-to-paste configuration for each kind of client.',
    )
    .option('--port <N>', `port to listen on (${DEFAULT_PORT}: where dd-trace-go sends profiles by default)`, String(DEFAULT_PORT))
    .option('--host <ADDR>', 'address to listen on (0.0.0.0: every interface)', '0.0.0.0')
    .option('--allow-anonymous-intake', 'accept profiles without an API key (only on a trusted network)')
    .option('--allow-anonymous-read', 'serve the API without an application key (only on a trusted network)')
    .option('--public-metrics', 'serve /metrics without a key (otherwise it needs an application key with profiles_read or admin)')
    .option('--max-body-mb <N>', 'largest request body accepted, in MiB', String(DEFAULT_LIMITS.maxBodyBytes / 1024 / 1024))
    .option(
      '--max-decompressed-mb <N>',
      'largest decompressed CPU profile, in MiB (decompression bombs stop here)',
      String(DEFAULT_LIMITS.maxDecompressedBytes / 1024 / 1024),
    )
    .option(
      '--request-timeout <DURATION>',
      'longest time to receive a whole request, headers and body; slower clients get 408 and are disconnected',
      seconds(DEFAULT_LIMITS.requestTimeoutMs),
    )
    .option(
      '--headers-timeout <DURATION>',
      'longest time to receive the headers of a request (at most --request-timeout)',
      seconds(DEFAULT_LIMITS.headersTimeoutMs),
    )
    .option(
      '--keep-alive-timeout <DURATION>',
      'how long an idle keep-alive connection stays open',
      seconds(DEFAULT_LIMITS.keepAliveTimeoutMs),
    )
    .option(
      '--max-intake-concurrency <N>',
      'profile uploads read and processed at once (each holds its body in memory)',
      String(DEFAULT_LIMITS.maxIntakeInFlight),
    )
    .option(
      '--max-intake-mb <N>',
      'declared body megabytes of the uploads read and processed at once (bounds their memory)',
      String(DEFAULT_LIMITS.maxIntakeBytes / 1024 / 1024),
    )
    .option(
      '--intake-queue <N>',
      'uploads that wait for a free slot; more get 503 with Retry-After (0: no queue)',
      String(DEFAULT_LIMITS.intakeQueueLength),
    )
    .option('--intake-queue-timeout <DURATION>', 'longest wait in that queue before 503', seconds(DEFAULT_LIMITS.intakeQueueTimeoutMs))
    .option('--raw-retention <DURATION>', 'how long raw profiles are kept', '7d')
    .option('--pgo-retention <DURATION>', 'how long trimmed PGO forms (and the profile records) are kept', '30d')
    .option('--retention-interval <DURATION>', 'how often retention runs (one replica at a time when they share an index)', '10m')
    .option('--log-level <LEVEL>', 'trace, debug, info, warn or error', 'info')
    .option('--tls-cert <FILE>', 'serve HTTPS with this PEM certificate (chain); reloaded with --tls-key on SIGHUP')
    .option('--tls-key <FILE>', 'the PEM private key of --tls-cert (unencrypted)')
    .option(
      '--scrape <FILE>',
      "pull CPU profiles from Go services' net/http/pprof as this Prometheus-style YAML says (scrape_configs; see the README)",
    );
  addStoreOptions(serve)
    .addHelpText(
      'after',
      `\nExample:\n  hotpath serve --data /var/lib/hotpath\n  DD_TRACE_AGENT_URL=http://hotpath:API_KEY@localhost:${DEFAULT_PORT} ./my-service`,
    )
    .action((flags: ServeFlags) => runServe(flags));
}

/** The job that makes the first keys, once per store. */
const FIRST_KEYS_JOB = 'first-keys';

/** A default duration as a flag value ("60s"). */
function seconds(ms: number): string {
  return `${ms / 1000}s`;
}

function fail(message: string): never {
  throw new CliError(message);
}

/** A duration flag of at least 1 ms (Node reads 0 as "no timeout"), at most 24 days (the timer limit). */
function positiveDuration(value: string, flag: string): number {
  const ms = Math.round(parseDuration(value, flag));
  if (ms < 1 || ms > 2 ** 31 - 1) throw new CliError(`${flag} must be from 1ms to 24d, got ${JSON.stringify(value)}`);
  return ms;
}

async function runServe(flags: ServeFlags): Promise<void> {
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError(`--port must be a port number, got ${JSON.stringify(flags.port)}`);
  const maxBodyMb = parseCount(flags.maxBodyMb, '--max-body-mb');
  const maxDecompressedMb = parseCount(flags.maxDecompressedMb, '--max-decompressed-mb');
  const limits = {
    maxBodyBytes: maxBodyMb * 1024 * 1024,
    maxDecompressedBytes: maxDecompressedMb * 1024 * 1024,
    requestTimeoutMs: positiveDuration(flags.requestTimeout, '--request-timeout'),
    headersTimeoutMs: positiveDuration(flags.headersTimeout, '--headers-timeout'),
    keepAliveTimeoutMs: positiveDuration(flags.keepAliveTimeout, '--keep-alive-timeout'),
    maxIntakeInFlight: parseCount(flags.maxIntakeConcurrency, '--max-intake-concurrency'),
    maxIntakeBytes: parseCount(flags.maxIntakeMb, '--max-intake-mb') * 1024 * 1024,
    intakeQueueLength: /^\d{1,6}$/.test(flags.intakeQueue)
      ? Number(flags.intakeQueue)
      : fail(`--intake-queue must be a whole number, got ${JSON.stringify(flags.intakeQueue)}`),
    intakeQueueTimeoutMs: positiveDuration(flags.intakeQueueTimeout, '--intake-queue-timeout'),
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new CliError(`--headers-timeout (${flags.headersTimeout}) must not be longer than --request-timeout (${flags.requestTimeout})`);
  }
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    throw new CliError('--tls-cert and --tls-key go together: give both to serve HTTPS, or neither');
  }
  // Checked before anything is opened: a bad pair fails the start with the file named.
  const tls: TlsPair | undefined =
    flags.tlsCert !== undefined && flags.tlsKey !== undefined ? readTlsPair(flags.tlsCert, flags.tlsKey) : undefined;
  const rawMaxAgeMs = parseDuration(flags.rawRetention, '--raw-retention');
  const pgoMaxAgeMs = parseDuration(flags.pgoRetention, '--pgo-retention');
  const retentionIntervalMs = positiveDuration(flags.retentionInterval, '--retention-interval');
  const config = storeConfig(flags);
  // A bad scrape config stops the server before it opens anything, with every problem and its line.
  let scrapeConfig: import('../scrape/config.js').ScrapeConfig | null = null;
  if (flags.scrape !== undefined) {
    const { loadScrapeConfig, ConfigFileError } = await import('../scrape/config.js');
    try {
      scrapeConfig = loadScrapeConfig(flags.scrape, { defaultBodySizeLimit: limits.maxBodyBytes });
    } catch (err) {
      if (err instanceof ConfigFileError) throw new CliError(`--scrape: ${err.message}`);
      throw err;
    }
  }
  // Loaded here, not at start-up: every other command would otherwise pay for fastify and SQLite.
  const [{ buildApp }, { createLogger }, { startRetentionJob }, { openStore }, { Scraper }, { ingestProfile }] = await Promise.all([
    import('../server/app.js'),
    import('../server/logger.js'),
    import('../store/retention.js'),
    import('../store/open-store.js'),
    import('../scrape/scraper.js'),
    import('../ingest/pipeline.js'),
  ]);
  const logger = createLogger(flags.logLevel);

  const opened = await openStore(config);
  const { profiles: store, keys } = opened;
  // Created before listening, shown after: the banner names the port actually bound (--port 0).
  // Replicas starting together on an empty shared index: exactly one makes the first keys.
  const made: Array<{ apiKey: string; appKey: string }> = [];
  await store.index.runExclusive(FIRST_KEYS_JOB, Number.MAX_SAFE_INTEGER, async () => {
    if ((await keys.count()) === 0) {
      made.push({
        apiKey: (await keys.create('api', 'initial API key')).secret,
        appKey: (await keys.create('app', 'initial admin key', ['admin'])).secret,
      });
    }
    return 'done';
  });
  const firstKeys = made[0] ?? null;
  // Scraped profiles go through the same pipeline as uploads, under the same decompression limit.
  const scraper =
    scrapeConfig === null
      ? null
      : new Scraper(scrapeConfig, (profile) => ingestProfile(store, profile, { maxDecompressedBytes: limits.maxDecompressedBytes }), {
          log: logger,
        });
  const app = buildApp({
    store,
    keys,
    logger,
    limits,
    anonymousIntake: flags.allowAnonymousIntake === true,
    anonymousRead: flags.allowAnonymousRead === true,
    publicMetrics: flags.publicMetrics === true,
    storeBytes: () => store.blobs.totalBytes(),
    tls,
    scrape: scraper ?? undefined,
  });
  if (tls !== undefined && flags.tlsCert !== undefined && flags.tlsKey !== undefined) {
    const certFile = flags.tlsCert;
    const keyFile = flags.tlsKey;
    logger.info({ subject: tls.subject, names: tls.names, validTo: tls.validTo }, 'serving HTTPS');
    // A renewed certificate (certbot, cert-manager) is picked up on SIGHUP without dropping
    // connections; a pair that does not load keeps the one in use.
    process.on('SIGHUP', () => {
      try {
        const next = readTlsPair(certFile, keyFile);
        (app.server as unknown as TlsServer).setSecureContext({ cert: next.cert, key: next.key });
        logger.info({ subject: next.subject, names: next.names, validTo: next.validTo }, 'SIGHUP: reloaded the TLS certificate');
      } catch (err) {
        logger.error({ reason: (err as Error).message }, 'SIGHUP: kept the TLS certificate in use: the new files do not load');
      }
    });
  }
  const stopRetention = startRetentionJob({
    index: store.index,
    blobs: store.blobs,
    rawMaxAgeMs,
    pgoMaxAgeMs,
    intervalMs: retentionIntervalMs,
    onError: (err) => logger.error({ err }, 'retention failed'),
    onResult: (result, run) => logger.info({ ...result, ...run }, 'retention'),
  });

  let closing = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    // Scrapes in flight are aborted (a profile being stored is stored) before the store closes.
    await scraper?.stop();
    await stopRetention();
    await app.close();
    await opened.close();
    logger.info('stopped');
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    const address = await app.listen({ port, host: flags.host });
    if (firstKeys) {
      const bound = app.server.address();
      const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port;
      process.stdout.write(
        firstStartBanner({
          ...firstKeys,
          baseUrl: clientBaseUrl(tls === undefined ? 'http' : 'https', flags.host, boundPort),
          dataDir: flags.data,
        }),
      );
    }
    logger.info(
      {
        address: tls === undefined ? address : address.replace(/^http:/, 'https:'),
        ...opened.description,
        anonymousIntake: flags.allowAnonymousIntake === true,
      },
      'hotpath serving',
    );
    for (const warning of opened.warnings) logger.warn(warning);
  } catch (err) {
    // The keys exist now and a later start will not show them again: show them even so.
    if (firstKeys)
      process.stdout.write(firstStartBanner({ ...firstKeys, baseUrl: clientBaseUrl('http', flags.host, port), dataDir: flags.data }));
    await stopRetention();
    await opened.close();
    throw new CliError(`cannot listen on ${flags.host}:${port}: ${(err as Error).message}`);
  }
  if (scraper !== null && !closing) await scraper.start();
}
