import { createHash, createHmac } from 'node:crypto';

/** Credentials as the AWS SDK's chain resolves them. */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials (STS, instance roles) carry a session token, sent as x-amz-security-token. */
  sessionToken?: string;
}

/** A request to sign: its method, full URL and the headers to sign (Host and the x-amz-* ones are added). */
export interface UnsignedRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** Lowercase hex SHA-256 of the body, which the store checks against the body it receives. */
  payloadSha256: string;
}

/** Hex SHA-256 of `bytes`, as x-amz-content-sha256 wants it. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Signs S3 requests with AWS Signature Version 4 (header-based, the signed payload hash): what
 * the AWS SDK's signer sends, without the SDK's middleware stack around it, which costs a few
 * milliseconds of CPU per request, more than the request itself. The signing key is derived
 * once per day, region and secret.
 */
export class S3Signer {
  private cachedKey: { scope: string; secret: string; key: Buffer } | null = null;

  constructor(private readonly region: string) {}

  /**
   * Returns the headers to send: the request's own plus Host, x-amz-date, x-amz-content-sha256,
   * x-amz-security-token (temporary credentials only) and Authorization. `now` is the signing
   * time (S3 refuses a signature more than 15 minutes off its clock).
   */
  sign(request: UnsignedRequest, credentials: SigningCredentials, now = new Date()): Record<string, string> {
    const amzDate = now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const day = amzDate.slice(0, 8);
    const scope = `${day}/${this.region}/s3/aws4_request`;
    const headers: Record<string, string> = {
      ...request.headers,
      host: request.url.host,
      'x-amz-date': amzDate,
      'x-amz-content-sha256': request.payloadSha256,
    };
    if (credentials.sessionToken !== undefined) headers['x-amz-security-token'] = credentials.sessionToken;
    const names = Object.keys(headers)
      .map((n) => n.toLowerCase())
      .sort();
    const lowered = new Map(Object.entries(headers).map(([n, v]) => [n.toLowerCase(), v]));
    const canonicalHeaders = names.map((n) => `${n}:${String(lowered.get(n)).trim().replace(/\s+/g, ' ')}\n`).join('');
    const signedHeaders = names.join(';');
    const canonicalRequest = [
      request.method,
      canonicalPath(request.url.pathname),
      canonicalQuery(request.url.searchParams),
      canonicalHeaders,
      signedHeaders,
      request.payloadSha256,
    ].join('\n');
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
    const signature = createHmac('sha256', this.signingKey(scope, day, credentials.secretAccessKey))
      .update(stringToSign)
      .digest('hex');
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }

  private signingKey(scope: string, day: string, secret: string): Buffer {
    if (this.cachedKey?.scope === scope && this.cachedKey.secret === secret) return this.cachedKey.key;
    let key = createHmac('sha256', `AWS4${secret}`).update(day).digest();
    for (const part of [this.region, 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    this.cachedKey = { scope, secret, key };
    return key;
  }
}

/**
 * The path as S3 signs it: every segment URI-encoded once (RFC 3986 unreserved characters kept),
 * slashes kept. `pathname` comes from a URL, so it is percent-encoded already: decoded first.
 */
function canonicalPath(pathname: string): string {
  return pathname
    .split('/')
    .map((segment) => encodeRfc3986(decodeURIComponent(segment)))
    .join('/');
}

function canonicalQuery(params: URLSearchParams): string {
  return [...params]
    .map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)])
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** encodeURIComponent plus the characters RFC 3986 reserves that it leaves alone. */
export function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
