import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { connect as connectTo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { bucketUrl, startVersitygw, type Versitygw } from '../testing/versitygw.js';
import { blobHour } from './blob-hour.js';
import { blobObjectKey } from './blob-ref.js';
import { blobsContract } from './blobs.contract.js';
import type { Blobs } from './blobs.js';
import { BlobRangeError, InvalidBlobKeyError, StoreUnavailableError } from './errors.js';
import { makeTestRecord } from './profile-index.contract.js';
import { profileObjects } from './profile-objects.js';
import { enforceRetention } from './retention.js';
import { S3_OBJECT_SUFFIX, S3Blobs, type S3BlobsOptions } from './s3-blobs.js';
import { SqliteProfileIndex } from './sqlite-index.js';
import { type NewAttachment, type NewProfile, ProfileStore } from './store.js';
import { parseS3Url, StoreConfigError } from './store-urls.js';
import { overrideIndex } from './testing.js';

const HOUR = 60 * 60 * 1000;

// One gateway for the whole file (a shared one in CI), a fresh bucket or prefix per test.
let gatewayStarted: Promise<Versitygw> | null = null;
function gateway(): Promise<Versitygw> {
  gatewayStarted ??= startVersitygw();
  return gatewayStarted;
}
after(async () => {
  if (gatewayStarted !== null) await (await gatewayStarted).close();
});

async function openBlobs(url: string, options: S3BlobsOptions = {}): Promise<S3Blobs> {
  const gw = await gateway();
  return S3Blobs.open(parseS3Url(url), { credentials: gw.credentials, ...options });
}

/** Records the command name and input of every request `blobs` sends. */
function recordRequests(blobs: S3Blobs): Array<{ command: string; input: Record<string, unknown> }> {
  const seen: Array<{ command: string; input: Record<string, unknown> }> = [];
  blobs.client.middlewareStack.add(
    (next, context) => async (args) => {
      seen.push({ command: context.commandName ?? '?', input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'recordRequestsForTest' },
  );
  return seen;
}

async function keysOf(blobs: Blobs, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const b of blobs.list(prefix)) keys.push(b.key);
  return keys.sort();
}

blobsContract('S3Blobs on versitygw', async () => {
  const url = await (await gateway()).newBucketUrl();
  let current: Blobs = await openBlobs(url);
  return {
    blobs: current,
    async reopen() {
      await current.close();
      current = await openBlobs(url);
      return current;
    },
    async cleanup() {
      await current.close();
    },
  };
});

describe('S3Blobs on versitygw', () => {
  it('keeps two stores under different prefixes of one bucket apart', async () => {
    const gw = await gateway();
    const bucket = parseS3Url(await gw.newBucketUrl()).bucket;
    const one = await openBlobs(bucketUrl(bucket, gw.endpoint, 'stores/one'));
    const two = await openBlobs(bucketUrl(bucket, gw.endpoint, 'stores/one-more'));
    try {
      await one.put('2026010100/a/pgo', Uint8Array.from([1]));
      await two.put('2026010100/a/pgo', Uint8Array.from([2, 2]));
      await two.put('2026010100/b/pgo', Uint8Array.from([3]));
      assert.deepEqual(Uint8Array.from((await one.get('2026010100/a/pgo'))!), Uint8Array.from([1]));
      assert.deepEqual(Uint8Array.from((await two.get('2026010100/a/pgo'))!), Uint8Array.from([2, 2]));
      assert.equal(await one.get('2026010100/b/pgo'), null);
      assert.deepEqual(await keysOf(one), ['2026010100/a/pgo']);
      assert.deepEqual(await keysOf(two), ['2026010100/a/pgo', '2026010100/b/pgo']);
      assert.equal(await one.totalBytes(), 1);
      assert.equal(await two.totalBytes(), 3);
      await one.delete('2026010100/a/pgo');
      assert.notEqual(await two.get('2026010100/a/pgo'), null, 'a delete in one store leaves the other alone');
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('writes each blob as prefix + key + "~", and lists only its own blobs', async () => {
    const gw = await gateway();
    const blobs = await openBlobs(bucketUrl(parseS3Url(await gw.newBucketUrl()).bucket, gw.endpoint, 'hp'));
    try {
      await blobs.put('2026010100/id/pgo', Uint8Array.from([5]));
      const objects = await blobs.client.send(new ListObjectsV2Command({ Bucket: blobs.location.bucket }));
      assert.deepEqual(
        objects.Contents?.map((o) => o.Key),
        [`hp/2026010100/id/pgo${S3_OBJECT_SUFFIX}`],
      );
      // What else may sit in a bucket: objects of other tools, without the suffix or outside the key alphabet.
      for (const foreign of ['hp/README', 'hp/2026010100/other', 'hp/bad key~', 'hp/.hidden~', 'other/2026010100/x~']) {
        await blobs.client.send(new PutObjectCommand({ Bucket: blobs.location.bucket, Key: foreign, Body: 'not a blob' }));
      }
      assert.deepEqual(await keysOf(blobs), ['2026010100/id/pgo']);
      assert.equal(await blobs.totalBytes(), 1);
    } finally {
      await blobs.close();
    }
  });

  it('lists only the asked prefix, by asking the store for that prefix, a bounded page at a time', async () => {
    const gw = await gateway();
    const blobs = await openBlobs(bucketUrl(parseS3Url(await gw.newBucketUrl()).bucket, gw.endpoint, 'p'), { listPageSize: 2 });
    try {
      const inHour = ['2026010101/a/pgo', '2026010101/b/pgo', '2026010101/b/raw-0-cpu.pprof', '2026010101/c/pgo', '2026010101/d/pgo'];
      for (const key of [...inHour, '2026010100/a/pgo', '2026010102/a/pgo', '20260101010/a/pgo'])
        await blobs.put(key, Uint8Array.from([1]));
      const requests = recordRequests(blobs);
      assert.deepEqual(await keysOf(blobs, '2026010101/'), inHour);
      const lists = requests.filter((r) => r.command === 'ListObjectsV2Command');
      assert.equal(lists.length, 3, 'five blobs in pages of two');
      for (const r of lists) {
        assert.equal(r.input.Prefix, 'p/2026010101/');
        assert.equal(r.input.MaxKeys, 2);
      }
      requests.length = 0;
      assert.deepEqual(await keysOf(blobs, 'no such prefix'), [], 'a prefix no key can start with matches nothing');
      assert.deepEqual(await keysOf(blobs, `2026010101/a/pgo${S3_OBJECT_SUFFIX}`), []);
      for (const hostile of ['../', '2026010101/../', '2026010101//', '/', '.', '2026010101/.']) {
        assert.deepEqual(await keysOf(blobs, hostile), [], JSON.stringify(hostile));
      }
      assert.deepEqual(requests, [], 'and costs no request');
    } finally {
      await blobs.close();
    }
  });

  it('counts the total once, then keeps it from its own puts without listing again', async () => {
    const gw = await gateway();
    const blobs = await openBlobs(await gw.newBucketUrl());
    try {
      await blobs.put('a', new Uint8Array(10));
      const requests = recordRequests(blobs);
      assert.equal(await blobs.totalBytes(), 10);
      assert.equal(requests.filter((r) => r.command === 'ListObjectsV2Command').length, 1);
      await blobs.put('b', new Uint8Array(5));
      requests.length = 0;
      for (let i = 0; i < 20; i++) assert.equal(await blobs.totalBytes(), 15);
      assert.deepEqual(requests, [], 'metrics may ask often: no request after the first count');
    } finally {
      await blobs.close();
    }
  });

  it('answers with the sum so far when the first count takes longer than firstCountWaitMs, then with the full count', async () => {
    const gw = await gateway();
    const url = await gw.newBucketUrl();
    const writer = await openBlobs(url);
    const blobs = await openBlobs(url, { firstCountWaitMs: 0, listPageSize: 1 });
    try {
      for (let i = 0; i < 6; i++) await writer.put(`k${i}`, new Uint8Array(100));
      const first = await blobs.totalBytes();
      assert.ok(first >= 0 && first <= 600 && first % 100 === 0, `a partial sum, got ${first}`);
      const deadline = Date.now() + 30_000;
      while ((await blobs.totalBytes()) !== 600) {
        assert.ok(Date.now() < deadline, 'the first count did not finish within 30 s');
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      await blobs.close();
      await writer.close();
    }
  });

  it('recounts in the background once the count is older than recountIntervalMs', async () => {
    const gw = await gateway();
    const url = await gw.newBucketUrl();
    const blobs = await openBlobs(url, { recountIntervalMs: 0 });
    const other = await openBlobs(url);
    try {
      await blobs.put('a', new Uint8Array(10));
      assert.equal(await blobs.totalBytes(), 10);
      // Another replica's put and this one's delete: seen only by a new count.
      await other.put('b', new Uint8Array(7));
      await blobs.delete('a');
      const deadline = Date.now() + 30_000;
      while ((await blobs.totalBytes()) !== 7) {
        assert.ok(Date.now() < deadline, 'the background count did not catch up within 30 s');
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      await blobs.close();
      await other.close();
    }
  });

  it('deletes many keys started together in one DeleteObjects request', async () => {
    const gw = await gateway();
    const blobs = await openBlobs(await gw.newBucketUrl());
    try {
      const keys = Array.from({ length: 30 }, (_, i) => `2026010100/id-${i}/pgo`);
      await Promise.all(keys.map((k) => blobs.put(k, Uint8Array.from([1]))));
      const requests = recordRequests(blobs);
      await Promise.all([...keys, 'missing/key'].map((k) => blobs.delete(k)));
      assert.deepEqual(
        requests.map((r) => r.command),
        ['DeleteObjectsCommand'],
      );
      assert.deepEqual(await keysOf(blobs), []);
    } finally {
      await blobs.close();
    }
  });

  it('refuses a key with odd characters before sending any request', async () => {
    const gw = await gateway();
    const blobs = await openBlobs(await gw.newBucketUrl());
    try {
      const requests = recordRequests(blobs);
      const hostile = [
        'a~',
        '../up',
        'a/../../b',
        'a?x=1',
        'a#b',
        'a%2Fb',
        'a+b',
        '%00',
        'a\u0000b',
        'k\r\nX-Amz-Acl: public-read',
        'ü',
        '/',
        ' a',
      ];
      for (const key of hostile) {
        await assert.rejects(blobs.put(key, Uint8Array.from([1])), InvalidBlobKeyError, `put ${JSON.stringify(key)}`);
        await assert.rejects(blobs.get(key), InvalidBlobKeyError, `get ${JSON.stringify(key)}`);
        await assert.rejects(blobs.delete(key), InvalidBlobKeyError, `delete ${JSON.stringify(key)}`);
      }
      assert.deepEqual(requests, []);
    } finally {
      await blobs.close();
    }
  });

  it('has an upload whose body was damaged on the way refused, leaving the old bytes', async () => {
    const gw = await gateway();
    const url = await gw.newBucketUrl();
    const blobs = await openBlobs(url);
    // A TCP proxy to the gateway that flips the first byte of every request body it forwards.
    const endpoint = new URL(gw.endpoint);
    // Both sides of every proxied connection, destroyed at the end: the shared gateway keeps
    // idle connections open, which would keep this test file's process alive.
    const sockets: Socket[] = [];
    const proxy = createServer((client) => {
      const upstream = connectTo(Number(endpoint.port), endpoint.hostname);
      sockets.push(client, upstream);
      // Per request: the headers up to the blank line, then Content-Length body bytes, the first flipped.
      let pending = Buffer.alloc(0);
      let bodyLeft = 0;
      let flipNext = false;
      client.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length > 0) {
          if (bodyLeft > 0) {
            const part = Buffer.from(pending.subarray(0, Math.min(bodyLeft, pending.length)));
            if (flipNext) part[0] ^= 0xff;
            flipNext = false;
            upstream.write(part);
            pending = pending.subarray(part.length);
            bodyLeft -= part.length;
            continue;
          }
          const end = pending.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = pending.subarray(0, end + 4);
          bodyLeft = Number(/\r\ncontent-length: *(\d+)/i.exec(head.toString('latin1'))?.[1] ?? 0);
          flipNext = bodyLeft > 0;
          upstream.write(head);
          pending = pending.subarray(end + 4);
        }
      });
      upstream.pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as { port: number }).port;
    const throughProxy = await openBlobs(bucketUrl(parseS3Url(url).bucket, `http://127.0.0.1:${port}`));
    try {
      await blobs.put('k', Uint8Array.from([1, 2, 3]));
      await assert.rejects(throughProxy.put('k', Uint8Array.from([4, 5, 6])), (err: Error) => {
        assert.ok(err instanceof StoreUnavailableError, String(err));
        assert.match(err.message, /put of "k".*HTTP 400/);
        return true;
      });
      assert.deepEqual(Uint8Array.from((await blobs.get('k'))!), Uint8Array.from([1, 2, 3]));
    } finally {
      await throughProxy.close();
      await blobs.close();
      for (const socket of sockets) socket.destroy();
      proxy.close();
    }
  });

  it('signs puts of keys under a prefix that needs URL encoding, which the SDK then reads and lists', async () => {
    const gw = await gateway();
    const { bucket } = parseS3Url(await gw.newBucketUrl());
    const blobs = await openBlobs(bucketUrl(bucket, gw.endpoint, `${encodeURIComponent("odd prefix+(1)*'ü'")}/`));
    assert.equal(blobs.location.prefix, "odd prefix+(1)*'ü'/");
    try {
      await blobs.put('2026010100/a-b_c.d/raw-0-x', Uint8Array.from([9, 8]));
      assert.deepEqual(Uint8Array.from((await blobs.get('2026010100/a-b_c.d/raw-0-x'))!), Uint8Array.from([9, 8]));
      assert.deepEqual(await keysOf(blobs), ['2026010100/a-b_c.d/raw-0-x']);
    } finally {
      await blobs.close();
    }
  });

  it('refuses to open a missing bucket, refused credentials or an unreachable endpoint, saying which, on one line', async () => {
    const gw = await gateway();
    const missing = parseS3Url(bucketUrl('hotpath-no-such-bucket', gw.endpoint));
    await assert.rejects(S3Blobs.open(missing, { credentials: gw.credentials }), (err: Error) => {
      assert.ok(err instanceof StoreConfigError, String(err));
      assert.match(err.message, /bucket "hotpath-no-such-bucket" at http:\/\/127\.0\.0\.1:\d+ does not exist/);
      return true;
    });
    const existing = parseS3Url(gw.url);
    await assert.rejects(
      S3Blobs.open(existing, { credentials: { accessKeyId: gw.accessKey, secretAccessKey: 'wrong-secret' } }),
      (err: Error) => {
        assert.ok(err instanceof StoreConfigError, String(err));
        assert.match(err.message, /refused our credentials.*AWS_ACCESS_KEY_ID/);
        assert.ok(err.message.includes(existing.bucket) && err.message.includes(gw.endpoint));
        return true;
      },
    );
    const closedPort = await unusedPort();
    const unreachable = parseS3Url(bucketUrl('hotpath-bucket', `http://127.0.0.1:${closedPort}`));
    await assert.rejects(S3Blobs.open(unreachable, { credentials: gw.credentials }), (err: Error) => {
      assert.ok(err instanceof StoreUnavailableError, String(err));
      assert.match(
        err.message,
        new RegExp(`bucket "hotpath-bucket" at http://127\\.0\\.0\\.1:${closedPort} is not reachable.*ECONNREFUSED`),
      );
      assert.ok(!err.message.includes('\n'), 'one line, no stack');
      return true;
    });
  });

  it('refuses to open without credentials, saying which variables to set, and takes them from AWS_* when set', async () => {
    const gw = await gateway();
    const saved = { ...process.env };
    const home = await mkdtemp(join(tmpdir(), 'hotpath-no-aws-home-'));
    try {
      for (const name of Object.keys(process.env)) if (name.startsWith('AWS_')) delete process.env[name];
      // No ~/.aws files and no instance metadata: nothing in the SDK's chain.
      process.env.HOME = home;
      process.env.AWS_EC2_METADATA_DISABLED = 'true';
      await assert.rejects(S3Blobs.open(parseS3Url(gw.url)), (err: Error) => {
        assert.ok(err instanceof StoreConfigError, String(err));
        assert.match(err.message, /no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \(or AWS_PROFILE\)/);
        return true;
      });
      process.env.AWS_ACCESS_KEY_ID = gw.accessKey;
      process.env.AWS_SECRET_ACCESS_KEY = gw.secretKey;
      const blobs = await S3Blobs.open(parseS3Url(gw.url));
      try {
        assert.equal(await blobs.client.config.region(), 'us-east-1', 'the default region when none is configured');
        await blobs.put('from-env', Uint8Array.from([1]));
        assert.deepEqual(await keysOf(blobs, 'from-'), ['from-env']);
      } finally {
        await blobs.close();
      }
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
      await rm(home, { recursive: true, force: true });
    }
  });

  it('rejects with StoreUnavailableError when an endpoint accepts connections but never answers', { timeout: 60_000 }, async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const location = parseS3Url(bucketUrl('hotpath-bucket', `http://127.0.0.1:${port}`));
      await assert.rejects(
        S3Blobs.open(location, { credentials: { accessKeyId: 'k', secretAccessKey: 's' }, requestTimeoutMs: 300, maxAttempts: 2 }),
        (err: Error) => {
          assert.ok(err instanceof StoreUnavailableError, String(err));
          assert.match(err.message, /not reachable: no answer in time/);
          return true;
        },
      );
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('stops a listing whose store says it goes on without a new continuation token, instead of looping', { timeout: 60_000 }, async () => {
    // A broken or hostile store: every page says "truncated" and hands back the same token.
    let listRequests = 0;
    const broken = createHttpServer((req, res) => {
      if (req.method === 'HEAD') return res.writeHead(200).end();
      listRequests++;
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>hotpath-bucket</Name><Prefix></Prefix><KeyCount>1</KeyCount>' +
          '<MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>same</NextContinuationToken>' +
          '<Contents><Key>k~</Key><Size>1</Size><LastModified>2026-01-01T00:00:00.000Z</LastModified></Contents></ListBucketResult>',
      );
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    const port = (broken.address() as { port: number }).port;
    const blobs = await S3Blobs.open(parseS3Url(bucketUrl('hotpath-bucket', `http://127.0.0.1:${port}`)), {
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    });
    try {
      const seen: string[] = [];
      await assert.rejects(
        (async () => {
          for await (const b of blobs.list()) seen.push(b.key);
        })(),
        (err: Error) => {
          assert.ok(err instanceof StoreUnavailableError, String(err));
          assert.match(err.message, /no new continuation token/);
          return true;
        },
      );
      assert.deepEqual(seen, ['k', 'k']);
      assert.equal(listRequests, 2);
    } finally {
      await blobs.close();
      await new Promise((resolve) => broken.close(resolve));
    }
  });

  it('ranged reads: cuts the range from a store that ignores Range, and never answers fewer bytes than asked', {
    timeout: 60_000,
  }, async () => {
    const object = Buffer.from('0123456789');
    // Per object key: how the fake store answers a GET with Range.
    const modes: Record<string, 'ignore' | 'short' | 'wrong'> = {
      '/hotpath-bucket/whole~': 'ignore',
      '/hotpath-bucket/short~': 'short',
      '/hotpath-bucket/wrong~': 'wrong',
    };
    const fake = createHttpServer((req, res) => {
      if (req.url === '/hotpath-bucket' || req.url === '/hotpath-bucket/') return res.writeHead(200).end();
      const mode = modes[(req.url ?? '').split('?')[0]];
      const m = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range));
      if (mode === undefined || m === null)
        return res.writeHead(404, { 'content-type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code></Error>');
      const [from, to] = [Number(m[1]), Number(m[2])];
      if (mode === 'ignore') return res.writeHead(200, { 'content-length': object.length }).end(object);
      // 'short': a store that stops at the object's end (as S3 does) for an object shorter than it should be.
      const body = mode === 'short' ? object.subarray(from, Math.min(to + 1, 4)) : object.subarray(from + 1, to + 2);
      const range = mode === 'short' ? `bytes ${from}-${from + body.length - 1}/4` : `bytes ${from + 1}-${to + 1}/10`;
      res.writeHead(206, { 'content-length': body.length, 'content-range': range }).end(body);
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const port = (fake.address() as { port: number }).port;
    const blobs = await S3Blobs.open(parseS3Url(bucketUrl('hotpath-bucket', `http://127.0.0.1:${port}`)), {
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
      maxAttempts: 1,
    });
    try {
      assert.deepEqual(Buffer.from((await blobs.getRange('whole', 3, 4))!), Buffer.from('3456'));
      await assert.rejects(blobs.getRange('whole', 8, 4), BlobRangeError);
      await assert.rejects(
        blobs.getRange('short', 2, 5),
        (err: Error) => err instanceof BlobRangeError && /holds 4 bytes/.test(err.message),
      );
      // Other bytes than asked for are never returned, whatever the store says.
      await assert.rejects(
        blobs.getRange('wrong', 2, 3),
        (err: Error) => err instanceof StoreUnavailableError && /asked for bytes 2-4/.test(err.message),
      );
      assert.equal(await blobs.getRange('missing', 0, 1), null);
    } finally {
      await blobs.close();
      await new Promise((resolve) => fake.close(resolve));
    }
  });

  it('rejects every operation with StoreUnavailableError while the gateway is down, and works again once it is back', async () => {
    const own = await startVersitygw({ own: true });
    const blobs = await S3Blobs.open(parseS3Url(own.url), { credentials: own.credentials, maxAttempts: 2 });
    try {
      await blobs.put('2026010100/kept/pgo', Uint8Array.from([1, 2]));
      await own.stop();
      const down = (what: string) => (err: Error) => {
        assert.ok(err instanceof StoreUnavailableError, `${what}: ${err}`);
        assert.ok(err.message.includes(own.bucket) && err.message.includes(own.endpoint), err.message);
        return true;
      };
      await assert.rejects(blobs.put('2026010100/new/pgo', Uint8Array.from([3])), down('put'));
      await assert.rejects(blobs.get('2026010100/kept/pgo'), down('get'));
      await assert.rejects(blobs.delete('2026010100/kept/pgo'), down('delete'));
      await assert.rejects(keysOf(blobs), down('list'));
      await assert.rejects(blobs.totalBytes(), down('totalBytes'));

      await own.start();
      assert.deepEqual(Uint8Array.from((await blobs.get('2026010100/kept/pgo'))!), Uint8Array.from([1, 2]));
      await blobs.put('2026010100/new/pgo', Uint8Array.from([3]));
      assert.deepEqual(await keysOf(blobs), ['2026010100/kept/pgo', '2026010100/new/pgo']);
      assert.equal(await blobs.totalBytes(), 3);
    } finally {
      await blobs.close();
      await own.close();
    }
  });
});

describe('ProfileStore with S3Blobs on versitygw and a SQLite index', () => {
  let dir: string;
  let url: string;
  let store: ProfileStore;

  async function openStore(): Promise<ProfileStore> {
    return new ProfileStore(new SqliteProfileIndex(join(dir, 'index.sqlite')), await openBlobs(url));
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotpath-s3-store-'));
    const gw = await gateway();
    url = bucketUrl(parseS3Url(await gw.newBucketUrl()).bucket, gw.endpoint, 'hotpath');
    store = await openStore();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function newProfile(receivedAt = Date.now(), service = 'svc'): NewProfile {
    const {
      id: _id,
      attachments: _a,
      pgoBlobKey: _p,
      preparedBlobKey: _q,
      rawDeleted: _r,
      ...rest
    } = makeTestRecord('x', { service, receivedAt });
    return rest;
  }
  const ATTACHMENTS: NewAttachment[] = [
    { name: 'cpu.pprof', bytes: Uint8Array.from([1, 2, 3]), compression: 'zstd' },
    { name: 'delta-heap.pprof', bytes: Uint8Array.from([4, 5]), compression: 'gzip' },
  ];
  const PGO = Uint8Array.from([7, 7, 7, 7]);
  const PREPARED = Uint8Array.from([5, 6]);

  it('leaves no visible profile when the process dies between the blobs and the index, and retention collects the blobs later', async () => {
    const crashing = new ProfileStore(
      overrideIndex(store.index, {
        insert: async () => {
          throw new Error('killed before the index transaction');
        },
      }),
      store.blobs,
    );
    await assert.rejects(crashing.saveProfile(newProfile(Date.now(), 'lost'), ATTACHMENTS, PGO, PREPARED), /killed/);
    assert.equal(await store.index.count(), 0);
    assert.deepEqual(await store.search({ query: 'service:lost', from: 0, to: Date.now() * 2, limit: 10 }), []);
    const orphans = await keysOf(store.blobs);
    // Two objects per save: the pack (attachments and prepared form) and the PGO form.
    assert.equal(orphans.length, 2);

    // After a restart: within the grace period the blobs stay (a save may still be running)...
    await store.close();
    store = await openStore();
    const now = Date.now();
    assert.equal((await enforceRetention({ index: store.index, blobs: store.blobs, now })).orphanBlobsDeleted, 0);
    assert.deepEqual(await keysOf(store.blobs), orphans);
    // ...and after it they are collected, while a profile saved meanwhile is untouched.
    const kept = await store.saveProfile(newProfile(), ATTACHMENTS, PGO, PREPARED);
    const result = await enforceRetention({ index: store.index, blobs: store.blobs, now: now + 2 * HOUR });
    assert.deepEqual([result.rawDeleted, result.profilesDeleted, result.orphanBlobsDeleted], [0, 0, 2]);
    assert.deepEqual(
      await keysOf(store.blobs),
      profileObjects(kept)
        .map((o) => o.key)
        .sort(),
    );
    assert.deepEqual(await store.getProfile(kept.id), kept);
    assert.deepEqual(Uint8Array.from((await store.readPgo(kept.id))!), PGO);
    assert.deepEqual(Uint8Array.from((await store.readPreparedOf(kept))!), PREPARED);
  });

  it('after the first run lists only the hours since the last sweep, never the whole bucket', async () => {
    // The store's clock cannot be set back, so retention runs two hours in the future: every
    // blob written now is older than the one-hour grace period then.
    const written = Date.now();
    const now = written + 2 * HOUR;
    const hourKey = (ageMs: number, name: string): string => `${blobHour(now - ageMs)}/${name}`;
    const older = hourKey(5 * HOUR, 'orphan-a/pgo');
    const newer = hourKey(3 * HOUR, 'orphan-b/pgo');
    const young = hourKey(0, 'orphan-c/pgo');
    for (const key of [older, newer, young]) await store.blobs.put(key, Uint8Array.from([1]));
    const kept = await store.saveProfile(
      newProfile(),
      [{ name: 'cpu.pprof', bytes: Uint8Array.from([7]), compression: 'none' }],
      null,
      null,
    );

    const blobs = store.blobs as S3Blobs;
    const listed = recordRequests(blobs);
    const prefixes = (): unknown[] => listed.filter((r) => r.command === 'ListObjectsV2Command').map((r) => r.input.Prefix);
    const result = await enforceRetention({ index: store.index, blobs, now, sweptUpTo: blobHour(now - 5 * HOUR) });
    assert.equal(result.orphanBlobsDeleted, 1);
    // The hours after the sweep's position up to the last one wholly older than the grace
    // period; the kept profile's hour (the real current one) is among them, and is referenced.
    assert.deepEqual(prefixes(), [
      `hotpath/${blobHour(now - 4 * HOUR)}/`,
      `hotpath/${blobHour(now - 3 * HOUR)}/`,
      `hotpath/${blobHour(now - 2 * HOUR)}/`,
    ]);
    assert.equal(result.sweptUpTo, blobHour(now - 2 * HOUR));
    assert.notEqual(await blobs.get(older), null, 'an hour swept before is not listed again');
    assert.equal(await blobs.get(newer), null);
    assert.notEqual(await blobs.get(young), null, 'an hour the sweep has not reached');
    assert.notEqual(await store.readAttachment(kept.id, 'cpu.pprof'), null);

    listed.length = 0;
    const again = await enforceRetention({ index: store.index, blobs, now, sweptUpTo: result.sweptUpTo });
    assert.deepEqual(prefixes(), [], 'nothing new to sweep in the same hour');
    assert.equal(again.sweptUpTo, result.sweptUpTo);

    listed.length = 0;
    const first = await enforceRetention({ index: store.index, blobs, now });
    assert.deepEqual(prefixes(), ['hotpath/'], 'the first run on a store lists it whole, once');
    assert.equal(first.orphanBlobsDeleted, 2, 'the older orphan, which the hour sweep had passed, and the young one');
    assert.deepEqual(await keysOf(blobs), [blobObjectKey(kept.attachments[0].blobKey)]);
  });
});

/** A port nothing listens on (taken and released again). */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
