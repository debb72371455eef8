import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ProfileJson } from '../src/api/types.js';
import { preprofile, run, runOk } from './support/go.js';
import { fixture, hotpathBin } from './support/paths.js';
import { type RunningServer, startServer } from './support/server.js';

// The server as a user runs it: a separate `hotpath serve` process with a data directory.
const cpu = readFileSync(fixture('cpu-small-1.pprof'));
const ddBody = readFileSync(fixture('intake/dd-trace-go-v2.12.0.multipart'));
const ddHeaders = (JSON.parse(readFileSync(fixture('intake/dd-trace-go-v2.12.0.json'), 'utf8')) as { headers: Record<string, string> })
  .headers;

function upload(server: RunningServer, body: Uint8Array, tags: string, key = server.apiKey): Promise<Response> {
  return fetch(`${server.url}/api/v1/profiles?tags=${encodeURIComponent(tags)}`, {
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${key}` },
  });
}

/** Writes a response body to a temporary file and returns its path (for go tool preprofile). */
async function savedTo(res: Response): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'hotpath-dl-')), 'download.pprof');
  writeFileSync(path, Buffer.from(await res.arrayBuffer()));
  return path;
}

async function count(server: RunningServer, query: string): Promise<number> {
  const res = await fetch(`${server.url}/api/v1/profiles?query=${encodeURIComponent(query)}&from=now-30d&limit=1000`, {
    headers: { 'DD-APPLICATION-KEY': server.appKey },
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { profiles: unknown[] }).profiles.length;
}

describe('hotpath serve', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--max-body-mb', '1', '--max-decompressed-mb', '16']);
  });
  after(async () => {
    await server.stop();
    rmSync(server.dataDir, { recursive: true, force: true });
  });

  describe('bad input: a 4xx with a JSON message, nothing stored, the server keeps serving', () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const cases: Array<[string, () => Promise<Response>, number, RegExp]> = [
      ['truncated gzip', () => upload(server, cpu.subarray(0, cpu.length >> 1), 'service:bad'), 400, /truncated gzip/],
      ['corrupt protobuf', () => upload(server, gzipSync(Buffer.from('\x0a\xff\xff\xff\x0fjunk')), 'service:bad'), 400, /protobuf/],
      [
        'a heap profile as the CPU profile',
        () => upload(server, readFileSync(fixture('heap.pprof')), 'service:bad'),
        400,
        /not a CPU profile/,
      ],
      ['an empty body', () => upload(server, new Uint8Array(0), 'service:bad'), 400, /empty/],
      ['a body over the limit', () => upload(server, Buffer.alloc(2 * 1024 * 1024, 1), 'service:bad'), 413, /larger than the limit/],
      ['a gzip bomb over the decompression limit', () => upload(server, bomb, 'service:bad'), 413, /exceeds the limit/],
      ['a bad tag key', () => upload(server, cpu, 'serv ice:bad'), 400, /tag key/],
      [
        'malformed multipart',
        () =>
          fetch(`${server.url}/profiling/v1/input`, {
            method: 'POST',
            body: ddBody.subarray(0, 5000),
            headers: { ...ddHeaders, authorization: `Bearer ${server.apiKey}` },
          }),
        400,
        /multipart/,
      ],
      [
        'bad event.json',
        () =>
          fetch(`${server.url}/profiling/v1/input`, {
            method: 'POST',
            body: Buffer.from(ddBody.toString('latin1').replace('{"start"', '{"start":1,"x"'), 'latin1'),
            headers: { ...ddHeaders, authorization: `Bearer ${server.apiKey}` },
          }),
        400,
        /event\.json/,
      ],
      [
        'a malformed query',
        () => fetch(`${server.url}/api/v1/profiles?query=service:(a`, { headers: { 'DD-APPLICATION-KEY': server.appKey } }),
        400,
        /column 11/,
      ],
      [
        'a bad time',
        () => fetch(`${server.url}/api/v1/profiles?from=yesterday`, { headers: { 'DD-APPLICATION-KEY': server.appKey } }),
        400,
        /"from" must be/,
      ],
    ];
    for (const [name, send, status, message] of cases) {
      it(name, async () => {
        const res = await send();
        assert.equal(res.status, status);
        assert.match(res.headers.get('content-type') ?? '', /application\/json/);
        const body = (await res.json()) as { error: string };
        assert.match(body.error, message);
      });
    }
    it('stored none of them and still serves', async () => {
      assert.equal(await count(server, 'service:bad'), 0);
      assert.equal((await upload(server, cpu, 'service:good')).status, 201);
      assert.equal(await count(server, 'service:good'), 1);
      const metrics = await (await fetch(`${server.url}/metrics`, { headers: { 'DD-APPLICATION-KEY': server.appKey } })).text();
      for (const reason of ['pprof', 'body_size', 'decompressed_size', 'multipart', 'event', 'query', 'bad_parameter']) {
        assert.match(metrics, new RegExp(`hotpath_rejections_total\\{reason="${reason}"\\} [1-9]`), reason);
      }
    });
  });

  describe('keys', () => {
    const keysCli = (...args: string[]) => runOk(process.execPath, [hotpathBin, 'keys', ...args, '--data', server.dataDir]).trim();

    it('refuses a missing, wrong or revoked key with 401 and a wrong scope with 403', async () => {
      const read = (key?: string) => fetch(`${server.url}/api/v1/profiles`, { headers: key ? { 'DD-APPLICATION-KEY': key } : {} });
      assert.equal((await read()).status, 401);
      assert.equal((await read('hpapp_wrong')).status, 401);
      const pgoOnly = keysCli('create', '--kind', 'app', '--scopes', 'pgo_read', '--name', 'ci');
      assert.equal((await read(pgoOnly)).status, 403);
      assert.match(((await (await read(pgoOnly)).json()) as { error: string }).error, /lacks the scope profiles_read/);
      const reader = keysCli('create', '--kind', 'app', '--scopes', 'profiles_read');
      assert.equal((await read(reader)).status, 200);
      const id = (JSON.parse(keysCli('list', '--json')) as Array<{ id: string; scopes: string[] }>).find(
        (k) => k.scopes.join() === 'profiles_read',
      )?.id;
      assert.ok(id);
      keysCli('revoke', id);
      assert.equal((await read(reader)).status, 401);
      // An application key cannot send profiles, and an API key cannot read.
      assert.equal((await upload(server, cpu, 'service:x', server.appKey.replace('hpapp', 'hpapp'))).status, 201, 'admin may write');
      assert.equal((await upload(server, cpu, 'service:x', reader)).status, 401);
      assert.equal((await read(server.apiKey)).status, 403);
    });

    it('keeps only hashes of keys on disk', () => {
      const db = readFileSync(`${server.dataDir}/keys.sqlite`);
      assert.equal(db.includes(Buffer.from(server.apiKey)), false);
      assert.equal(db.includes(Buffer.from(server.appKey)), false);
    });
  });

  it('`hotpath upload` sends files with tags; the API returns the record, the attachment as sent and its PGO form', async () => {
    const out = runOk(
      process.execPath,
      [hotpathBin, 'upload', '--server', server.url, '--tags', 'service:cli,env:qa', fixture('cpu-json.pprof')],
      {
        env: { ...process.env, HOTPATH_API_KEY: server.apiKey },
      },
    );
    const id = out.trim().split('\t')[1];
    assert.match(id, /^[0-9a-f-]{36}$/);
    const auth = { 'DD-APPLICATION-KEY': server.appKey };
    const record = (await (await fetch(`${server.url}/api/v1/profiles/${id}`, { headers: auth })).json()) as ProfileJson & {
      cpuCores: number;
    };
    assert.equal(record.service, 'cli');
    assert.equal(record.env, 'qa');
    assert.ok(record.cpuCores > 0);
    const raw = Buffer.from(
      await (await fetch(`${server.url}/api/v1/profiles/${id}/attachments/cpu.pprof`, { headers: auth })).arrayBuffer(),
    );
    assert.deepEqual(raw, readFileSync(fixture('cpu-json.pprof')));
    const pgo = await fetch(`${server.url}/api/v1/profiles/${id}/pgo`, { headers: auth });
    assert.equal(pgo.status, 200);
    assert.equal(preprofile(await savedTo(pgo)), preprofile(fixture('cpu-json.pprof')));
    assert.equal((await fetch(`${server.url}/api/v1/profiles/nope`, { headers: auth })).status, 404);
    const failed = run(process.execPath, [hotpathBin, 'upload', '--server', server.url, fixture('heap.pprof')], {
      env: { ...process.env, HOTPATH_API_KEY: server.apiKey },
    });
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /heap\.pprof: server refused it \(400\): cpu\.pprof: not a CPU profile/);
  });

  it('keeps the data across a restart', async () => {
    await upload(server, cpu, 'service:durable');
    assert.equal(await count(server, 'service:durable'), 1);
    const { dataDir, appKey, apiKey } = server;
    assert.equal(await server.stop({ keepData: true }), 0);
    server = await startServer(['--max-body-mb', '1'], dataDir);
    server.appKey = appKey;
    server.apiKey = apiKey;
    assert.equal(await count(server, 'service:durable'), 1);
  });
});
