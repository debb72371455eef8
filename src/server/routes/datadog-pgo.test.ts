import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import type { DatadogProfileListJson, ErrorJson, PgoAnswerJson } from '../../api/types.js';
import { buildPgoProfile } from '../../pgo/build.js';
import { parseProfile } from '../../pprof/parse.js';
import { SqliteKeyStore } from '../../store/sqlite-keys.js';
import { fixture } from '../../testing/fixtures.js';
import { registerAccessControl } from '../access.js';
import { toHttpError } from '../error-mapping.js';
import { IntakeGate } from '../intake-gate.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { ServerMetrics } from '../metrics.js';
import { injectFetch, openTestApp, type TestApp } from '../testing.js';
import { datadogPgoRoutes } from './datadog-pgo.js';

// datadog-pgo's endpoints in process; e2e/datadog-pgo.test.ts sends the same request from Go over
// HTTPS and merges the zip with google/pprof as datadog-pgo does.

const tmp = mkdtempSync(join(tmpdir(), 'hotpath-ddpgo-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The files of a zip by name, as Info-ZIP's unzip reads them (a reader independent of ours). */
function unzipAll(bytes: Buffer): Map<string, Buffer> {
  const path = join(tmp, `${Math.random().toString(36).slice(2)}.zip`);
  writeFileSync(path, bytes);
  assert.match(execFileSync('unzip', ['-t', path], { encoding: 'utf8' }), /No errors detected/);
  const names = execFileSync('zipinfo', ['-1', path], { encoding: 'utf8' }).split('\n').filter(Boolean);
  return new Map(names.map((n) => [n, execFileSync('unzip', ['-p', path, n], { maxBuffer: 64 << 20 })]));
}

/** A time as datadog-pgo writes it (Go layout 2006-01-02T15:04:05.999999999Z, rounded to the second). */
function ddTime(ms: number): string {
  return new Date(Math.round(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The query datadog-pgo builds for `datadog-pgo -profiles N -from W QUERY`. */
function ddQuery(query: string, limit = 5, windowMs = 3 * 24 * 3600_000) {
  return {
    filter: { from: ddTime(Date.now() - windowMs), to: ddTime(Date.now()), query: `${query} runtime:go` },
    sort: { order: 'desc', field: '@metrics.core_cpu_cores' },
    limit,
  };
}

describe('datadog-pgo routes', () => {
  let t: TestApp;
  /** Profile id by fixture, and their CPU cores. */
  const ids: Record<string, string> = {};
  const cores: Record<string, number> = {};
  const headers = () => ({ 'dd-api-key': t.keys.api, 'dd-application-key': t.keys.pgoRead, 'content-type': 'application/json' });
  const gopgo = (body: unknown, h: Record<string, string> = headers()) =>
    injectFetch(t.app, '/api/unstable/profiles/gopgo', {
      method: 'POST',
      headers: h,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const refusal = async (res: Response, status: number, pattern: RegExp) => {
    const body = (await res.json()) as ErrorJson;
    assert.equal(res.status, status, JSON.stringify(body));
    assert.match(body.error, pattern);
  };

  before(async () => {
    t = await openTestApp();
    for (const name of ['cpu-json.pprof', 'cpu-sort.pprof', 'cpu-small-1.pprof']) {
      const res = await injectFetch(t.app, `/api/v1/profiles?tags=${encodeURIComponent('service:shop,env:prod')}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.keys.api}` },
        body: readFileSync(fixture(name)),
      });
      assert.equal(res.status, 201);
      ids[name] = ((await res.json()) as { id: string }).id;
      const record = await t.store.getProfile(ids[name]);
      cores[name] = record?.cpuCores ?? Number.NaN;
    }
  });
  after(() => t.close());

  it('answers a zip of the PGO forms named by profile id, whose merge is the default.pgo of /api/v1/pgo', async () => {
    const res = await gopgo({ queries: [ddQuery('service:shop env:prod')] });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/zip');
    const files = unzipAll(Buffer.from(await res.arrayBuffer()));
    assert.deepEqual([...files.keys()], Object.values(ids).sort());
    for (const [id, bytes] of files) assert.deepEqual(bytes, Buffer.from((await t.store.readPgo(id)) as Uint8Array), id);

    const ours = await injectFetch(t.app, '/api/v1/pgo', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.keys.pgoRead}`, accept: 'application/json' },
      body: JSON.stringify({ queries: [{ query: 'service:shop env:prod', limit: 5 }] }),
    });
    const answer = (await ours.json()) as PgoAnswerJson;
    const merged = buildPgoProfile([...files.values()].map((b) => parseProfile(b)));
    assert.equal(merged.bytes.toString('base64'), answer.pgo);
  });

  it('takes the top profiles by CPU cores, or the fewest with order asc, or the newest by timestamp', async () => {
    const byCores = Object.keys(ids).sort((a, b) => cores[b] - cores[a]);
    const names = async (query: object) => [...unzipAll(Buffer.from(await (await gopgo({ queries: [query] })).arrayBuffer())).keys()];
    assert.deepEqual(await names(ddQuery('service:shop', 1)), [ids[byCores[0]]]);
    assert.deepEqual(await names({ ...ddQuery('service:shop', 1), sort: { order: 'asc', field: '@metrics.core_cpu_cores' } }), [
      ids[byCores[2]],
    ]);
    // Uploaded in order: the last is the newest.
    assert.deepEqual(await names({ ...ddQuery('service:shop', 1), sort: { order: 'desc', field: 'timestamp' } }), [
      ids['cpu-small-1.pprof'],
    ]);
  });

  it('reads Datadog query habits: language:go, a lone *, several queries merged without duplicates', async () => {
    const res = await gopgo({
      queries: [
        { ...ddQuery('service:shop', 2), filter: { ...ddQuery('').filter, query: 'service:shop language:go' } },
        { ...ddQuery('', 5), filter: { ...ddQuery('').filter, query: '* env:prod' } },
        ddQuery('service:nothing'),
      ],
    });
    assert.equal(res.status, 200);
    assert.equal([...unzipAll(Buffer.from(await res.arrayBuffer())).keys()].length, 3);
  });

  it('needs an application key with pgo_read, sent as datadog-pgo sends it', async () => {
    const body = { queries: [ddQuery('service:shop')] };
    await refusal(await gopgo(body, { 'content-type': 'application/json' }), 401, /missing application key/);
    await refusal(await gopgo(body, { 'dd-api-key': t.keys.api, 'dd-application-key': t.keys.profilesRead }), 403, /pgo_read/);
    // An API key alone cannot read.
    await refusal(await gopgo(body, { 'dd-api-key': t.keys.api }), 403, /pgo_read/);
    assert.equal((await gopgo(body, { 'dd-application-key': t.keys.admin })).status, 200);
  });

  it('refuses with 400 naming what it cannot honour', async () => {
    const q = ddQuery('service:shop');
    const cases: Array<[unknown, RegExp]> = [
      ['{"queries": [', /not JSON/],
      [{}, /"queries" must have required property/],
      [{ queries: [] }, /"queries" must NOT have fewer than 1 items/],
      [{ queries: Array(21).fill(q) }, /"queries" must NOT have more than 20 items/],
      [{ queries: [{ ...q, limit: 51 }] }, /"queries\[0\]\.limit" must be <= 50/],
      [{ queries: [{ ...q, limit: 0 }] }, /"queries\[0\]\.limit" must be >= 1/],
      [{ queries: [{ ...q, limit: '5' }] }, /"queries\[0\]\.limit" must be integer/],
      [{ queries: [{ ...q, sort: { order: 'desc', field: '@metrics.heap_mb' } }] }, /"queries\[0\]\.sort\.field" must be one of/],
      [{ queries: [{ ...q, sort: { order: 'down', field: 'timestamp' } }] }, /"queries\[0\]\.sort\.order" must be one of asc, desc/],
      [{ queries: [{ limit: 5 }] }, /"queries\[0\]\.filter" must have required property/],
      [{ queries: [{ ...q, filter: { ...q.filter, query: 'service:shop checkout' } }] }, /free-text search is not supported/],
      [{ queries: [{ ...q, filter: { ...q.filter, from: 'yesterday' } }] }, /"from" must be/],
    ];
    for (const [body, pattern] of cases) await refusal(await gopgo(body), 400, pattern);
  });

  it('answers 404 naming the queries when none matches', async () => {
    await refusal(await gopgo({ queries: [ddQuery('service:nothing')] }), 404, /no CPU profiles match "service:nothing runtime:go"/);
  });

  it('serves the older search-then-download pair: list as Datadog JSON, download as a zip with cpu.pprof', async () => {
    const res = await injectFetch(t.app, '/api/unstable/profiles/list', {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify(ddQuery('service:shop', 2)),
    });
    assert.equal(res.status, 200);
    const list = (await res.json()) as DatadogProfileListJson;
    assert.equal(list.data.length, 2);
    const top = list.data[0];
    assert.equal(top.attributes.service, 'shop');
    assert.equal(top.attributes.custom.metrics.core_cpu_cores, Math.max(...Object.values(cores)));
    // datadog-pgo parses the timestamp with the Go layout 2006-01-02T15:04:05.999999999Z.
    assert.match(top.attributes.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    assert.ok(top.attributes.duration_nanos > 0);

    const download = await injectFetch(t.app, `/api/ui/profiling/profiles/${top.attributes.id}/download?eventId=${top.id}`, {
      headers: headers(),
    });
    assert.equal(download.status, 200);
    const files = unzipAll(Buffer.from(await download.arrayBuffer()));
    assert.deepEqual([...files.keys()], ['cpu.pprof']);
    assert.deepEqual(files.get('cpu.pprof'), Buffer.from((await t.store.readPgo(top.id)) as Uint8Array));

    for (const path of ['/api/ui/profiling/profiles/nope/download', `/api/ui/profiling/profiles/${top.id}/download?eventId=other`]) {
      await refusal(await injectFetch(t.app, path, { headers: headers() }), 404, /no CPU profile with id/);
    }
  });
});

describe('datadog-pgo routes: the zip bound', () => {
  let t: TestApp;
  let app: FastifyInstance;
  let keys: SqliteKeyStore;
  let formBytes = 0;

  before(async () => {
    t = await openTestApp();
    for (const name of ['cpu-json.pprof', 'cpu-sort.pprof']) {
      const res = await injectFetch(t.app, `/api/v1/profiles?tags=${encodeURIComponent('service:big')}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.keys.api}` },
        body: readFileSync(fixture(name)),
      });
      const id = ((await res.json()) as { id: string }).id;
      formBytes = Math.max(formBytes, ((await t.store.readPgo(id)) as Uint8Array).length);
    }
    // The routes alone, over the same store, with a zip bound between one form and two.
    keys = new SqliteKeyStore(join(t.dataDir, 'bound-keys.sqlite'));
    app = Fastify();
    registerAccessControl(app, { keys, anonymousIntake: false, anonymousRead: true });
    app.setErrorHandler((err, _req, reply) => {
      const mapped = toHttpError(err, 1 << 20);
      return reply.code(mapped?.status ?? 500).send({ error: mapped?.message ?? String(err), code: mapped?.code });
    });
    const ctx = {
      store: t.store,
      keys,
      limits: DEFAULT_LIMITS,
      metrics: new ServerMetrics(),
      gate: new IntakeGate(1, 0, 1000, 1 << 20),
      publicMetrics: false,
      maxZipBytes: formBytes + 500,
    };
    await app.register(datadogPgoRoutes, ctx);
    await app.ready();
  });
  after(async () => {
    await app.close();
    await keys.close();
    await t.close();
  });

  it('refuses a selection over the bound with 422 naming it, and answers one under it', async () => {
    const ask = (limit: number) =>
      injectFetch(app, '/api/unstable/profiles/gopgo', {
        method: 'POST',
        body: JSON.stringify({ queries: [{ ...ddQuery('service:big', limit), sort: { order: 'asc', field: '@metrics.core_cpu_cores' } }] }),
      });
    const refused = await ask(2);
    const body = (await refused.json()) as ErrorJson;
    assert.equal(refused.status, 422, JSON.stringify(body));
    assert.match(body.error, new RegExp(`the 2 selected profiles are over ${formBytes + 500} bytes together.*lower the limit`));
    assert.equal((await ask(1)).status, 200);
  });
});
