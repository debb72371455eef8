import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProfileRecord } from '../store/types.js';
import { impactReport, MIN_PROFILES } from './report.js';

let next = 0;
/** A 10 s profile using `cores` CPU cores and serving `counts` requests per endpoint (null: no counts sent). */
function record(cores: number | null, counts: Record<string, number> | null, cpuSeconds = 10): ProfileRecord {
  const start = Date.UTC(2026, 0, 1) + next++ * 10_000;
  return {
    id: `p${next}`,
    protocol: 'datadog',
    service: 'shop',
    env: 'prod',
    version: '1',
    host: 'h',
    runtime: 'go',
    pgo: null,
    cpuCores: cores,
    start,
    end: start + 10_000,
    receivedAt: start + 10_500,
    sampleCount: 100,
    durationNanos: cpuSeconds * 1e9,
    tags: [],
    metrics: {},
    attachments: [],
    pgoBlobKey: null,
    preparedBlobKey: null,
    endpointCounts: counts,
    rawDeleted: false,
  };
}

const side = (query: string, records: ProfileRecord[], endpointCpu = new Map<string, Map<string, number>>()) => ({
  query,
  records,
  endpointCpu,
});

describe('impact report', () => {
  it('twice the load at the same cost per request: CPU per request unchanged although cores doubled', () => {
    // 1 ms of CPU per request: 1000 requests in 10 s are 0.1 cores; 2000 are 0.2.
    const before = [
      record(0.1, { 'GET /a': 1000 }),
      record(0.101, { 'GET /a': 1010 }),
      record(0.099, { 'GET /a': 990 }),
      record(0.1, { 'GET /a': 1000 }),
    ];
    const after = [
      record(0.2, { 'GET /a': 2000 }),
      record(0.202, { 'GET /a': 2020 }),
      record(0.198, { 'GET /a': 1980 }),
      record(0.2, { 'GET /a': 2000 }),
    ];
    const r = impactReport({ from: 'a', to: 'b', before: side('pgo:false', before), after: side('pgo:true', after) });
    assert.equal(r.metric, 'cpu_per_request');
    assert.equal(r.unit, 'nanoseconds');
    assert.ok(Math.abs((r.before.cpuPerRequestNanos?.value ?? 0) - 1e6) < 1, JSON.stringify(r.before));
    assert.ok(Math.abs((r.after.cpuPerRequestNanos?.value ?? 0) - 1e6) < 1);
    assert.equal(r.before.requests, 4000);
    assert.equal(r.after.requests, 8000);
    assert.ok((r.after.cpuCores?.value ?? 0) > 1.9 * (r.before.cpuCores?.value ?? 1), 'cores doubled');
    assert.equal(r.difference.verdict, 'not significant');
    assert.match(r.summary, /No significant change in CPU per request/);
  });

  it('10% less CPU per request is significant, with the interval around −10%', () => {
    const jitter = [1, 1.01, 0.99, 1.005, 0.995];
    const before = jitter.map((j) => record(0.1 * j, { 'GET /a': 1000 }));
    const after = jitter.map((j) => record(0.09 * j, { 'GET /a': 1000 }));
    const r = impactReport({ from: 'a', to: 'b', before: side('b', before), after: side('a', after) });
    assert.equal(r.difference.verdict, 'less');
    const rel = r.difference.relative;
    assert.ok(rel !== null && rel.low !== null && rel.high !== null);
    assert.ok(Math.abs(rel.value + 0.1) < 1e-9);
    assert.ok(rel.low < -0.1 && rel.high > -0.1 && rel.high < 0);
    assert.match(r.summary, /CPU per request fell −10\.0% \(95% CI/);
  });

  it('CPU profiles shorter than the period are scaled to it, as the counts cover the whole period', () => {
    // 5 s of CPU profile at 0.1 cores within a 10 s period serving 1000 requests: 1 ms per request.
    const recs = [0, 1, 2].map(() => record(0.1, { 'GET /a': 1000 }, 5));
    const r = impactReport({ from: 'a', to: 'b', before: side('b', recs), after: side('a', recs) });
    assert.ok(Math.abs((r.before.cpuPerRequestNanos?.value ?? 0) - 1e6) < 1);
  });

  it('without request counts it falls back to CPU cores and says load is not accounted for', () => {
    const before = [record(0.1, null), record(0.11, null), record(0.09, null)];
    const after = [record(0.2, { 'GET /a': 10 }), record(0.21, { 'GET /a': 10 }), record(0.19, { 'GET /a': 10 })];
    const r = impactReport({ from: 'a', to: 'b', before: side('b', before), after: side('a', after) });
    assert.equal(r.metric, 'cpu_cores');
    assert.equal(r.unit, 'cores');
    assert.equal(r.before.cpuPerRequestNanos, null);
    assert.ok(
      r.notes.some((n) => /load is not accounted for/.test(n) && /DD_PROFILING_ENDPOINT_COUNT_ENABLED=true/.test(n)),
      r.notes.join('\n'),
    );
    assert.equal(r.difference.verdict, 'more');
    assert.deepEqual(r.endpoints, []);
  });

  it(`says "not enough data" below ${MIN_PROFILES} profiles a side`, () => {
    const r = impactReport({
      from: 'a',
      to: 'b',
      before: side('b', [record(0.1, { x: 100 }), record(0.1, { x: 100 })]),
      after: side('a', [record(0.1, { x: 100 }), record(0.1, { x: 100 }), record(0.1, { x: 100 })]),
    });
    assert.equal(r.difference.verdict, 'not enough data');
    assert.match(r.summary, /before has 2/);
    const empty = impactReport({ from: 'a', to: 'b', before: side('b', []), after: side('a', []) });
    assert.equal(empty.difference.verdict, 'not enough data');
    assert.equal(empty.before.cpuCores, null);
  });

  it('endpoint rows divide each endpoint’s labelled CPU by its requests, most requests first', () => {
    const mk = (scale: number) =>
      [0, 1, 2].map(() => {
        const r = record(0.5, { 'GET /heavy': 100, 'GET /light': 400 });
        return {
          r,
          cpu: new Map([
            ['GET /heavy', 100 * 4e6 * scale],
            ['GET /light', 400 * 1e6],
          ]),
        };
      });
    const b = mk(1);
    const a = mk(0.5);
    const r = impactReport({
      from: 'a',
      to: 'b',
      before: side(
        'b',
        b.map((x) => x.r),
        new Map(b.map((x) => [x.r.id, x.cpu])),
      ),
      after: side(
        'a',
        a.map((x) => x.r),
        new Map(a.map((x) => [x.r.id, x.cpu])),
      ),
    });
    assert.deepEqual(
      r.endpoints.map((e) => e.endpoint),
      ['GET /light', 'GET /heavy'],
    );
    const heavy = r.endpoints[1];
    assert.equal(heavy.beforeRequests, 300);
    assert.ok(Math.abs((heavy.beforeCpuPerRequestNanos?.value ?? 0) - 4e6) < 1);
    assert.ok(Math.abs((heavy.afterCpuPerRequestNanos?.value ?? 0) - 2e6) < 1);
    assert.ok(Math.abs((r.endpoints[0].afterCpuPerRequestNanos?.value ?? 0) - 1e6) < 1);
  });
});
