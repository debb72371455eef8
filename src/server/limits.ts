import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../pprof/decompressed-size-error.js';

/** Request, decompression, timeout and concurrency limits of the server; its own module so the CLI can show them without loading the server. */
export interface ServerLimits {
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Largest decompressed CPU profile, in bytes (decompression bombs stop here). */
  maxDecompressedBytes: number;
  /** Most attachments in one upload. */
  maxAttachments: number;
  /** Longest time to receive a whole request, headers and body (408 and the connection closed after it). */
  requestTimeoutMs: number;
  /** Longest time to receive a request's headers; at most requestTimeoutMs. */
  headersTimeoutMs: number;
  /**
   * How long an idle keep-alive connection stays open between requests. Longer than the idle
   * timeout of common load balancers and HTTP clients (60 s): a server that closes first races
   * the client's next request on that connection, which then fails (undici: "fetch failed";
   * a load balancer: 502). Idle connections cost a socket each and no memory for bodies.
   */
  keepAliveTimeoutMs: number;
  /** Intake requests reading and processing their bodies at once. */
  maxIntakeInFlight: number;
  /**
   * Declared body bytes (Content-Length; the body limit when absent) of the intake requests
   * admitted at once: what bounds the memory intake bodies hold. Many small uploads fit together,
   * which is what lets their index rows share one commit.
   */
  maxIntakeBytes: number;
  /** Intake requests waiting for a slot; beyond this, 503 with Retry-After. */
  intakeQueueLength: number;
  /** Longest wait for an intake slot before 503. */
  intakeQueueTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxBodyBytes: 32 * 1024 * 1024,
  maxDecompressedBytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
  maxAttachments: 16,
  requestTimeoutMs: 60_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 65_000,
  maxIntakeInFlight: 32,
  maxIntakeBytes: 96 * 1024 * 1024,
  intakeQueueLength: 64,
  intakeQueueTimeoutMs: 10_000,
};

/**
 * How often Node looks for requests past their timeout. Node's default (30 s) would let a 1 s
 * timeout run for up to 31 s; a quarter of the smallest timeout keeps the overrun small, and the
 * check is a walk over open connections, cheap at any of these rates.
 */
export function connectionsCheckingIntervalMs(limits: Pick<ServerLimits, 'requestTimeoutMs' | 'headersTimeoutMs'>): number {
  return Math.max(50, Math.min(30_000, Math.floor(Math.min(limits.requestTimeoutMs, limits.headersTimeoutMs) / 4)));
}
