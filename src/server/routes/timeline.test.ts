import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { ErrorJson, TimelineJson } from '../../api/types.js';
import { parseProfile } from '../../pprof/parse.js';
import { valueIndex } from '../../pprof/profile.js';
import { ddTraceGoUpload } from '../../testing/dd-upload.js';
import { fixture } from '../../testing/fixtures.js';
import { injectFetch, openTestApp, type TestApp } from '../testing.js';

// GET /api/v1/timeline in process over a real store holding dd-trace-go uploads of real Go CPU
// profiles at chosen times, so every expected figure is computed here from the profiles' bytes
// and the periods the test chose, not from the code under test.

const MINUTE = 60_000;
/** A fixed base time, on a whole hour, so buckets and profile periods line up as the test says. */
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

/** CPU seconds in a real profile: the sum of its cpu/nanoseconds column. */
function cpuSecondsOf(bytes: Uint8Array): number {
  const p = parseProfile(bytes);
  const vi = valueIndex(p, 'cpu', 'nanoseconds');
  let sum = 0;
  for (let i = 0; i < p.samples.count; i++) sum += p.samples.values[i * (p.sampleTypes.length / 2) + vi];
  return sum / 1e9;
}

interface Uploaded {
  file: string;
  start: number;
  end: number;
  version: string;
  pgo: boolean;
  requests: number | null;
  cpu: number;
}

/** The uploads: v1 without PGO, then v2 with it from minute 20; profiles of one minute, one of two minutes. */
const PLAN: Array<Omit<Uploaded, 'cpu'>> = [
  { file: 'cpu-small-1.pprof', start: T0, end: T0 + MINUTE, version: '1.0', pgo: false, requests: 100 },
  { file: 'cpu-small-2.pprof', start: T0 + 10 * MINUTE, end: T0 + 12 * MINUTE, version: '1.0', pgo: false, requests: null },
  { file: 'cpu-json.pprof', start: T0 + 20 * MINUTE, end: T0 + 21 * MINUTE, version: '2.0', pgo: true, requests: 400 },
  { file: 'cpu-sort.pprof', start: T0 + 30 * MINUTE, end: T0 + 31 * MINUTE, version: '2.0', pgo: true, requests: 50 },
  { file: 'cpu-small-3.pprof', start: T0 + 40 * MINUTE, end: T0 + 41 * MINUTE, version: '2.0', pgo: true, requests: 10 },
];

/** The part of [start, end] inside [from, to], as a share of the period. */
function share(u: Uploaded, from: number, to: number): number {
  return Math.max(0, Math.min(u.end, to) - Math.max(u.start, from)) / (u.end - u.start);
}

function sumAll(t: TimelineJson, field: 'cpuSeconds' | 'requests'): number {
  return t.series.reduce((s, series) => s + series[field].reduce((a, b) => a + b, 0), 0);
}

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: got ${actual}, expected ${expected}`);
}

describe('GET /api/v1/timeline: CPU over time from the index', () => {
  let server: TestApp;
  const uploaded: Uploaded[] = [];
  const get = async <T>(query: string, status = 200): Promise<T> => {
    const res = await injectFetch(server.app, `/api/v1/timeline?${query}`, {
      headers: { authorization: `Bearer ${server.keys.profilesRead}` },
    });
    const body = (await res.json()) as T;
    assert.equal(res.status, status, JSON.stringify(body));
    return body;
  };
  const iso = (ms: number) => new Date(ms).toISOString();

  before(async () => {
    server = await openTestApp();
    for (const plan of PLAN) {
      const cpu = readFileSync(fixture(plan.file));
      const dd = ddTraceGoUpload({
        cpu,
        tags: `service:shop,env:prod,version:${plan.version},pgo:${plan.pgo}`,
        start: new Date(plan.start),
        end: new Date(plan.end),
        endpointCounts: plan.requests === null ? null : { 'GET /cart': plan.requests - 1, 'POST /pay': 1 },
      });
      const res = await injectFetch(server.app, '/profiling/v1/input', {
        method: 'POST',
        body: dd.body,
        headers: { 'content-type': dd.contentType, authorization: `Bearer ${server.keys.api}` },
      });
      assert.equal(res.status, 200, await res.text());
      uploaded.push({ ...plan, cpu: cpuSecondsOf(cpu) });
    }
  });
  after(() => server.close());

  it('sums, over all buckets and series, to the CPU time of the profiles in the window', async () => {
    const t = await get<TimelineJson>(`query=service:shop&from=${iso(T0)}&to=${iso(T0 + 60 * MINUTE)}&step=5m`);
    assert.equal(t.buckets, 12);
    assert.equal(t.stepMs, 5 * MINUTE);
    const expected = uploaded.reduce((s, u) => s + u.cpu, 0);
    assert.ok(expected > 0);
    close(sumAll(t, 'cpuSeconds'), expected, 'bucket sum');
    close(t.totals.cpuSeconds, expected, 'total');
    assert.deepEqual(t.profiles, { matched: 5, used: 5, withCpu: 5, withRequests: 4 });
    assert.equal(t.complete, true);
    // Cores are seconds over the bucket's length: the first bucket holds all of the first profile.
    const v1 = t.series.find((s) => s.value === '1.0');
    assert.ok(v1);
    close(v1.cpuSeconds[0], uploaded[0].cpu, 'first bucket');
    close(v1.cpuCores[0], uploaded[0].cpu / 300, 'first bucket cores');
  });

  it('counts a profile cut by the window or by a bucket edge in proportion to the overlap', async () => {
    // From minute 10.5 to 40.25 with 7-minute buckets (the last one shorter): the second profile
    // is three quarters inside, the last a quarter, and edges cut through the others.
    const from = T0 + 10.5 * MINUTE;
    const to = T0 + 40.25 * MINUTE;
    const t = await get<TimelineJson>(`query=service:shop&from=${iso(from)}&to=${iso(to)}&step=7m`);
    assert.equal(t.buckets, 5);
    const expected = uploaded.reduce((s, u) => s + u.cpu * share(u, from, to), 0);
    close(sumAll(t, 'cpuSeconds'), expected, 'bucket sum in a cut window');
    // The 2-minute profile from 10:00 to 12:00 overlaps bucket 0 [10:30, 17:30) by 1.5 minutes.
    const v1 = t.series.find((s) => s.value === '1.0');
    assert.ok(v1);
    close(v1.cpuSeconds[0], uploaded[1].cpu * 0.75, 'cut profile');
    // The profile of 20:00–21:00 straddles no edge (bucket 1 is [17:30, 24:30)).
    const v2 = t.series.find((s) => s.value === '2.0');
    assert.ok(v2);
    close(v2.cpuSeconds[1], uploaded[2].cpu, 'whole profile in bucket 1');
    // The last bucket [38:30, 40:15) is 1.75 minutes long and holds a quarter of the last profile.
    close(v2.cpuCores[4], (uploaded[4].cpu * 0.25) / 105, 'short last bucket cores');
  });

  it('splits by version with a marker where 2.0 first appears, and by pgo the same way', async () => {
    const window = `query=service:shop&from=${iso(T0)}&to=${iso(T0 + 60 * MINUTE)}&step=10m`;
    const byVersion = await get<TimelineJson>(window);
    assert.equal(byVersion.split, 'version');
    assert.deepEqual(
      byVersion.series.map((s) => [s.value, s.profiles]),
      [
        ['1.0', 2],
        ['2.0', 3],
      ],
    );
    const versionMarkers = byVersion.markers.filter((m) => m.kind === 'version');
    assert.deepEqual(versionMarkers, [
      { kind: 'version', at: iso(uploaded[2].start), atMs: uploaded[2].start, value: '2.0', previous: '1.0' },
    ]);
    const byPgo = await get<TimelineJson>(`${window}&split=pgo`);
    assert.deepEqual(
      byPgo.series.map((s) => s.label),
      ['pgo:false', 'pgo:true'],
    );
    assert.deepEqual(
      byPgo.markers.filter((m) => m.kind === 'pgo').map((m) => [m.atMs, m.value, m.previous]),
      [[uploaded[2].start, 'true', 'false']],
    );
    // A window opening after the change has nothing to mark: 2.0 was already running.
    const later = await get<TimelineJson>(`query=service:shop&from=${iso(T0 + 25 * MINUTE)}&to=${iso(T0 + 60 * MINUTE)}`);
    assert.deepEqual(later.markers, []);
  });

  it('gives CPU per request from the endpoint counts, leaving out profiles without them', async () => {
    const t = await get<TimelineJson>(`query=service:shop&from=${iso(T0)}&to=${iso(T0 + 60 * MINUTE)}&step=10m`);
    const counted = uploaded.filter((u) => u.requests !== null);
    const requests = counted.reduce((s, u) => s + (u.requests ?? 0), 0);
    close(sumAll(t, 'requests'), requests, 'requests');
    close(t.totals.requests, requests, 'total requests');
    assert.ok(t.totals.cpuPerRequest !== null);
    close(t.totals.cpuPerRequest, counted.reduce((s, u) => s + u.cpu, 0) / requests, 'CPU per request');
    // Bucket [10:00, 20:00) holds only the profile without counts: CPU but no CPU per request.
    const v1 = t.series.find((s) => s.value === '1.0');
    assert.ok(v1);
    assert.ok(v1.cpuSeconds[1] > 0);
    assert.equal(v1.cpuPerRequest[1], null);
    close(v1.cpuPerRequest[0] ?? Number.NaN, uploaded[0].cpu / 100, 'bucket 0 CPU per request');
  });

  it('chooses a round step when none is given, within the bucket limit', async () => {
    const t = await get<TimelineJson>(`query=service:shop&from=${iso(T0)}&to=${iso(T0 + 24 * 60 * MINUTE)}`);
    assert.equal(t.stepMs, 15 * MINUTE);
    assert.equal(t.buckets, 96);
    close(
      sumAll(t, 'cpuSeconds'),
      uploaded.reduce((s, u) => s + u.cpu, 0),
      'bucket sum',
    );
  });

  it('uses the newest profiles up to the limit and says the answer is incomplete', async () => {
    const t = await get<TimelineJson>(`query=service:shop&from=${iso(T0)}&to=${iso(T0 + 60 * MINUTE)}&limit=2`);
    assert.deepEqual(t.profiles, { matched: 5, used: 2, withCpu: 2, withRequests: 2 });
    assert.equal(t.complete, false);
    close(sumAll(t, 'cpuSeconds'), uploaded[3].cpu + uploaded[4].cpu, 'newest two');
  });

  it('refuses bad parameters with 400 naming what to fix', async () => {
    const day = `from=${iso(T0)}&to=${iso(T0 + 24 * 60 * MINUTE)}`;
    const tooFine = await get<ErrorJson>(`${day}&step=1s`, 400);
    assert.equal(tooFine.code, 'bad_parameter');
    assert.equal(
      tooFine.error,
      '"step" 1s makes 86,400 buckets over this window; the most is 1,000: use a step of at least 2m, or leave it out for an automatic one',
    );
    // The suggested step is accepted.
    const suggested = /at least (\S+),/.exec(tooFine.error)?.[1] ?? '';
    const ok = await get<TimelineJson>(`${day}&step=${suggested}`);
    assert.ok(ok.buckets <= 1000);
    // Over the longest window there is, the suggestion is still a whole number of days.
    const ever = await get<ErrorJson>('from=0&to=253402300799999&step=1w', 400);
    assert.match(ever.error, /at least \d+d, or leave it out/);
    const everAuto = await get<TimelineJson>('from=0&to=253402300799999');
    assert.ok(everAuto.buckets <= 1000, `${everAuto.buckets} buckets`);
    for (const step of ['fast', '0s', '0.5ms', '-5m', '1e3s', '99999999999999999999w']) {
      const bad = await get<ErrorJson>(`${day}&step=${encodeURIComponent(step)}`, 400);
      assert.match(bad.error, /"step" must be a duration/, step);
    }
    assert.match((await get<ErrorJson>(`${day}&split=host`, 400)).error, /"split" must be one of version, pgo, got "host"/);
    assert.match((await get<ErrorJson>(`from=${iso(T0)}&to=${iso(T0)}`, 400)).error, /"from" must be before "to"/);
    assert.match((await get<ErrorJson>(`from=${iso(T0 + MINUTE)}&to=${iso(T0)}`, 400)).error, /"from" must be before "to"/);
    assert.match((await get<ErrorJson>('from=yesterday', 400)).error, /"from" must be now/);
    assert.match((await get<ErrorJson>('limit=0', 400)).error, /"limit"/);
    assert.match((await get<ErrorJson>('limit=50001', 400)).error, /"limit"/);
    const query = await get<ErrorJson>(`query=${encodeURIComponent('service:(shop')}`, 400);
    assert.equal(query.code, 'query');
    assert.equal(typeof query.column, 'number');
  });

  it('needs profiles_read access', async () => {
    const anonymous = await injectFetch(server.app, '/api/v1/timeline');
    assert.equal(anonymous.status, 401);
    const intake = await injectFetch(server.app, '/api/v1/timeline', { headers: { authorization: `Bearer ${server.keys.api}` } });
    assert.equal(intake.status, 403);
  });
});
