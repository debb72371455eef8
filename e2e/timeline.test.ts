import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ProfileListJson, TimelineJson } from '../src/api/types.js';
import { parseProfile } from '../src/pprof/parse.js';
import { valueIndex } from '../src/pprof/profile.js';
import { runOk } from './support/go.js';
import { repoRoot } from './support/paths.js';
import { type RunningServer, startServer } from './support/server.js';
import { cacheDir } from './support/workloads.js';

// CPU over time from a real Go service with the real dd-trace-go profiler, deployed as 1.0.0 and
// then as 2.0.0, against a real `hotpath serve`. The expected figures come from the raw CPU
// profiles themselves (downloaded and decoded here), not from the index the timeline reads.

const clientsDir = join(repoRoot, 'e2e', 'clients');
const bin = join(cacheDir, 'clients');
const SERVICE = 'e2e-timeline';

describe('CPU timeline of a real dd-trace-go service across a deploy', () => {
  let server: RunningServer;
  let from = 0;
  let to = 0;
  /** Every stored profile with its period and the CPU seconds in its raw pprof. */
  const profiles: Array<{ id: string; start: number; end: number; version: string; cpu: number }> = [];
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${server.appKey}` } });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as T;
  };

  before(async () => {
    mkdirSync(bin, { recursive: true });
    runOk('go', ['build', '-o', `${bin}/`, './...'], { cwd: clientsDir });
    server = await startServer();
    from = Date.now() - 1000;
    for (const version of ['1.0.0', '2.0.0']) {
      runOk(join(bin, 'ddtrace'), ['-duration', '4s', '-period', '2s'], {
        env: {
          ...process.env,
          DD_TRACE_AGENT_URL: `http://hotpath:${server.apiKey}@${server.url.slice('http://'.length)}`,
          DD_SERVICE: SERVICE,
          DD_ENV: 'ci',
          DD_VERSION: version,
        },
      });
    }
    to = Date.now() + 1000;
    const list = await get<ProfileListJson>(`/api/v1/profiles?query=service:${SERVICE}&from=${from}&to=${to}&limit=100`);
    for (const p of list.profiles) {
      const res = await fetch(`${server.url}/api/v1/flamegraph/pprof?id=${p.id}`, {
        headers: { authorization: `Bearer ${server.appKey}` },
      });
      assert.equal(res.status, 200);
      const raw = parseProfile(new Uint8Array(await res.arrayBuffer()));
      const vi = valueIndex(raw, 'cpu', 'nanoseconds');
      let ns = 0;
      for (let i = 0; i < raw.samples.count; i++) ns += raw.samples.values[i * (raw.sampleTypes.length / 2) + vi];
      profiles.push({ id: p.id, start: Date.parse(p.start), end: Date.parse(p.end), version: p.version, cpu: ns / 1e9 });
    }
  });
  after(async () => {
    await server?.stop();
  });

  const total = (t: TimelineJson) => t.series.reduce((s, x) => s + x.cpuSeconds.reduce((a, b) => a + b, 0), 0);
  const close = (actual: number, expected: number, what: string) =>
    assert.ok(Math.abs(actual - expected) <= 1e-6 * Math.max(1, expected), `${what}: ${actual} vs ${expected}`);

  it('sums its buckets to the CPU time in the raw profiles, whole and in a window that cuts them', async () => {
    assert.ok(profiles.filter((p) => p.version === '1.0.0').length >= 1, 'profiles of 1.0.0 arrived');
    assert.ok(profiles.filter((p) => p.version === '2.0.0').length >= 1, 'profiles of 2.0.0 arrived');
    const all = await get<TimelineJson>(`/api/v1/timeline?query=service:${SERVICE}&from=${from}&to=${to}&step=500ms`);
    assert.equal(all.profiles.used, profiles.length);
    const cpu = profiles.reduce((s, p) => s + p.cpu, 0);
    assert.ok(cpu > 0);
    close(total(all), cpu, 'whole window');
    close(all.totals.cpuSeconds, cpu, 'totals');
    // A window from the middle of the first profile to the middle of the last one, in 700 ms buckets.
    const sorted = [...profiles].sort((a, b) => a.start - b.start);
    const cutFrom = Math.round((sorted[0].start + sorted[0].end) / 2);
    const last = sorted[sorted.length - 1];
    const cutTo = Math.round((last.start + last.end) / 2);
    const cut = await get<TimelineJson>(`/api/v1/timeline?query=service:${SERVICE}&from=${cutFrom}&to=${cutTo}&step=700ms`);
    const expected = profiles.reduce((s, p) => {
      const overlap = Math.max(0, Math.min(p.end, cutTo) - Math.max(p.start, cutFrom));
      return s + (p.end > p.start ? (p.cpu * overlap) / (p.end - p.start) : 0);
    }, 0);
    close(total(cut), expected, 'cut window');
  });

  it('marks the deploy of 2.0.0 at its first profile', async () => {
    const t = await get<TimelineJson>(`/api/v1/timeline?query=service:${SERVICE}&from=${from}&to=${to}`);
    const first2 = Math.min(...profiles.filter((p) => p.version === '2.0.0').map((p) => p.start));
    assert.deepEqual(
      t.markers.filter((m) => m.kind === 'version').map((m) => [m.atMs, m.previous, m.value]),
      [[first2, '1.0.0', '2.0.0']],
    );
    assert.deepEqual(
      t.series.map((s) => s.value),
      ['1.0.0', '2.0.0'],
    );
  });
});
