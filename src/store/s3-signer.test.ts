import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { encodeRfc3986, S3Signer, sha256Hex } from './s3-signer.js';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

/** The headers of the PutObject request the AWS SDK signs for `key`, captured after signing and never sent. */
async function sdkSignedPut(key: string, body: Buffer, sessionToken?: string): Promise<{ url: URL; headers: Record<string, string> }> {
  const client = new S3Client({
    endpoint: 'http://127.0.0.1:9',
    region: 'eu-west-3',
    forcePathStyle: true,
    credentials: { ...CREDENTIALS, sessionToken },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
  let captured: { url: URL; headers: Record<string, string> } | null = null;
  client.middlewareStack.addRelativeTo(
    () => async (args: { request: unknown }) => {
      const req = args.request as {
        hostname: string;
        port?: number;
        path: string;
        query: Record<string, string>;
        headers: Record<string, string>;
      };
      const url = new URL(`http://${req.hostname}:${req.port}${req.path}`);
      for (const [name, value] of Object.entries(req.query)) url.searchParams.set(name, value);
      captured = { url, headers: { ...req.headers } };
      throw new Error('captured');
    },
    { relation: 'after', toMiddleware: 'awsAuthMiddleware', name: 'captureForTest' },
  );
  await assert.rejects(
    client.send(new PutObjectCommand({ Bucket: 'bucket-1', Key: key, Body: body, ContentType: 'application/octet-stream' })),
    /captured/,
  );
  client.destroy();
  assert.ok(captured !== null);
  return captured;
}

/** Signs what the SDK signed (the same headers, time and payload hash) and returns both Authorization headers. */
async function bothSignatures(key: string, sessionToken?: string): Promise<[string, string]> {
  const body = Buffer.from('profile bytes');
  const sdk = await sdkSignedPut(key, body, sessionToken);
  const authorization = sdk.headers.authorization;
  const signedNames = /SignedHeaders=([^,]+)/.exec(authorization)?.[1].split(';') ?? [];
  const automatic = new Set(['host', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token']);
  const headers = Object.fromEntries(signedNames.filter((n) => !automatic.has(n)).map((n) => [n, sdk.headers[n]]));
  const date = sdk.headers['x-amz-date'];
  const now = new Date(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  assert.equal(sdk.headers['x-amz-content-sha256'], sha256Hex(body));
  const ours = new S3Signer('eu-west-3').sign(
    { method: 'PUT', url: sdk.url, headers, payloadSha256: sha256Hex(body) },
    { ...CREDENTIALS, sessionToken },
    now,
  );
  return [ours.authorization, authorization];
}

describe('S3Signer', () => {
  it('signs a put exactly as the AWS SDK does', async () => {
    const [ours, sdk] = await bothSignatures('prefix/2026010100/abc/raw-0-cpu.pprof~');
    assert.equal(ours, sdk);
  });

  it('signs keys with characters that need encoding exactly as the AWS SDK does', async () => {
    const [ours, sdk] = await bothSignatures("odd prefix+(1)*'ü'/2026010100/a~");
    assert.equal(ours, sdk);
  });

  it('signs the session token of temporary credentials exactly as the AWS SDK does', async () => {
    const [ours, sdk] = await bothSignatures('k~', 'session-token/with+odd=chars');
    assert.match(ours, /x-amz-security-token/);
    assert.equal(ours, sdk);
  });

  it('derives a new signing key when the day changes', () => {
    const signer = new S3Signer('us-east-1');
    const request = { method: 'PUT', url: new URL('http://h/b/k'), headers: {}, payloadSha256: sha256Hex(Buffer.alloc(0)) };
    const first = signer.sign(request, CREDENTIALS, new Date('2026-01-01T23:59:59Z')).authorization;
    const next = signer.sign(request, CREDENTIALS, new Date('2026-01-02T00:00:01Z')).authorization;
    const fresh = new S3Signer('us-east-1').sign(request, CREDENTIALS, new Date('2026-01-02T00:00:01Z')).authorization;
    assert.match(first, /Credential=AKIDEXAMPLE\/20260101\/us-east-1\/s3\/aws4_request/);
    assert.equal(next, fresh);
  });

  it('encodes what RFC 3986 reserves, keeping unreserved characters', () => {
    assert.equal(encodeRfc3986("a b!'()*~._-ü/"), 'a%20b%21%27%28%29%2A~._-%C3%BC%2F');
  });
});
