import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_LIMITS } from '../server/limits.js';
import { parseDuration } from './durations.js';
import { CliError } from './errors.js';
import { parseCount } from './format.js';

/** dd-trace-go sends to localhost:8126 (the Datadog agent's port) when nothing is configured. */
export const DEFAULT_PORT = 8126;
export const DEFAULT_DATA_DIR = 'hotpath-data';

interface ServeFlags {
  port: string;
  host: string;
  data: string;
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
  logLevel: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .summary('run the profile server (intake, API, metrics) on embedded storage')
    .description(
      'Run the Hotpath server: dd-trace-go intake (/profiling/v1/input), pyroscope-go intake (/ingest), native\n' +
        'uploads, the JSON API under /api/v1/, /metrics and /healthz, on one port. Storage is embedded: SQLite for\n' +
        'the index and files for the profiles, under --data. On first start it creates an API key (to send\n' +
        'profiles) and an admin application key (to read) and prints them once.',
    )
    .option('--port <N>', `port to listen on (${DEFAULT_PORT}: where dd-trace-go sends profiles by default)`, String(DEFAULT_PORT))
    .option('--host <ADDR>', 'address to listen on (0.0.0.0: every interface)', '0.0.0.0')
    .option('--data <DIR>', 'data directory (index, profiles, keys)', DEFAULT_DATA_DIR)
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
    .option('--log-level <LEVEL>', 'trace, debug, info, warn or error', 'info')
    .addHelpText(
      'after',
      `\nExample:\n  hotpath serve --data /var/lib/hotpath\n  DD_TRACE_AGENT_URL=http://hotpath:API_KEY@localhost:${DEFAULT_PORT} ./my-service`,
    )
    .action((flags: ServeFlags) => runServe(flags));
}

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
  const rawMaxAgeMs = parseDuration(flags.rawRetention, '--raw-retention');
  const pgoMaxAgeMs = parseDuration(flags.pgoRetention, '--pgo-retention');
  const dataDir = resolve(flags.data);
  // Loaded here, not at start-up: every other command would otherwise pay for fastify and SQLite.
  const [{ buildApp }, { SqliteKeyStore }, { createLogger }, { startRetentionJob }, { openSqliteStore }] = await Promise.all([
    import('../server/app.js'),
    import('../store/sqlite-keys.js'),
    import('../server/logger.js'),
    import('../store/retention.js'),
    import('../store/store.js'),
  ]);
  const logger = createLogger(flags.logLevel);

  const store = await openSqliteStore(dataDir);
  const keys = new SqliteKeyStore(join(dataDir, 'keys.sqlite'));
  if ((await keys.count()) === 0) {
    const api = await keys.create('api', 'initial API key');
    const app = await keys.create('app', 'initial admin key', ['admin']);
    process.stdout.write(
      `\nFirst start: created two keys. They are shown only now; store them (more with \`hotpath keys create --data ${flags.data}\`).\n` +
        `  API key (send profiles):          ${api.secret}\n` +
        `  Application key (read, admin):    ${app.secret}\n` +
        `  dd-trace-go: DD_TRACE_AGENT_URL=http://hotpath:${api.secret}@<this host>:${port}\n` +
        `  For CPU per request (did PGO help?): start dd-trace-go's tracer too and set DD_PROFILING_ENDPOINT_COUNT_ENABLED=true\n\n`,
    );
  }
  const app = buildApp({
    store,
    keys,
    logger,
    limits,
    anonymousIntake: flags.allowAnonymousIntake === true,
    anonymousRead: flags.allowAnonymousRead === true,
    publicMetrics: flags.publicMetrics === true,
    storeBytes: () => store.blobs.totalBytes(),
  });
  const stopRetention = startRetentionJob({
    index: store.index,
    blobs: store.blobs,
    rawMaxAgeMs,
    pgoMaxAgeMs,
    intervalMs: 10 * 60 * 1000,
    onError: (err) => logger.error({ err }, 'retention failed'),
    onResult: (result) => logger.info(result, 'retention'),
  });

  let closing = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    await stopRetention();
    await app.close();
    await store.close();
    await keys.close();
    logger.info('stopped');
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    const address = await app.listen({ port, host: flags.host });
    logger.info({ address, data: dataDir, anonymousIntake: flags.allowAnonymousIntake === true }, 'hotpath serving');
  } catch (err) {
    await store.close();
    await keys.close();
    throw new CliError(`cannot listen on ${flags.host}:${port}: ${(err as Error).message}`);
  }
}
