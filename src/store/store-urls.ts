/** Where the S3 blobs live, parsed from `s3://bucket/prefix?endpoint=…&region=…&forcePathStyle=true`. */
export interface S3Location {
  bucket: string;
  /** Prepended to every blob key: empty, or ends with "/". */
  prefix: string;
  /** An S3-compatible endpoint (MinIO, versitygw, Ceph…); absent means AWS itself. */
  endpoint?: string;
  /** Absent: the AWS SDK's chain (AWS_REGION, config files), else us-east-1. */
  region?: string;
  /** Path-style addressing (`http://host/bucket/key`), which most S3-compatible stores need. */
  forcePathStyle: boolean;
}

/** A configuration value the user got wrong; the CLI prints its message as is. */
export class StoreConfigError extends Error {
  override name = 'StoreConfigError';
}

const S3_PARAMS = new Set(['endpoint', 'region', 'forcePathStyle']);

/**
 * Parses a blobs URL. Credentials never go in it (they would show in process lists and logs):
 * they come from the AWS SDK's chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, …).
 * Throws StoreConfigError naming what is wrong.
 */
export function parseS3Url(text: string): S3Location {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new StoreConfigError(
      `blobs URL ${JSON.stringify(text)} is not a URL: expected s3://BUCKET/PREFIX?endpoint=http://HOST:PORT&region=REGION&forcePathStyle=true`,
    );
  }
  if (url.protocol !== 's3:') {
    throw new StoreConfigError(`blobs URL must start with s3:// (an S3-compatible object store), got ${JSON.stringify(url.protocol)}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new StoreConfigError(
      'blobs URL must not carry credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) instead',
    );
  }
  const bucket = url.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new StoreConfigError(`blobs URL bucket ${JSON.stringify(bucket)} is not a valid S3 bucket name (3-63 of a-z, 0-9, ".", "-")`);
  }
  let prefix = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  if (prefix.split('/').some((s, i, all) => (s === '' && i < all.length - 1) || s === '.' || s === '..')) {
    throw new StoreConfigError(`blobs URL prefix ${JSON.stringify(prefix)} has an empty, "." or ".." segment`);
  }
  for (const name of url.searchParams.keys()) {
    if (!S3_PARAMS.has(name))
      throw new StoreConfigError(`blobs URL has unknown parameter ${JSON.stringify(name)} (known: ${[...S3_PARAMS].join(', ')})`);
  }
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]+\/?$/.test(endpoint)) {
    throw new StoreConfigError(`blobs URL endpoint must be http://HOST:PORT or https://HOST:PORT, got ${JSON.stringify(endpoint)}`);
  }
  const style = url.searchParams.get('forcePathStyle');
  if (style !== null && style !== 'true' && style !== 'false') {
    throw new StoreConfigError(`blobs URL forcePathStyle must be true or false, got ${JSON.stringify(style)}`);
  }
  const region = url.searchParams.get('region') ?? undefined;
  return { bucket, prefix, endpoint, region, forcePathStyle: style === 'true' };
}

/** Checks an index URL: PostgreSQL's `postgres://user@host:port/db` (libpq's form; PGPASSWORD and ~/.pgpass work). */
export function checkPostgresUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new StoreConfigError(`index URL ${JSON.stringify(text)} is not a URL: expected postgres://USER@HOST:PORT/DATABASE`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new StoreConfigError(`index URL must start with postgres:// (the only shared index), got ${JSON.stringify(url.protocol)}`);
  }
  if (url.pathname.replace(/^\//, '') === '') throw new StoreConfigError(`index URL ${redactUrl(text)} names no database: add /DATABASE`);
  return text;
}

/** The URL with any password replaced, for logs and error messages. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}
