import type { Server as TlsServer } from 'node:tls';
import { parseDuration } from './durations.js';
import { CliError } from './errors.js';
import { clientBaseUrl, firstStartBanner } from './first-start.js';
import { parseCount } from './format.js';
import type { ServeFlags } from './serve.js';
import { storeConfig } from './store-options.js';
import { readTlsPair, type TlsPair } from './tls-files.js';

/** The job that makes the first keys, once per store. */
const FIRST_KEYS_JOB = 'first-keys';

function fail(message: string): never {
  throw new CliError(message);
}

/** A duration flag of at least 1 ms (Node reads 0 as "no timeout"), at most 24 days (the timer limit). */
function positiveDuration(value: string, flag: string): number {
  const ms = Math.round(parseDuration(value, flag));
  if (ms < 1 || ms > 2 ** 31 - 1) throw new CliError(`${flag} must be from 1ms to 24d, got ${JSON.stringify(value)}`);
  return ms;
}

/** `hotpath serve`: checks every flag, opens the store and serves until SIGINT or SIGTERM. */
export async function runServe(flags: ServeFlags): Promise<void> {
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
