import { createHash } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { type BlobInfo, type Blobs, checkBlobKey, checkBlobRange } from './blobs.js';
import { BlobRangeError, StoreUnavailableError } from './errors.js';
import { encodeRfc3986, S3Signer, sha256Hex } from './s3-signer.js';
import { type S3Location, StoreConfigError } from './store-urls.js';

/**
 * Appended to every key to make its object name. Keys never contain "~", so an object name ends
 * with it and a "directory" segment never does: stores that keep objects as files (versitygw's
 * posix backend, MinIO on one disk) cannot hold both `a` and `a/b`, but they can hold `a~` and
 * `a/b~`. Objects without it (anything else in the bucket) are not blobs and `list` skips them.
 */
export const S3_OBJECT_SUFFIX = '~';

/** Tuning of one S3Blobs; every field has a default meant for production. */
export interface S3BlobsOptions {
  /** Explicit credentials; absent: the AWS SDK's chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, …). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Time allowed to open a TCP (and TLS) connection; default 5 s. */
  connectionTimeoutMs?: number;
  /** Time allowed for one attempt, request and response; default 30 s. */
  requestTimeoutMs?: number;
  /** Time allowed for one operation with all its attempts and the response body; default 120 s. */
  operationTimeoutMs?: number;
  /** Attempts per request, the first included, for network errors, timeouts and 5xx answers; default 3. */
  maxAttempts?: number;
  /** Connections kept to the store at most; further requests wait for one; default 64. */
  maxSockets?: number;
  /** Objects per ListObjectsV2 page (1–1000); default 1000. */
  listPageSize?: number;
  /** Time the first `totalBytes` waits for the first count before it answers with the sum so far; default 5 s. */
  firstCountWaitMs?: number;
  /** Age after which `totalBytes` starts a new count in the background; default 1 hour. */
  recountIntervalMs?: number;
}

const DEFAULTS = {
  connectionTimeoutMs: 5_000,
  requestTimeoutMs: 30_000,
  operationTimeoutMs: 120_000,
  maxAttempts: 3,
  maxSockets: 64,
  listPageSize: 1000,
  firstCountWaitMs: 5_000,
  recountIntervalMs: 60 * 60 * 1000,
} satisfies Required<Omit<S3BlobsOptions, 'credentials'>>;

/** Most bytes of an error answer's body read (its XML names the error). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** First wait before retrying a put; it doubles per attempt, with jitter. */
const RETRY_BASE_MS = 50;

/** Keys per DeleteObjects request, S3's limit. */
const MAX_DELETE_BATCH = 1000;

/** Network failures that mean the store is not reachable (or stopped answering mid-request). */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

interface PendingDelete {
  objectKey: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Blobs in an S3-compatible object store: the object for key K is `prefix + K + "~"` in the
 * location's bucket (see S3_OBJECT_SUFFIX). Two stores may share a bucket under different
 * prefixes; a store with an empty prefix owns the whole bucket (its orphan collection would take
 * another store's blobs for its own).
 *
 * A put is one PutObject with Content-MD5: the store refuses a body that arrived damaged, and
 * S3 makes an object visible only when it is complete, so readers see the old bytes or the new
 * ones. Every request has a connection timeout, a per-attempt timeout and an overall deadline,
 * is retried a bounded number of times, and shares a bounded pool of sockets. A failure of the
 * store (unreachable, timing out, 5xx, refusing our credentials) rejects with
 * StoreUnavailableError naming the operation, bucket and endpoint; the same instance works again
 * once the store is back.
 */
export class S3Blobs implements Blobs {
  /** The SDK client, for tests that observe requests through its middleware stack. */
  readonly client: S3Client;
  private readonly options: Required<Omit<S3BlobsOptions, 'credentials'>>;
  private readonly where: string;
  /** Puts without the SDK (see putDirect); null for AWS S3 itself (no endpoint), where the SDK resolves the URL. */
  private readonly direct: { signer: S3Signer; agent: Agent; base: URL } | null;
  /** The keep-alive agents the SDK and the direct puts share; destroyed by close, or their idle sockets keep the process alive. */
  private readonly agents: Array<Agent | HttpsAgent>;
  private closed = false;
  private pendingDeletes: PendingDelete[] = [];
  private deleteFlush: Promise<void> | null = null;
  /** Result of the last complete count, and when that count started. */
  private counted: { bytes: number; startedAt: number } | null = null;
  /** Bytes put by this instance since the last count started. */
  private putSinceCount = 0;
  private counting: Promise<number> | null = null;
  /** Bytes the count in progress has seen so far. */
  private countedSoFar = 0;
  /** `putSinceCount` when the count in progress began (those puts may be in its listing). */
  private putAtCountStart = 0;

  private constructor(
    readonly location: S3Location,
    region: string,
    options: S3BlobsOptions,
  ) {
    this.options = { ...DEFAULTS, ...withoutUndefined(options) };
    delete (this.options as S3BlobsOptions).credentials;
    if (!(this.options.listPageSize >= 1 && this.options.listPageSize <= 1000)) {
      throw new RangeError(`listPageSize must be 1 to 1000, got ${this.options.listPageSize}`);
    }
    this.where = `bucket ${JSON.stringify(location.bucket)} at ${location.endpoint ?? 'AWS S3'}`;
    const agentOptions = { keepAlive: true, maxSockets: this.options.maxSockets };
    const httpAgent = new Agent(agentOptions);
    const httpsAgent = new HttpsAgent(agentOptions);
    this.agents = [httpAgent, httpsAgent];
    if (location.endpoint === undefined) {
      this.direct = null;
    } else {
      const base = new URL(location.endpoint);
      if (!location.forcePathStyle) base.hostname = `${location.bucket}.${base.hostname}`;
      base.pathname = location.forcePathStyle ? `/${location.bucket}/` : '/';
      this.direct = { signer: new S3Signer(region), agent: base.protocol === 'https:' ? httpsAgent : httpAgent, base };
    }
    this.client = new S3Client({
      endpoint: location.endpoint,
      region,
      forcePathStyle: location.forcePathStyle,
      credentials: options.credentials,
      maxAttempts: this.options.maxAttempts,
      // Content-MD5 on puts is understood by every S3-compatible store; the SDK's newer default
      // checksums (CRC32 trailers) are not, so they are sent only where S3 requires a checksum.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: this.options.connectionTimeoutMs,
        requestTimeout: this.options.requestTimeoutMs,
        throwOnRequestTimeout: true,
        socketTimeout: this.options.requestTimeoutMs,
        httpAgent,
        httpsAgent,
      },
    });
  }

  /**
   * Connects to the location's bucket and checks it with HeadBucket. Rejects with
   * StoreConfigError when the bucket is missing, the credentials are missing or refused, or the
   * region is wrong, and with StoreUnavailableError when the endpoint cannot be reached; the
   * message names the bucket, the endpoint and what to fix, on one line.
   */
  static async open(location: S3Location, options: S3BlobsOptions = {}): Promise<S3Blobs> {
    const blobs = new S3Blobs(location, location.region ?? (await defaultRegion()), options);
    try {
      await blobs.client.send(new HeadBucketCommand({ Bucket: location.bucket }), {
        abortSignal: AbortSignal.timeout(blobs.options.operationTimeoutMs),
      });
    } catch (err) {
      await blobs.close();
      throw blobs.openFailure(err);
    }
    return blobs;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    checkBlobKey(key);
    // A copy: the caller may reuse its array, and a retry must send the same bytes.
    const body = Buffer.from(bytes);
    const md5 = createHash('md5').update(body).digest('base64');
    const direct = this.direct;
    if (direct !== null) {
      await this.attempt('put', key, (abortSignal) => this.putDirect(direct, this.objectKey(key), body, md5, abortSignal));
      this.putSinceCount += body.byteLength;
      return;
    }
    await this.attempt('put', key, (abortSignal) =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.location.bucket,
          Key: this.objectKey(key),
          Body: body,
          ContentLength: body.byteLength,
          ContentMD5: md5,
          ContentType: 'application/octet-stream',
        }),
        { abortSignal },
      ),
    );
    this.putSinceCount += body.byteLength;
  }

  async get(key: string): Promise<Uint8Array | null> {
    checkBlobKey(key);
    return this.attempt('get', key, async (abortSignal) => {
      let answer: GetObjectCommandOutput;
      try {
        answer = await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.objectKey(key) }), { abortSignal });
      } catch (err) {
        if (isMissingKey(err)) return null;
        throw err;
      }
      const data = answer.Body === undefined ? new Uint8Array(0) : await answer.Body.transformToByteArray();
      if (answer.ContentLength !== undefined && data.byteLength !== answer.ContentLength) {
        throw new Error(`the response body has ${data.byteLength} bytes, its Content-Length says ${answer.ContentLength}`);
      }
      return data;
    });
  }

  /**
   * One GetObject with `Range: bytes=offset-end`; the answer must hold exactly `length` bytes
   * (a store that answers a range past the object's end with fewer bytes, or 416, means the
   * object is too short: BlobRangeError; one that ignores Range and sends the whole object has the
   * range cut from it). An empty range asks HeadObject for the size instead,
   * since HTTP has no empty byte range.
   */
  async getRange(key: string, offset: number, length: number): Promise<Uint8Array | null> {
    checkBlobKey(key);
    checkBlobRange(offset, length);
    const tooShort = (size: number | string): BlobRangeError =>
      new BlobRangeError(
        `blob ${JSON.stringify(key)} in ${this.where} holds ${size} bytes, too few for ${length} bytes at offset ${offset}`,
      );
    return this.attempt('get', key, async (abortSignal) => {
      const request = { Bucket: this.location.bucket, Key: this.objectKey(key) };
      if (length === 0) {
        try {
          const head = await this.client.send(new HeadObjectCommand(request), { abortSignal });
          if ((head.ContentLength ?? 0) < offset) throw tooShort(head.ContentLength ?? 0);
          return new Uint8Array(0);
        } catch (err) {
          if (isMissingKey(err)) return null;
          throw err;
        }
      }
      let answer: GetObjectCommandOutput;
      try {
        answer = await this.client.send(new GetObjectCommand({ ...request, Range: `bytes=${offset}-${offset + length - 1}` }), {
          abortSignal,
        });
      } catch (err) {
        if (isMissingKey(err)) return null;
        if (statusOf(err) === 416 || (err as { name?: unknown } | null)?.name === 'InvalidRange') throw tooShort(`at most ${offset}`);
        throw err;
      }
      const data = answer.Body === undefined ? new Uint8Array(0) : await answer.Body.transformToByteArray();
      if (answer.ContentLength !== undefined && data.byteLength !== answer.ContentLength) {
        throw new Error(`the response body has ${data.byteLength} bytes, its Content-Length says ${answer.ContentLength}`);
      }
      if (answer.ContentRange === undefined) {
        // HTTP lets a server ignore Range and answer the whole object (200): cut the range from it.
        if (offset + length > data.byteLength) throw tooShort(data.byteLength);
        return data.subarray(offset, offset + length);
      }
      const expectedRange = `bytes ${offset}-${offset + length - 1}/`;
      if (data.byteLength !== length || !answer.ContentRange.startsWith(expectedRange)) {
        if (answer.ContentRange !== undefined && /^bytes \d+-\d+\/\d+$/.test(answer.ContentRange) && data.byteLength < length) {
          throw tooShort(answer.ContentRange.slice(answer.ContentRange.indexOf('/') + 1));
        }
        throw new Error(
          `asked for bytes ${offset}-${offset + length - 1}, the store answered ${data.byteLength} bytes with Content-Range ${JSON.stringify(answer.ContentRange ?? null)}`,
        );
      }
      return data;
    });
  }

  /**
   * Deletes in one DeleteObjects request per 1,000 keys: deletes started together (for example
   * with Promise.all) share requests. Deleting a missing key succeeds.
   */
  async delete(key: string): Promise<void> {
    checkBlobKey(key);
    this.checkOpen('delete', key);
    await new Promise<void>((resolve, reject) => {
      this.pendingDeletes.push({ objectKey: this.objectKey(key), resolve, reject });
      this.deleteFlush ??= new Promise<void>((done) => setImmediate(done)).then(() => this.flushDeletes());
    });
  }

  /**
   * Lists with ListObjectsV2 under `prefix + key prefix`, one page of at most listPageSize
   * objects at a time, so only the asked prefix is read. A prefix no key can start with (odd
   * characters, "..", "//") lists nothing without asking the store.
   */
  async *list(prefix = ''): AsyncIterable<BlobInfo> {
    if (!isKeyPrefix(prefix)) return;
    this.checkOpen('list', prefix);
    const storePrefix = this.location.prefix;
    let token: string | undefined;
    for (;;) {
      const page: ListObjectsV2CommandOutput = await this.attempt('list', prefix, (abortSignal) =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.location.bucket,
            Prefix: storePrefix + prefix,
            MaxKeys: this.options.listPageSize,
            ContinuationToken: token,
          }),
          { abortSignal },
        ),
      );
      for (const object of page.Contents ?? []) {
        const key = keyOfObject(object.Key, storePrefix);
        if (key === null) continue;
        yield { key, size: object.Size ?? 0, modifiedMs: object.LastModified?.getTime() ?? 0 };
      }
      if (page.IsTruncated !== true) return;
      const next = page.NextContinuationToken;
      if (next === undefined || next === '' || next === token) {
        throw this.failure('list', prefix, new Error('the store said the listing goes on but gave no new continuation token'));
      }
      token = next;
    }
  }

  /**
   * Approximate, and cheap to ask often. The first call counts every blob with one listing and
   * waits for it up to firstCountWaitMs (default 5 s; a bucket of millions of objects takes
   * minutes), returning the sum so far when the count is still going; later calls return the
   * last count plus the bytes this instance put since it began, and start a new count in the
   * background once the last one is older than recountIntervalMs (default 1 hour). So the total
   * lags behind deletes, puts that replace a blob and other replicas' puts until the next count,
   * and one replica lists the whole store at most once an hour.
   */
  async totalBytes(): Promise<number> {
    if (this.counted === null) {
      const counting = this.count();
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), this.options.firstCountWaitMs);
      });
      try {
        const total = await Promise.race([counting, waited]);
        return total ?? this.countedSoFar + this.putSinceCount - this.putAtCountStart;
      } finally {
        clearTimeout(timer);
      }
    }
    if (Date.now() - this.counted.startedAt >= this.options.recountIntervalMs && this.counting === null) {
      // A failed recount leaves the last count in place; the next call after the interval retries.
      this.count().catch(() => {});
    }
    return this.counted.bytes + this.putSinceCount;
  }

  /** Sends deletes still queued, then releases the sockets; calling it twice is harmless. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.deleteFlush !== null) await this.deleteFlush;
    this.closed = true;
    this.client.destroy();
    // Idle keep-alive sockets would keep the process alive: destroy the agents whatever the SDK does with them.
    for (const agent of this.agents) agent.destroy();
  }

  private count(): Promise<number> {
    this.counting ??= (async () => {
      const startedAt = Date.now();
      const putBefore = this.putSinceCount;
      this.putAtCountStart = putBefore;
      this.countedSoFar = 0;
      try {
        let bytes = 0;
        for await (const blob of this.list()) {
          bytes += blob.size;
          this.countedSoFar = bytes;
        }
        // Puts that ended during the walk may be in `bytes` as well: approximate, as documented.
        this.counted = { bytes, startedAt };
        this.putSinceCount -= putBefore;
        return bytes + this.putSinceCount;
      } finally {
        this.counting = null;
      }
    })();
    return this.counting;
  }

  private async flushDeletes(): Promise<void> {
    try {
      while (this.pendingDeletes.length > 0) {
        const batch = this.pendingDeletes.splice(0, MAX_DELETE_BATCH);
        try {
          const what = batch.length === 1 ? batch[0].objectKey : `${batch.length} objects from ${batch[0].objectKey}`;
          const answer = await this.attempt('delete', what, (abortSignal) =>
            this.client.send(
              new DeleteObjectsCommand({
                Bucket: this.location.bucket,
                Delete: { Objects: batch.map((d) => ({ Key: d.objectKey })), Quiet: true },
              }),
              { abortSignal },
            ),
          );
          const refused = new Map((answer.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey').map((e) => [e.Key, e]));
          for (const d of batch) {
            const error = refused.get(d.objectKey);
            if (error === undefined) d.resolve();
            else d.reject(this.failure('delete', d.objectKey, new Error(`${error.Code ?? 'error'}: ${error.Message ?? 'refused'}`)));
          }
        } catch (err) {
          for (const d of batch) d.reject(err);
        }
      }
    } finally {
      this.deleteFlush = null;
    }
  }

  /**
   * One PutObject as the SDK would send it (Signature V4 over the payload's SHA-256, Content-MD5),
   * straight over the shared keep-alive agent: the SDK's middleware stack costs more CPU per
   * request than the request, and a profile upload makes several puts. Same guarantees as the
   * SDK path: the store checks both digests, network failures, timeouts and 5xx answers are
   * retried up to maxAttempts with a growing wait, each attempt has the connection and request
   * timeouts, and `abortSignal` (the operation's deadline) ends it all.
   */
  private async putDirect(
    direct: { signer: S3Signer; agent: Agent; base: URL },
    objectKey: string,
    body: Buffer,
    md5: string,
    abortSignal: AbortSignal,
  ): Promise<void> {
    const url = new URL(objectKey.split('/').map(encodeRfc3986).join('/'), direct.base);
    const payloadSha256 = sha256Hex(body);
    for (let attempt = 1; ; attempt++) {
      const credentials = await this.client.config.credentials();
      const headers = direct.signer.sign(
        {
          method: 'PUT',
          url,
          headers: { 'content-length': String(body.byteLength), 'content-md5': md5, 'content-type': 'application/octet-stream' },
          payloadSha256,
        },
        credentials,
      );
      try {
        await this.sendOnce(url, headers, body, direct.agent, abortSignal);
        return;
      } catch (err) {
        if (attempt >= this.options.maxAttempts || abortSignal.aborted || !isRetryable(err)) throw err;
        const wait = RETRY_BASE_MS * 2 ** (attempt - 1) * (0.5 + Math.random());
        await sleep(wait, undefined, { signal: abortSignal });
      }
    }
  }

  /** Sends one signed PUT; resolves on 2xx, rejects with the store's error (name = its code, $metadata.httpStatusCode) otherwise. */
  private sendOnce(url: URL, headers: Record<string, string>, body: Buffer, agent: Agent, abortSignal: AbortSignal): Promise<void> {
    const attemptSignal = AbortSignal.any([abortSignal, AbortSignal.timeout(this.options.requestTimeoutMs)]);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<void>((resolve, reject) => {
      const req = send(url, { method: 'PUT', headers, agent, signal: attemptSignal }, (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let length = 0;
        res.on('data', (chunk: Buffer) => {
          if (length < MAX_ERROR_BODY_BYTES) chunks.push(chunk);
          length += chunk.byteLength;
        });
        res.on('error', reject);
        res.on('end', () => {
          if (status >= 200 && status < 300) return resolve();
          reject(storeAnswerError(status, Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY_BYTES).toString('utf8')));
        });
      });
      req.on('error', reject);
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => {
          const err = Object.assign(new Error(`no connection within ${this.options.connectionTimeoutMs} ms`), { code: 'ETIMEDOUT' });
          req.destroy(err);
        }, this.options.connectionTimeoutMs);
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      req.end(body);
    });
  }

  private objectKey(key: string): string {
    return `${this.location.prefix}${key}${S3_OBJECT_SUFFIX}`;
  }

  private checkOpen(operation: string, key: string): void {
    if (this.closed) throw new Error(`S3 blobs: ${operation} of ${JSON.stringify(key)} after close`);
  }

  /** Runs one operation under the overall deadline and turns a failure of the store into StoreUnavailableError. */
  private async attempt<T>(operation: string, key: string, run: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    this.checkOpen(operation, key);
    try {
      return await run(AbortSignal.timeout(this.options.operationTimeoutMs));
    } catch (err) {
      // A damaged or wrong range is not an outage: retrying or answering 503 would not help.
      if (err instanceof StoreUnavailableError || err instanceof BlobRangeError) throw err;
      throw this.failure(operation, key, err);
    }
  }

  private failure(operation: string, key: string, err: unknown): StoreUnavailableError {
    return new StoreUnavailableError(`S3 blobs: ${operation} of ${JSON.stringify(key)} in ${this.where} failed: ${reasonOf(err)}`, {
      cause: err,
    });
  }

  private openFailure(err: unknown): Error {
    const status = statusOf(err);
    const name = (err as { name?: unknown } | null)?.name;
    const setCredentials = 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) to a key of this store';
    if (name === 'CredentialsProviderError') {
      return new StoreConfigError(`cannot open blobs in ${this.where}: no S3 credentials found: ${setCredentials}`, { cause: err });
    }
    if (status === 404) {
      return new StoreConfigError(
        `cannot open blobs: ${this.where} does not exist: create the bucket first, or fix its name in the blobs URL`,
        {
          cause: err,
        },
      );
    }
    if (status === 401 || status === 403) {
      return new StoreConfigError(
        `cannot open blobs: ${this.where} refused our credentials or their access to the bucket (HTTP ${status}): ${setCredentials}, with read, write, list and delete permission on the bucket`,
        { cause: err },
      );
    }
    if (status === 400) {
      return new StoreConfigError(
        `cannot open blobs: ${this.where} refused the request (HTTP 400${detailOf(err)}): check region= in the blobs URL, and the credentials: ${setCredentials}`,
        { cause: err },
      );
    }
    if (status === 301 || status === 307) {
      return new StoreConfigError(
        `cannot open blobs: ${this.where} is in another region than ${JSON.stringify(this.client.config.region)}: set region= in the blobs URL`,
        { cause: err },
      );
    }
    return new StoreUnavailableError(
      `cannot open blobs: ${this.where} is not reachable: ${reasonOf(err)}; check the endpoint in the blobs URL and that the store is running`,
      { cause: err },
    );
  }
}

/** The region of the AWS SDK's chain (AWS_REGION, the profile in ~/.aws/config), else us-east-1. */
async function defaultRegion(): Promise<string> {
  const probe = new S3Client({});
  try {
    return await probe.config.region();
  } catch {
    return 'us-east-1';
  } finally {
    probe.destroy();
  }
}

/** The key of an object name of this store, or null for an object that is not one of its blobs. */
function keyOfObject(objectKey: string | undefined, storePrefix: string): string | null {
  if (objectKey === undefined || !objectKey.startsWith(storePrefix) || !objectKey.endsWith(S3_OBJECT_SUFFIX)) return null;
  const key = objectKey.slice(storePrefix.length, -S3_OBJECT_SUFFIX.length);
  try {
    checkBlobKey(key);
    return key;
  } catch {
    return null;
  }
}

/** Whether some valid key starts with `prefix`. */
function isKeyPrefix(prefix: string): boolean {
  if (prefix === '') return true;
  for (const candidate of [prefix, `${prefix}a`]) {
    try {
      checkBlobKey(candidate);
      return true;
    } catch {
      // Try the next completion.
    }
  }
  return false;
}

/** An S3 error answer as an Error like the SDK's: named by the XML's Code, with the HTTP status in $metadata. */
function storeAnswerError(status: number, xml: string): Error {
  const code = /<Code>([^<]{1,200})<\/Code>/.exec(xml)?.[1];
  const message = /<Message>([^<]{1,1000})<\/Message>/.exec(xml)?.[1];
  const err = new Error(message ?? (code === undefined ? `HTTP ${status}` : code));
  err.name = code ?? (status >= 500 ? 'ServerError' : 'Unknown');
  return Object.assign(err, { $metadata: { httpStatusCode: status } });
}

/** Whether a failed put is worth another attempt: the network, a timeout, throttling or the store's 5xx. */
function isRetryable(err: unknown): boolean {
  const status = statusOf(err);
  if (status !== undefined) return status >= 500 || status === 429;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const name = (err as Error | null)?.name;
  return (
    (code !== undefined && (NETWORK_ERROR_CODES.has(code) || code === 'ETIMEDOUT')) || name === 'TimeoutError' || name === 'AbortError'
  );
}

function isMissingKey(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'NoSuchKey' || (statusOf(err) === 404 && name !== 'NoSuchBucket');
}

/** ": NAME: message" of an S3 error that has a body, else nothing (HEAD answers have none). */
function detailOf(err: unknown): string {
  if (!(err instanceof Error) || err.name === 'Unknown' || err.message === 'UnknownError') return '';
  return ` ${err.name}: ${err.message}`.replace(/\s+/g, ' ');
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** One line saying why a request failed: the network error, the timeout, or the store's answer. */
function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const status = statusOf(err);
  if (code !== undefined && NETWORK_ERROR_CODES.has(code)) return `cannot connect or the connection broke (${code})`;
  if (err.name === 'TimeoutError' || err.name === 'AbortError' || code === 'ABORT_ERR' || code === 'ETIMEDOUT') {
    return `no answer in time (${code ?? err.name}: ${err.message})`.replace(/\s+/g, ' ');
  }
  if (err.name === 'CredentialsProviderError')
    return 'no S3 credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)';
  if (status !== undefined) return `the store answered HTTP ${status}${detailOf(err)}`;
  return `${err.name}: ${err.message}`.replace(/\s+/g, ' ');
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
