import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TargetTls } from './config.js';

/** Why a fetch failed, for the API, /metrics (the `reason` label) and the backoff. */
export type FetchFailure =
  /** The target's CPU profiler is taken by another profiler: 500 "Could not enable CPU profiling". */
  | 'profiler_busy'
  | 'connection'
  | 'timeout'
  | 'tls'
  | 'http_status'
  | 'too_large'
  | 'aborted'
  /** A password or token file could not be read. */
  | 'credentials';

/** A fetch that did not return a body: the message says what the target did, for a person. */
export class FetchError extends Error {
  override readonly name = 'FetchError';
  constructor(
    readonly reason: FetchFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface FetchOptions {
  /** The whole request, connecting to the last byte, must finish within this. */
  timeoutMs: number;
  /** A response longer than this is cut off and fails. */
  maxBytes: number;
  headers: Record<string, string>;
  tls: TargetTls | null;
  signal: AbortSignal;
}

/** How much of an error answer's body is quoted in the message. */
const QUOTED_BODY_BYTES = 300;

/** Returns an error body's first line(s) as printable text, cut to a length a message can carry. */
function bodyExcerpt(body: Buffer): string {
  const text = body
    .subarray(0, QUOTED_BODY_BYTES)
    .toString('utf8')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim();
  return body.length > QUOTED_BODY_BYTES ? `${text}…` : text;
}

/** Returns the message of a network error, in the words of the code Node gives it. */
function describeNetworkError(err: NodeJS.ErrnoException, url: URL): FetchError {
  const at = url.host;
  switch (err.code) {
    case 'ECONNREFUSED':
      return new FetchError(
        'connection',
        `connection refused by ${at}: nothing listens there (is the service running, and is its pprof port right?)`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new FetchError('connection', `cannot resolve ${url.hostname}: ${err.code}`);
    case 'ECONNRESET':
      return new FetchError('connection', `${at} closed the connection before answering (ECONNRESET)`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new FetchError('connection', `${at} is unreachable (${err.code})`);
    default:
      if (/certificate|ssl|tls|self.signed|CERT_|ERR_SSL/i.test(`${err.code ?? ''} ${err.message}`)) {
        return new FetchError('tls', `TLS with ${at} failed: ${err.message} (set tls_config.ca_file, or server_name)`);
      }
      return new FetchError('connection', `request to ${at} failed: ${err.message}`);
  }
}

/**
 * GETs `url` and returns the response body. Guarantees: the request is aborted, and rejects
 * with FetchError, when it takes longer than `timeoutMs`, when the body would exceed `maxBytes`
 * (checked against Content-Length before anything is read, then while reading) or when
 * `signal` aborts; any status but 200 is a FetchError quoting the start of the body, and
 * net/http/pprof's 500 "Could not enable CPU profiling" is told apart as `profiler_busy`.
 * Redirects are not followed (net/http/pprof never redirects its profile endpoints).
 */
export function fetchBody(url: URL, options: FetchOptions): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    if (options.signal.aborted) {
      reject(new FetchError('aborted', 'the scrape was stopped'));
      return;
    }
    let settled = false;
    const finish = (err: FetchError | null, body?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(body as Buffer);
    };
    const tls = options.tls;
    const common = { method: 'GET', headers: { 'user-agent': 'hotpath-scraper', accept: '*/*', ...options.headers } };
    const req =
      url.protocol === 'https:'
        ? httpsRequest(url, {
            ...common,
            ca: tls?.ca ?? undefined,
            cert: tls?.cert ?? undefined,
            key: tls?.key ?? undefined,
            rejectUnauthorized: !(tls?.insecureSkipVerify ?? false),
            servername: tls?.serverName ?? undefined,
          })
        : httpRequest(url, common);
    const timer = setTimeout(
      () => finish(new FetchError('timeout', `${url.host} did not answer within ${Math.round(options.timeoutMs / 100) / 10}s`)),
      options.timeoutMs,
    );
    const onAbort = () => finish(new FetchError('aborted', 'the scrape was stopped'));
    options.signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err: NodeJS.ErrnoException) => finish(describeNetworkError(err, url)));
    req.on('response', (res: IncomingMessage) => {
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        finish(
          new FetchError(
            'too_large',
            `${url.host} answered ${declared} bytes, more than body_size_limit (${options.maxBytes} bytes)`,
            res.statusCode,
          ),
        );
        return;
      }
      const chunks: Buffer[] = [];
      let length = 0;
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        length += chunk.length;
        if (length > options.maxBytes) {
          finish(new FetchError('too_large', `${url.host} answered more than body_size_limit (${options.maxBytes} bytes)`, res.statusCode));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err: NodeJS.ErrnoException) => finish(describeNetworkError(err, url)));
      res.on('end', () => {
        const body = Buffer.concat(chunks, length);
        const status = res.statusCode ?? 0;
        if (status === 200) {
          finish(null, body);
          return;
        }
        const excerpt = bodyExcerpt(body);
        if (status === 500 && /Could not enable CPU profiling/i.test(excerpt)) {
          finish(
            new FetchError(
              'profiler_busy',
              `the target is already being CPU-profiled by something else (it answered 500 ${JSON.stringify(excerpt)}): Go runs one CPU profile at a time, so stop the other profiler (dd-trace-go, pyroscope-go, another scraper) or scrape only one of them`,
              status,
            ),
          );
          return;
        }
        const hint =
          status === 404
            ? ' (does the service import net/http/pprof and serve it on this port? set path_prefix if it mounts the handlers elsewhere)'
            : status === 401 || status === 403
              ? " (check the job's basic_auth / authorization)"
              : '';
        finish(
          new FetchError('http_status', `${url.host} answered ${status}${excerpt ? ` ${JSON.stringify(excerpt)}` : ''}${hint}`, status),
        );
      });
    });
    req.end();
  });
}
