import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { fixture } from '../../testing/fixtures.js';
import { injectFetch, openTestApp, type TestApp } from '../testing.js';

// Intake's refusals through the whole app in process (app.inject): the limits a user sets with
// --max-body-mb 1 --max-decompressed-mb 16, real uploads recorded from dd-trace-go.
const cpu = readFileSync(fixture('cpu-small-1.pprof'));
const ddBody = readFileSync(fixture('intake/dd-trace-go-v2.12.0.multipart'));
const ddHeaders = (JSON.parse(readFileSync(fixture('intake/dd-trace-go-v2.12.0.json'), 'utf8')) as { headers: Record<string, string> })
  .headers;
const MIB = 1024 * 1024;

function upload(server: TestApp, body: Uint8Array, tags: string, key = server.keys.api): Promise<Response> {
  return injectFetch(server.app, `/api/v1/profiles?tags=${encodeURIComponent(tags)}`, {
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${key}` },
  });
}

async function count(server: TestApp, query: string): Promise<number> {
  const res = await injectFetch(server.app, `/api/v1/profiles?query=${encodeURIComponent(query)}&from=now-30d&limit=1000`, {
    headers: { 'DD-APPLICATION-KEY': server.keys.admin },
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { profiles: unknown[] }).profiles.length;
}

let server: TestApp;
before(async () => {
  server = await openTestApp({ limits: { maxBodyBytes: MIB, maxDecompressedBytes: 16 * MIB } });
});
after(() => server.close());

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
        injectFetch(server.app, '/profiling/v1/input', {
          method: 'POST',
          body: ddBody.subarray(0, 5000),
          headers: { ...ddHeaders, authorization: `Bearer ${server.keys.api}` },
        }),
      400,
      /multipart/,
    ],
    [
      'bad event.json',
      () =>
        injectFetch(server.app, '/profiling/v1/input', {
          method: 'POST',
          body: Buffer.from(ddBody.toString('latin1').replace('{"start"', '{"start":1,"x"'), 'latin1'),
          headers: { ...ddHeaders, authorization: `Bearer ${server.keys.api}` },
        }),
      400,
      /event\.json/,
    ],
    [
      'a malformed query',
      () => injectFetch(server.app, '/api/v1/profiles?query=service:(a', { headers: { 'DD-APPLICATION-KEY': server.keys.admin } }),
      400,
      /column 11/,
    ],
    [
      'a bad time',
      () => injectFetch(server.app, '/api/v1/profiles?from=yesterday', { headers: { 'DD-APPLICATION-KEY': server.keys.admin } }),
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
    const metrics = await (await injectFetch(server.app, '/metrics', { headers: { 'DD-APPLICATION-KEY': server.keys.admin } })).text();
    for (const reason of ['pprof', 'body_size', 'decompressed_size', 'multipart', 'event', 'query', 'bad_parameter']) {
      assert.match(metrics, new RegExp(`hotpath_rejections_total\\{reason="${reason}"\\} [1-9]`), reason);
    }
  });
});
