import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ImpactJson } from '../../api/types.js';
import { ddTraceGoUpload } from '../../testing/dd-upload.js';
import { fixture } from '../../testing/fixtures.js';
import { injectFetch, openTestApp, type TestApp } from '../testing.js';

// GET /api/v1/impact over a real store holding dd-trace-go uploads of real CPU profiles; the
// figures themselves are checked in impact/report.test.ts and, with a real traced service, in
// e2e/impact.test.ts.

const cpu = readFileSync(fixture('cpu-small-1.pprof'));

describe('GET /api/v1/impact', () => {
  let t: TestApp;
  const get = async (query: string): Promise<{ status: number; body: ImpactJson & { error?: string; code?: string; side?: string } }> => {
    const res = await injectFetch(t.app, `/api/v1/impact?${query}`, { headers: { authorization: `Bearer ${t.keys.profilesRead}` } });
    return { status: res.status, body: (await res.json()) as ImpactJson & { error?: string } };
  };

  before(async () => {
    t = await openTestApp();
    const upload = async (
      tags: string,
      counts: Record<string, number> | null,
      minutesAgo: number,
      metrics?: Array<[string, number]> | Uint8Array,
    ) => {
      const end = new Date(Date.now() - minutesAgo * 60_000);
      const dd = ddTraceGoUpload({ cpu, tags, endpointCounts: counts, end, start: new Date(end.getTime() - 60_000), metrics });
      const res = await injectFetch(t.app, '/profiling/v1/input', {
        method: 'POST',
        body: dd.body,
        headers: { 'content-type': dd.contentType, 'dd-api-key': t.keys.api },
      });
      assert.equal(res.status, 200, await res.text());
    };
    for (let i = 0; i < 3; i++) {
      await upload('service:shop,env:prod,pgo:false', { 'GET /a': 100 }, 10 + i);
      await upload('service:shop,env:prod,pgo:true', { 'GET /a': 200 }, 5 + i);
      await upload('service:quiet,env:prod,pgo:false', null, 10 + i);
      await upload('service:quiet,env:prod,pgo:true', null, 5 + i);
      // dd-trace-go's metrics.json: the pgo:true build holds a thousand more goroutines.
      const metrics = (goroutines: number): Array<[string, number]> => [
        ['go_alloc_bytes_per_sec', 4e6 + i * 1e4],
        ['go_heap_growth_bytes_per_sec', 0],
        ['go_num_goroutine', goroutines],
      ];
      await upload('service:held,env:prod,pgo:false', { 'GET /a': 100 }, 10 + i, metrics(20 + i));
      await upload('service:held,env:prod,pgo:true', { 'GET /a': 100 }, 5 + i, metrics(1020 + i));
      await upload('service:garbled,env:prod,pgo:false', { 'GET /a': 100 }, 10 + i, Buffer.from('{"go_num_goroutine": 3}'));
      await upload('service:garbled,env:prod,pgo:true', { 'GET /a': 100 }, 5 + i, gzipSync(Buffer.from('go_num_goroutine 3\n')));
    }
  });
  after(() => t.close());

  it('compares CPU per request when both sides send request counts', async () => {
    const { status, body } = await get('before=service:shop%20pgo:false&after=service:shop%20pgo:true');
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.metric, 'cpu_per_request');
    assert.equal(body.before.profiles, 3);
    assert.equal(body.before.requests, 300);
    assert.equal(body.after.requests, 600);
    // The same CPU profile serving twice the requests: half the CPU per request.
    const b = body.before.cpuPerRequestNanos?.value ?? 0;
    const a = body.after.cpuPerRequestNanos?.value ?? 0;
    assert.ok(b > 0 && Math.abs(a / b - 0.5) < 1e-9, `${a} / ${b}`);
    assert.equal(body.difference.verdict, 'less');
    assert.equal(body.endpoints[0].endpoint, 'GET /a');
  });

  it("compares the memory and goroutine figures of dd-trace-go's metrics.json and flags the goroutine rise", async () => {
    const { status, body } = await get('before=service:held%20pgo:false&after=service:held%20pgo:true');
    assert.equal(status, 200, JSON.stringify(body));
    const fromClient = body.guard.filter((g) => g.source === 'metrics.json');
    assert.deepEqual(
      fromClient.map((g) => g.metric),
      ['go_num_goroutine', 'go_alloc_bytes_per_sec', 'go_heap_growth_bytes_per_sec'],
    );
    const goroutines = fromClient[0];
    assert.equal(goroutines.beforeProfiles, 3);
    assert.equal(goroutines.before?.value, 21);
    assert.equal(goroutines.after?.value, 1021);
    assert.equal(goroutines.flagged, true);
    assert.ok(fromClient.slice(1).every((g) => !g.flagged));
    assert.ok(body.notes.some((n) => n.startsWith('Goroutines (metrics.json) rose')));
    // The fixture's metrics.json names no figure the guard compares: no rows from it.
    const shop = await get('before=service:shop%20pgo:false&after=service:shop%20pgo:true');
    assert.deepEqual(
      shop.body.guard.filter((g) => g.source === 'metrics.json'),
      [],
    );
  });

  it('leaves out a metrics.json that is not the client format (plain or gzip), with a note, not an error', async () => {
    const { status, body } = await get('before=service:garbled%20pgo:false&after=service:garbled%20pgo:true');
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.metric, 'cpu_per_request');
    assert.deepEqual(
      body.guard.filter((g) => g.source === 'metrics.json'),
      [],
    );
    assert.ok(
      body.notes.includes('before: 3 metrics.json attachments could not be read; the guard leaves them out.'),
      body.notes.join('\n'),
    );
    assert.ok(
      body.notes.includes('after: 3 metrics.json attachments could not be read; the guard leaves them out.'),
      body.notes.join('\n'),
    );
  });

  it('falls back to CPU cores without counts, saying so', async () => {
    const { body } = await get('before=service:quiet%20pgo:false&after=service:quiet%20pgo:true');
    assert.equal(body.metric, 'cpu_cores');
    assert.equal(body.difference.verdict, 'not significant');
    assert.ok(body.notes.some((n) => n.includes('load is not accounted for')));
  });

  it('an empty side is "not enough data" with a note naming it', async () => {
    const { status, body } = await get('before=service:nobody&after=service:shop%20pgo:true');
    assert.equal(status, 200);
    assert.equal(body.difference.verdict, 'not enough data');
    assert.ok(body.notes.some((n) => n.startsWith('before: no profiles match')));
  });

  it('refuses a missing side or a bad query with 400 naming it', async () => {
    const missing = await get('before=service:shop');
    assert.equal(missing.status, 400);
    assert.match(missing.body.error ?? '', /give "after"/);
    const bad = await get('before=service:shop&after=service:(');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'query');
    assert.match(bad.body.error ?? '', /^after: query/);
    const badLimit = await get('before=a&after=b&limit=0');
    assert.equal(badLimit.status, 400);
    const badTime = await get('before=a&after=b&from=yesterday-ish');
    assert.equal(badTime.status, 400);
  });
});
