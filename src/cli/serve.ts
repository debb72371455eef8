import type { Command } from 'commander';
import { DEFAULT_LIMITS } from '../server/limits.js';
import { addStoreOptions, type StoreFlags } from './store-options.js';

/** dd-trace-go sends to localhost:8126 (the Datadog agent's port) when nothing is configured. */
export const DEFAULT_PORT = 8126;

/** The flags of `hotpath serve`, as commander hands them to the action. */
export interface ServeFlags extends StoreFlags {
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

/** Registers `hotpath serve`; the server (serve-run.ts: fastify, the stores) is loaded only when it runs. */
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
    .action(async (flags: ServeFlags) => (await import('./serve-run.js')).runServe(flags));
}

/** A default duration as a flag value ("60s"). */
function seconds(ms: number): string {
  return `${ms / 1000}s`;
}
