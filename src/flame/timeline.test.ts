import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProfileRecord } from '../store/types.js';
import { buildTimeline, MAX_TIMELINE_SERIES, OTHER_SERIES } from './timeline.js';

// The bucketing rules on records built here, for the cases real uploads rarely produce: profiles
// of zero length, without CPU, many versions, rollbacks.

const T0 = Date.UTC(2026, 10, 30, 12);
const S = 1000;

/** A record with `cpuSeconds` of CPU over [start, end] (its duration is the period's). */
function record(id: string, start: number, end: number, cpuSeconds: number | null, extra: Partial<ProfileRecord> = {}): ProfileRecord {
  const durationNanos = Math.max(1, end - start) * 1e6;
  return {
    id,
    start,
    end,
    receivedAt: end,
    sampleCount: 1,
    durationNanos,
    tags: [],
    metrics: {},
    attachments: [],
    pgoBlobKey: null,
    preparedBlobKey: null,
    endpointCounts: null,
    rawDeleted: false,
    protocol: 'datadog',
    service: 'svc',
    env: 'prod',
    version: '1',
    host: 'h',
    runtime: 'go',
    pgo: null,
    cpuCores: cpuSeconds === null ? null : cpuSeconds / (durationNanos / 1e9),
    ...extra,
  };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

describe('buildTimeline', () => {
  const window = { from: T0, to: T0 + 100 * S, step: 10 * S, split: 'version' as const };

  it('puts a profile of zero length in the bucket of its start, and one on the window’s end in the last bucket', () => {
    const t = buildTimeline([record('a', T0 + 15 * S, T0 + 15 * S, 2), record('b', T0 + 100 * S, T0 + 100 * S, 3)], window);
    assert.equal(t.series[0].cpuSeconds[1], 2);
    assert.equal(t.series[0].cpuSeconds[9], 3);
    close(sum(t.series[0].cpuSeconds), 5, 'sum');
  });

  it('counts profiles without CPU but adds nothing for them; counts without CPU add requests only', () => {
    const t = buildTimeline(
      [
        record('a', T0, T0 + 10 * S, null, { endpointCounts: { x: 5 } }),
        record('b', T0, T0 + 10 * S, 4, { endpointCounts: { x: 2, y: 2 } }),
      ],
      window,
    );
    assert.equal(t.withCpu, 1);
    assert.equal(t.withRequests, 2);
    assert.equal(t.series[0].profiles, 2);
    assert.equal(t.series[0].requests[0], 9);
    // CPU per request uses the CPU of profiles with counts over all counted requests.
    close(t.series[0].cpuPerRequest[0] ?? Number.NaN, 4 / 9, 'CPU per request');
    assert.equal(t.series[0].cpuPerRequest[1], null);
  });

  it('sums the smallest of many versions into one "other" series, keeping every CPU second', () => {
    const records = Array.from({ length: 20 }, (_, i) => record(`r${i}`, T0 + i * S, T0 + i * S + 5 * S, i + 1, { version: `v${i}` }));
    const t = buildTimeline(records, window);
    assert.equal(t.series.length, MAX_TIMELINE_SERIES);
    const other = t.series[t.series.length - 1];
    assert.equal(other.value, OTHER_SERIES);
    assert.equal(other.profiles, 20 - (MAX_TIMELINE_SERIES - 1));
    close(sum(t.series.map((s) => sum(s.cpuSeconds))), (20 * 21) / 2, 'all CPU kept');
    // The kept ones are the largest: v9 (10 s) and up.
    assert.deepEqual(
      t.series.slice(0, -1).map((s) => s.value),
      Array.from({ length: MAX_TIMELINE_SERIES - 1 }, (_, i) => `v${i + 20 - (MAX_TIMELINE_SERIES - 1)}`),
    );
  });

  it('marks only first appearances inside the window: no marker for what ran at its start, for a rollback, or for a missing flag', () => {
    const records = [
      record('old', T0 - 5 * S, T0 + 5 * S, 1, { version: '1', pgo: false }),
      record('new', T0 + 20 * S, T0 + 30 * S, 1, { version: '2', pgo: true }),
      record('back', T0 + 40 * S, T0 + 50 * S, 1, { version: '1', pgo: false }),
      record('unsaid', T0 + 60 * S, T0 + 70 * S, 1, { version: '', pgo: null }),
    ];
    const t = buildTimeline(records, window);
    assert.deepEqual(
      t.markers.map((m) => [m.kind, m.value, m.previous, m.atMs]),
      [
        ['version', '2', '1', T0 + 20 * S],
        ['pgo', 'true', 'false', T0 + 20 * S],
      ],
    );
    // The profile that began before the window counts half.
    close(t.series.find((s) => s.value === '1')?.cpuSeconds[0] ?? Number.NaN, 0.5 + 0, 'half inside');
  });

  it('refuses more buckets than the limit and an empty window', () => {
    assert.throws(() => buildTimeline([], { ...window, step: 1 }), /100000 buckets is over the limit of 1000/);
    assert.throws(() => buildTimeline([], { ...window, to: window.from }), RangeError);
  });
});
