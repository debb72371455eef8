import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { overwriteBlobRef } from '../store/testing.js';
import { fixture } from '../testing/fixtures.js';
import { openTestApp, type TestApp } from './testing.js';

const cpu = readFileSync(fixture('cpu-small-1.pprof'));

/** Every GET route that reads a time window, with the parameters it needs to get that far. */
const WINDOW_ROUTES = [
  '/api/v1/profiles?',
  '/api/v1/services?',
  '/api/v1/facets?',
  '/api/v1/flamegraph?query=service:a&',
  '/api/v1/flamegraph/pprof?query=service:a&',
  '/api/v1/diff?before=service:a&after=service:b&',
  '/api/v1/pgo/explain?query=service:a&',
];

/** Every GET route with an integer parameter, and its parameters. */
const INTEGER_PARAMS: Array<[string, string[]]> = [
  ['/api/v1/profiles?', ['limit', 'offset']],
  ['/api/v1/flamegraph?query=service:a&', ['limit', 'maxNodes']],
  ['/api/v1/flamegraph/pprof?query=service:a&', ['limit']],
  ['/api/v1/diff?before=service:a&after=service:b&', ['limit', 'maxNodes']],
  ['/api/v1/pgo/explain?query=service:a&', ['limit', 'top']],
];

describe('error answers: one mapping, bad input never answers 500', () => {
  let t: TestApp;
  let read: Record<string, string>;
  before(async () => {
    t = await openTestApp();
    read = { 'dd-application-key': t.keys.admin };
  });
  after(() => t.close());

  it('out-of-range and malformed times answer 400 naming the parameter on every route', async () => {
    const bad = [
      ['from', '1e300'],
      ['to', '-99999999999999'],
      ['from', 'now-999999999d'],
      ['from', 'now-99999999999999999999999w'],
      ['to', '9999999999999999'],
      ['from', '+275760-09-13T00:00:00Z'],
      ['to', '275760-09-13T00:00:00.001Z'],
      ['from', 'yesterday'],
    ];
    for (const route of WINDOW_ROUTES) {
      for (const [name, value] of bad) {
        const res = await t.app.inject({ url: `${route}${name}=${encodeURIComponent(value)}`, headers: read });
        assert.equal(res.statusCode, 400, `${route}${name}=${value}: ${res.body}`);
        assert.equal(res.json().code, 'bad_parameter');
        assert.match(res.json().error, new RegExp(`"${name}" must be`), `${route}${name}=${value}`);
      }
    }
    const pgo = await t.app.inject({
      method: 'POST',
      url: '/api/v1/pgo',
      headers: read,
      payload: JSON.stringify({ queries: [{ query: 'service:a', from: 'now-999999999d' }] }),
    });
    assert.equal(pgo.statusCode, 400, pgo.body);
  });

  it('integer parameters take decimal digits only: 1e3, 0x10, " 5", "5.0", "", "-1", "+5" answer 400', async () => {
    for (const [route, names] of INTEGER_PARAMS) {
      for (const name of names) {
        for (const value of ['1e3', '0x10', ' 5', '5.0', '', '-1', '+5', '99999999999999999999', '1_0']) {
          const res = await t.app.inject({ url: `${route}${name}=${encodeURIComponent(value)}`, headers: read });
          assert.equal(res.statusCode, 400, `${route}${name}=${JSON.stringify(value)}: ${res.body}`);
          const error = res.json().error as string;
          assert.match(error, new RegExp(`^"${name}" must be an integer from \\d+ to \\d+ in decimal digits`));
          assert.ok(error.endsWith(`got ${JSON.stringify(value)}`), error);
        }
        // The same parameter in range gets past the check (a 404 for no profiles, not a 400).
        const ok = await t.app.inject({ url: `${route}${name}=5`, headers: read });
        assert.ok(ok.statusCode === 200 || ok.statusCode === 404, `${route}${name}=5: ${ok.statusCode} ${ok.body}`);
      }
    }
  });

  it('a repeated query parameter answers 400 on every route', async () => {
    for (const url of [
      '/api/v1/profiles?from=now&from=now',
      '/api/v1/profiles?query=a&query=b',
      '/api/v1/flamegraph?id=a&id=b',
      '/api/v1/facets?query=a&query=b',
      '/api/v1/services?to=now&to=now',
      '/api/v1/pgo/explain?query=a&query=b',
    ]) {
      const res = await t.app.inject({ url, headers: read });
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.match(res.json().error, /is given 2 times: give it once/);
    }
    const intake = await t.app.inject({
      method: 'POST',
      url: '/api/v1/profiles?tags=a:b&tags=c:d',
      headers: { 'dd-api-key': t.keys.api },
      payload: cpu,
    });
    assert.equal(intake.statusCode, 400);
  });

  it('a URL the router cannot decode answers 400 and an over-long id 414, in the same JSON form', async () => {
    for (const [url, status] of [
      ['/ui/%', 400],
      ['/api/v1/profiles/%E0%A4%A', 400],
      [`/api/v1/profiles/${'a'.repeat(5000)}`, 414],
    ] as const) {
      const res = await t.app.inject({ url, headers: read });
      assert.equal(res.statusCode, status, url);
      assert.equal(res.json().code, 'bad_request');
      assert.equal(typeof res.json().error, 'string');
    }
  });

  it('a bad PGO request body answers 400, an oversized one 413', async () => {
    for (const body of ['null', '[]', '5', '{"queries": 5}', '{"queries": [null]}', '{', '{"queries":[{"query":"a"}],"noInline":[1]}']) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/pgo', headers: read, payload: body });
      assert.equal(res.statusCode, 400, `${body}: ${res.body}`);
      assert.match(res.json().error, /^bad PGO request: /);
    }
    const big = await t.app.inject({ method: 'POST', url: '/api/v1/pgo', headers: read, payload: Buffer.alloc(2 * 1024 * 1024, 32) });
    assert.equal(big.statusCode, 413);
    assert.equal(big.json().code, 'body_size');
  });

  it('a query error answers 400 with its column on every route that takes a query', async () => {
    for (const url of ['/api/v1/profiles?query=service:(a', '/api/v1/facets?query=service:(a', '/api/v1/flamegraph?query=service:(a']) {
      const res = await t.app.inject({ url, headers: read });
      assert.equal(res.statusCode, 400, url);
      assert.equal(res.json().code, 'query');
      assert.equal(typeof res.json().column, 'number');
    }
  });

  it('a PGO form corrupt on disk answers 422 naming the profile from both PGO routes, like the flame graph', async () => {
    const sent = await t.app.inject({
      method: 'POST',
      url: '/api/v1/profiles?tags=service:corrupt',
      headers: { 'dd-api-key': t.keys.api },
      payload: cpu,
    });
    assert.equal(sent.statusCode, 201, sent.body);
    const id = sent.json().id as string;
    const record = await t.store.getProfile(id);
    assert.ok(record?.pgoBlobKey);
    const text = (t: string) => new TextEncoder().encode(t);
    await overwriteBlobRef(t.store.blobs, record.pgoBlobKey, text('\x1f\x8b\x08\x00 this is not gzip any more'));
    await overwriteBlobRef(t.store.blobs, record.attachments[0].blobKey, text('not a profile'));
    // The flame graph draws from the prepared form while it is intact; damaged, it reads the raw profile.
    assert.ok(record.preparedBlobKey);
    await overwriteBlobRef(t.store.blobs, record.preparedBlobKey, text('not a prepared form'));

    const explain = await t.app.inject({ url: '/api/v1/pgo/explain?query=service:corrupt', headers: read });
    assert.equal(explain.statusCode, 422, explain.body);
    assert.equal(explain.json().code, 'unreadable_pgo');
    assert.match(explain.json().error, new RegExp(`stored PGO form of profile ${id} cannot be read`));
    const build = await t.app.inject({
      method: 'POST',
      url: '/api/v1/pgo',
      headers: read,
      payload: JSON.stringify({ queries: [{ query: 'service:corrupt' }] }),
    });
    assert.equal(build.statusCode, 422, build.body);
    const flame = await t.app.inject({ url: `/api/v1/flamegraph?id=${id}`, headers: read });
    assert.equal(flame.statusCode, 422, flame.body);
    // The raw PGO form is served as stored: the server does not parse what it only hands out.
    assert.equal((await t.app.inject({ url: `/api/v1/profiles/${id}/pgo`, headers: read })).statusCode, 200);
  });
});

describe('a full disk', () => {
  let t: TestApp;
  const lines: string[] = [];
  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(
          ...chunk
            .toString('utf8')
            .split('\n')
            .filter((l) => l !== ''),
        );
        done();
      },
    });
    // The one fault these tests fake: the file system cannot be made full on demand.
    t = await openTestApp({ logger: pino({ level: 'info' }, sink) }, (store) => {
      store.blobs.put = async () => {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
      };
    });
  });
  after(() => t.close());

  it('answers 507 saying the data directory is full, and logs it once, not once per request', async () => {
    for (let i = 0; i < 40; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/profiles?tags=service:full',
        headers: { 'dd-api-key': t.keys.api },
        payload: cpu,
      });
      assert.equal(res.statusCode, 507, res.body);
      assert.equal(res.json().code, 'disk_full');
      assert.match(res.json().error, /disk of the server's data directory is full/);
      assert.equal(res.headers['retry-after'], '60');
    }
    const full = lines.filter((l) => l.includes('disk is full'));
    assert.equal(full.length, 1, lines.join('\n'));
    assert.equal(lines.length, 1, `one line in all, no per-request lines: ${lines.join('\n')}`);
    assert.doesNotMatch(full[0], /stack/);
    assert.equal(await t.store.index.count(), 0, 'nothing stored');
    const metrics = await t.app.inject({ url: '/metrics', headers: { 'dd-application-key': t.keys.admin } });
    assert.match(metrics.body, /hotpath_rejections_total\{reason="disk_full"\} 40/);
  });
});
