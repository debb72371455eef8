import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

/** The versitygw release the tests and CI run (`go install github.com/versity/versitygw/cmd/versitygw@v1.8.0`). */
export const VERSITYGW_VERSION = 'v1.8.0';

/** Time allowed for the gateway to start answering, and to exit when stopped. */
const READY_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 10_000;

/** A versitygw S3 gateway for tests, with one fresh bucket. */
export interface Versitygw {
  /** `s3://BUCKET?endpoint=…&forcePathStyle=true&region=us-east-1` for the fresh bucket. */
  url: string;
  bucket: string;
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** Credentials in the form S3Blobs and the SDK take. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Creates another fresh, empty bucket on the same gateway and returns its URL. */
  newBucketUrl(): Promise<string>;
  /** Stops the gateway process (its data stays); only for a gateway this call started. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory and waits until it answers. */
  start(): Promise<void>;
  /** Removes the buckets this call created, stops a gateway it started and removes its data; harmless twice. */
  close(): Promise<void>;
}

export interface VersitygwOptions {
  /**
   * Start a private gateway even when HOTPATH_TEST_S3_ENDPOINT names a shared one (needed to
   * stop and start it). Default false.
   */
  own?: boolean;
}

/**
 * Returns a versitygw with a fresh bucket. When HOTPATH_TEST_S3_ENDPOINT is set (CI starts one
 * shared gateway, with HOTPATH_TEST_S3_ACCESS_KEY and HOTPATH_TEST_S3_SECRET_KEY), only the
 * bucket is new; otherwise a gateway with the posix backend is started on a temporary directory
 * and a free port, from HOTPATH_VERSITYGW, `versitygw` on PATH or `$(go env GOPATH)/bin`.
 */
export async function startVersitygw(options: VersitygwOptions = {}): Promise<Versitygw> {
  const shared = process.env.HOTPATH_TEST_S3_ENDPOINT;
  const gateway = shared !== undefined && shared !== '' && options.own !== true ? sharedGateway(shared) : await ownGateway();
  const buckets: string[] = [];
  const client = new S3Client({
    endpoint: gateway.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: gateway.accessKey, secretAccessKey: gateway.secretKey },
    maxAttempts: 1,
  });
  const newBucketUrl = async (): Promise<string> => {
    const bucket = `hotpath-test-${randomBytes(6).toString('hex')}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }), { abortSignal: AbortSignal.timeout(READY_TIMEOUT_MS) });
    buckets.push(bucket);
    return bucketUrl(bucket, gateway.endpoint);
  };
  let closed = false;
  try {
    const url = await newBucketUrl();
    return {
      url,
      bucket: buckets[0],
      endpoint: gateway.endpoint,
      accessKey: gateway.accessKey,
      secretKey: gateway.secretKey,
      credentials: { accessKeyId: gateway.accessKey, secretAccessKey: gateway.secretKey },
      newBucketUrl,
      stop: gateway.stop,
      start: gateway.start,
      async close() {
        if (closed) return;
        closed = true;
        try {
          if (gateway.removesData) await gateway.close();
          else for (const bucket of buckets) await emptyAndDeleteBucket(client, bucket);
        } finally {
          client.destroy();
          if (!gateway.removesData) await gateway.close();
        }
      },
    };
  } catch (err) {
    client.destroy();
    await gateway.close();
    throw err;
  }
}

/** The blobs URL of `bucket` on a local gateway. */
export function bucketUrl(bucket: string, endpoint: string, prefix = ''): string {
  const query = new URLSearchParams({ endpoint, forcePathStyle: 'true', region: 'us-east-1' });
  return `s3://${bucket}/${prefix}?${query}`;
}

interface Gateway {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** True when close removes the whole data directory (then buckets need no cleanup). */
  removesData: boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

function sharedGateway(endpoint: string): Gateway {
  const accessKey = process.env.HOTPATH_TEST_S3_ACCESS_KEY;
  const secretKey = process.env.HOTPATH_TEST_S3_SECRET_KEY;
  if (accessKey === undefined || secretKey === undefined) {
    throw new Error(
      'HOTPATH_TEST_S3_ENDPOINT is set: set HOTPATH_TEST_S3_ACCESS_KEY and HOTPATH_TEST_S3_SECRET_KEY to its root credentials too',
    );
  }
  const refuse = async (): Promise<void> => {
    throw new Error('the shared gateway (HOTPATH_TEST_S3_ENDPOINT) cannot be stopped by a test: call startVersitygw({ own: true })');
  };
  return {
    endpoint: endpoint.replace(/\/+$/, ''),
    accessKey,
    secretKey,
    removesData: false,
    stop: refuse,
    start: refuse,
    close: async () => {},
  };
}

async function ownGateway(): Promise<Gateway> {
  const binary = findVersitygw();
  const dataDir = await mkdtemp(join(tmpdir(), 'hotpath-versitygw-'));
  const accessKey = `hotpath${randomBytes(4).toString('hex')}`;
  const secretKey = randomBytes(18).toString('base64url');
  let child: ChildProcess | null = null;
  let port = 0;

  const launch = async (): Promise<void> => {
    // --keep-alive: without it versitygw answers every request with `Connection: close`, so each
    // blob put or get pays a TCP connect on both sides, which no production S3 store makes us do.
    const started = spawn(binary, ['--quiet', '--keep-alive', '--port', `127.0.0.1:${port}`, 'posix', dataDir], {
      // Credentials through the environment, not arguments, which other processes can read.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ROOT_ACCESS_KEY_ID: accessKey, ROOT_SECRET_ACCESS_KEY: secretKey },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = started;
    let stderr = '';
    started.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 4000) stderr += chunk;
    });
    const exited = new Promise<string>((resolve) => {
      started.once('exit', (code, signal) => resolve(`versitygw exited (${signal ?? code}) before answering: ${stderr.trim()}`));
      started.once('error', (err) => resolve(`versitygw could not start: ${err.message}`));
    });
    const outcome = await Promise.race([waitUntilAnswering(`http://127.0.0.1:${port}/`).then(() => null), exited]);
    if (outcome !== null) {
      child = null;
      throw new Error(outcome);
    }
  };

  const stop = async (): Promise<void> => {
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  try {
    // A free port can be taken between the check and the gateway's bind: try a few.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await launch();
        break;
      } catch (err) {
        if (attempt === 3) throw err;
      }
    }
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKey,
    secretKey,
    removesData: true,
    stop,
    async start() {
      if (child !== null) return;
      await launch();
    },
    async close() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The versitygw binary: HOTPATH_VERSITYGW, else on PATH, else in `$(go env GOPATH)/bin`. */
export function findVersitygw(): string {
  const configured = process.env.HOTPATH_VERSITYGW;
  if (configured !== undefined && configured !== '') {
    if (!existsSync(configured)) throw new Error(`HOTPATH_VERSITYGW=${configured} does not exist`);
    return configured;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'versitygw'))) return join(dir, 'versitygw');
  }
  try {
    const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8', timeout: 30_000 }).trim().split(delimiter)[0];
    if (gopath !== '' && existsSync(join(gopath, 'bin', 'versitygw'))) return join(gopath, 'bin', 'versitygw');
  } catch {
    // No go toolchain: fall through to the instructions.
  }
  throw new Error(
    `versitygw not found (HOTPATH_VERSITYGW, PATH, $(go env GOPATH)/bin): install it with \`go install github.com/versity/versitygw/cmd/versitygw@${VERSITYGW_VERSION}\``,
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves once an HTTP request to `url` gets any answer; rejects after READY_TIMEOUT_MS. */
async function waitUntilAnswering(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (await answers(url)) return;
    if (Date.now() > deadline) throw new Error(`versitygw at ${url} did not answer within ${READY_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function emptyAndDeleteBucket(client: S3Client, bucket: string): Promise<void> {
  const abortSignal = AbortSignal.timeout(READY_TIMEOUT_MS);
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }), { abortSignal });
    const objects = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
    if (objects.length === 0) break;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }), { abortSignal });
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }), { abortSignal });
}
