import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { CliError } from './errors.js';

/** The largest answer a command reads from a server; a default.pgo in base64 is far smaller. */
const MAX_ANSWER_BYTES = 512 * 1024 * 1024;

/** The certificates a command trusts beyond Node's bundled roots, and where they came from. */
export interface ExtraTrust {
  source: string;
  certificates: string[];
}

/** The part of fetch's RequestInit the commands use. */
export interface ServerRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Returns the certificates of `--ca-file`, else of the file SSL_CERT_FILE names, else null.
 * Throws CliError naming the file (and the flag or variable) when it cannot be read, holds no
 * PEM certificate or holds one that does not parse, so a typo fails at once rather than as a
 * TLS error against the server.
 */
export function loadExtraTrust(caFile: string | undefined, env: NodeJS.ProcessEnv = process.env): ExtraTrust | null {
  const from = caFile !== undefined ? '--ca-file' : env.SSL_CERT_FILE ? 'SSL_CERT_FILE' : null;
  if (from === null) return null;
  const file = (caFile ?? env.SSL_CERT_FILE) as string;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`${from} ${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const certificates = text.match(PEM_BLOCK) ?? [];
  if (certificates.length === 0) throw new CliError(`${from} ${file}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  certificates.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new CliError(`${from} ${file}: certificate ${i + 1} does not parse: ${(err as Error).message}`);
    }
  });
  return { source: `${from} ${file}`, certificates };
}

/**
 * Returns the extra trust for requests to `url`: loadExtraTrust's for https:// URLs, null for
 * http:// ones, so a stale SSL_CERT_FILE does not break talking to a plain-HTTP server.
 */
export function trustFor(url: URL, caFile: string | undefined, env: NodeJS.ProcessEnv = process.env): ExtraTrust | null {
  return url.protocol === 'https:' ? loadExtraTrust(caFile, env) : null;
}

function readAnswer(res: IncomingMessage, signal: AbortSignal | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const declared = Number(res.headers['content-length']);
    if (Number.isSafeInteger(declared) && declared > MAX_ANSWER_BYTES) {
      res.destroy();
      reject(new CliError(`the server's answer is ${declared} bytes, over the ${MAX_ANSWER_BYTES} a command reads`));
      return;
    }
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) {
        res.destroy(new CliError(`the server's answer is over the ${MAX_ANSWER_BYTES} bytes a command reads`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', (err) => reject(signal?.aborted ? signal.reason : err));
    res.on('aborted', () =>
      reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: new Error('answer cut off') })),
    );
  });
}

/**
 * fetch() for the commands that talk to a Hotpath server, with `trust` added to Node's bundled
 * roots for https:// URLs (Node's global fetch takes no CA option). It behaves as fetch does
 * where the commands rely on it: the answer is a Response; an aborted `signal` rejects with the
 * signal's reason (a TimeoutError for AbortSignal.timeout); a connection or TLS failure
 * rejects with TypeError('fetch failed') whose `cause` carries the system or TLS error code.
 * Redirects are not followed. The answer is read whole, at most 512 MiB.
 */
export function serverFetch(url: URL, init: ServerRequest = {}, trust: ExtraTrust | null = null): Promise<Response> {
  const { signal } = init;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<Response>((resolve, reject) => {
    const https = url.protocol === 'https:';
    if (!https && url.protocol !== 'http:') {
      reject(
        new TypeError('fetch failed', { cause: Object.assign(new Error(`unsupported protocol ${url.protocol}`), { code: 'EPROTO' }) }),
      );
      return;
    }
    const body = init.body === undefined ? undefined : typeof init.body === 'string' ? Buffer.from(init.body) : init.body;
    const options = {
      method: init.method ?? 'GET',
      headers: { ...init.headers, ...(body !== undefined ? { 'content-length': String(body.length) } : {}) },
      ...(https && trust !== null ? { ca: [...rootCertificates, ...trust.certificates] } : {}),
    };
    const req = (https ? httpsRequest : httpRequest)(url, options, (res) => {
      readAnswer(res, signal).then((bytes) => {
        const status = res.statusCode ?? 0;
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) headers.append(k, one);
        }
        const noBody = status === 204 || status === 205 || status === 304;
        resolve(new Response(noBody ? null : bytes, { status, headers }));
      }, reject);
    });
    const onAbort = () => req.destroy(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => signal?.removeEventListener('abort', onAbort));
    req.on('error', (err) => reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: err })));
    req.end(body);
  });
}
