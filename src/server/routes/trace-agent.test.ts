import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { injectFetch, openTestApp, type TestApp } from '../testing.js';
import { MAX_TRACE_PAYLOAD_BYTES, TRACE_AGENT_ENDPOINTS } from './trace-agent.js';

// The trace agent's endpoints as dd-trace-go's tracer calls them; the real tracer is in
// e2e/impact.test.ts.

describe('trace agent endpoints', () => {
  let t: TestApp;
  before(async () => {
    t = await openTestApp();
  });
  after(() => t.close());

  const metric = async (name: string): Promise<number> => {
    const res = await injectFetch(t.app, '/metrics', { headers: { authorization: `Bearer ${t.keys.admin}` } });
    const line = (await res.text()).split('\n').find((l) => l.startsWith(name));
    return line === undefined ? 0 : Number(line.split(' ').pop());
  };

  it('/info answers the fields dd-trace-go reads, advertising only endpoints that exist', async () => {
    const res = await injectFetch(t.app, '/info');
    assert.equal(res.status, 200);
    const info = (await res.json()) as { endpoints: readonly string[]; client_drop_p0s: boolean; config: { statsd_port: number } };
    assert.deepEqual(info.endpoints, [...TRACE_AGENT_ENDPOINTS]);
    const advertised: readonly string[] = info.endpoints;
    assert.ok(!advertised.includes('/v0.7/config'), 'no remote configuration to poll');
    assert.ok(!advertised.includes('/v1.0/traces'), 'the v1 trace protocol is not answered');
    assert.equal(info.client_drop_p0s, true);
    assert.equal(info.config.statsd_port, 0);
    for (const path of info.endpoints.filter((p) => p.startsWith('/v0'))) {
      const answer = await injectFetch(t.app, path, { method: 'POST', body: Buffer.from([0x90]), headers: { 'dd-api-key': t.keys.api } });
      assert.equal(answer.status, 200, path);
    }
  });

  it('counts traces and bytes, answers an empty rate table, and stores nothing', async () => {
    const tracesBefore = await metric('hotpath_traces_dropped_total');
    const body = Buffer.alloc(1000, 0x91);
    const res = await injectFetch(t.app, '/v0.4/traces', {
      method: 'POST',
      body,
      headers: { 'dd-api-key': t.keys.api, 'x-datadog-trace-count': '7', 'content-type': 'application/msgpack' },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { rate_by_service: {} });
    assert.equal((await metric('hotpath_traces_dropped_total')) - tracesBefore, 7);
    assert.ok((await metric('hotpath_trace_bytes_dropped_total{kind="traces"}')) >= 1000);
    const list = await injectFetch(t.app, '/api/v1/profiles', { headers: { authorization: `Bearer ${t.keys.admin}` } });
    assert.equal(((await list.json()) as { total: number }).total, 0);
  });

  it('a trace count that is not a whole number, or absurdly large, does not inflate the counter', async () => {
    const before = await metric('hotpath_traces_dropped_total');
    for (const count of ['-5', 'abc', '1e300', '2.5']) {
      const res = await injectFetch(t.app, '/v0.5/traces', {
        method: 'POST',
        body: Buffer.from([0x90]),
        headers: { 'dd-api-key': t.keys.api, 'x-datadog-trace-count': count },
      });
      assert.equal(res.status, 200, count);
    }
    assert.equal(await metric('hotpath_traces_dropped_total'), before);
  });

  it('traces and stats need an API key like profiles; a body over the limit is refused with 413', async () => {
    const noKey = await injectFetch(t.app, '/v0.4/traces', { method: 'POST', body: Buffer.from([0x90]) });
    assert.equal(noKey.status, 401);
    const stats = await injectFetch(t.app, '/v0.6/stats', { method: 'POST', body: Buffer.from([0x80]) });
    assert.equal(stats.status, 401);
    const big = await injectFetch(t.app, '/v0.4/traces', {
      method: 'POST',
      body: Buffer.alloc(MAX_TRACE_PAYLOAD_BYTES + 1),
      headers: { 'dd-api-key': t.keys.api },
    });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { code: string }).code.length > 0, true);
  });
});
