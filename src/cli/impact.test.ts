import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { impactReport } from '../impact/report.js';
import type { ProfileRecord } from '../store/types.js';
import { formatImpact } from './impact.js';

let next = 0;
function record(cores: number, counts: Record<string, number> | null): ProfileRecord {
  const start = Date.UTC(2026, 0, 1) + next++ * 10_000;
  return {
    id: `r${next}`,
    protocol: 'datadog',
    service: 's',
    env: 'prod',
    version: '1',
    host: 'h',
    runtime: 'go',
    pgo: null,
    cpuCores: cores,
    start,
    end: start + 10_000,
    receivedAt: start,
    sampleCount: 1,
    durationNanos: 10e9,
    tags: [],
    metrics: {},
    attachments: [],
    pgoBlobKey: null,
    preparedBlobKey: null,
    endpointCounts: counts,
    rawDeleted: false,
  };
}

describe('hotpath impact output', () => {
  it('leads with the verdict, then both sides with their intervals, then the notes', () => {
    const side = (query: string, records: ProfileRecord[]) => ({ query, records, endpointCpu: new Map() });
    const text = formatImpact(
      impactReport({
        from: 'a',
        to: 'b',
        before: side(
          'pgo:false',
          [0.1, 0.102, 0.098].map((c) => record(c, { 'GET /': 1000 })),
        ),
        after: side(
          'pgo:true',
          [0.09, 0.091, 0.089].map((c) => record(c, { 'GET /': 1000 })),
        ),
      }),
    );
    const lines = text.split('\n');
    assert.match(lines[0], /^CPU per request fell −10\.0% \(95% CI −\d+\.\d% to −\d+\.\d%\): 1\.00 ms → 900\.0 µs\.$/);
    assert.ok(
      lines.some((l) => /^before +pgo:false +3 +3000 +1\.00 ms ± \d/.test(l)),
      text,
    );
    assert.ok(
      lines.some((l) => /^change: −10\.0% \[.*\] {2}verdict: less$/.test(l)),
      text,
    );
  });

  it('says the fallback to cores in the header and in a note', () => {
    const side = (query: string) => ({ query, records: [0.1, 0.2, 0.3].map((c) => record(c, null)), endpointCpu: new Map() });
    const text = formatImpact(impactReport({ from: 'a', to: 'b', before: side('v1'), after: side('v2') }));
    assert.match(text, /cpu cores \(95% CI\)/);
    assert.match(text, /note: Compared in CPU cores, so load is not accounted for/);
  });
});
