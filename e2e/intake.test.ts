import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runOk } from './support/go.js';
import { repoRoot } from './support/paths.js';
import { type RunningServer, startServer } from './support/server.js';
import { cacheDir } from './support/workloads.js';

// Real Go services with the real client libraries (from the Go module proxy) send profiles to
// a real `hotpath serve`; the profiles are then found through the API by their tags.
const clientsDir = join(repoRoot, 'e2e', 'clients');
const bin = join(cacheDir, 'clients');

interface ApiProfile {
  id: string;
  service: string;
  env: string;
  version: string;
  pgo: boolean | null;
  cpuCores: number;
  tags: string[];
  attachments: Array<{ name: string; compression: string }>;
}

async function search(
  server: RunningServer,
  query: string,
  key = server.appKey,
): Promise<{ status: number; profiles: ApiProfile[]; error?: string }> {
  const res = await fetch(`${server.url}/api/v1/profiles?query=${encodeURIComponent(query)}&from=now-1h`, {
    headers: { 'DD-APPLICATION-KEY': key },
  });
  const body = (await res.json()) as { profiles?: ApiProfile[]; error?: string };
  return { status: res.status, profiles: body.profiles ?? [], error: body.error };
}

describe('intake from real Go clients', () => {
  let server: RunningServer;
  before(async () => {
    mkdirSync(bin, { recursive: true });
    runOk('go', ['build', '-o', `${bin}/`, './...'], { cwd: clientsDir });
    server = await startServer();
  });
  after(async () => {
    const code = await server.stop();
    assert.equal(code, 0, 'graceful shutdown exits 0');
  });

  const ddtrace = (service: string, env: Record<string, string>) =>
    runOk(join(bin, 'ddtrace'), ['-duration', '4s', '-period', '2s'], {
      env: {
        ...process.env,
        DD_TRACE_AGENT_URL: `http://hotpath:${server.apiKey}@${server.url.slice('http://'.length)}`,
        DD_SERVICE: service,
        DD_ENV: 'ci',
        DD_VERSION: '1.0.0',
        DD_TAGS: 'team:perf',
        ...env,
      },
    });

  it('dd-trace-go with default settings (zstd), key in the agent URL: found by service and env', async () => {
    ddtrace('e2e-dd-zstd', {});
    const { status, profiles } = await search(server, 'service:e2e-dd-zstd env:ci');
    assert.equal(status, 200);
    assert.ok(profiles.length >= 1, 'at least one profile arrived');
    const p = profiles.reduce((a, b) => (b.cpuCores > a.cpuCores ? b : a));
    assert.equal(p.version, '1.0.0');
    assert.equal(p.pgo, false);
    assert.ok(p.tags.includes('team:perf'));
    assert.ok(p.cpuCores > 0.2 && p.cpuCores < 2.5, `CPU cores ${p.cpuCores}`);
    const cpu = p.attachments.find((a) => a.name === 'cpu.pprof');
    assert.equal(cpu?.compression, 'zstd');
    assert.equal((await search(server, 'service:e2e-dd-zstd pgo:false')).profiles.length, profiles.length);
    assert.equal((await search(server, 'service:e2e-dd-zstd pgo:true')).profiles.length, 0);
    assert.equal((await search(server, 'service:e2e-dd-zstd @metrics.core_cpu_cores:>0.1')).profiles.length, profiles.length);
  });

  it('dd-trace-go with legacy (gzip) compression', async () => {
    ddtrace('e2e-dd-gzip', { DD_PROFILING_DEBUG_COMPRESSION_SETTINGS: 'legacy' });
    const { profiles } = await search(server, 'service:e2e-dd-gzip env:ci');
    assert.ok(profiles.length >= 1);
    assert.equal(profiles[0].attachments.find((a) => a.name === 'cpu.pprof')?.compression, 'gzip');
  });

  it('pyroscope-go: found by its labels', async () => {
    runOk(join(bin, 'pyroscope'), [
      '-server',
      server.url,
      '-app',
      'e2e-pyro',
      '-tags',
      'env=ci,region=eu-west',
      '-key',
      server.apiKey,
      '-duration',
      '4s',
    ]);
    const { profiles } = await search(server, 'service:e2e-pyro region:eu-west');
    assert.ok(profiles.length >= 1, 'at least one profile arrived');
    assert.equal(profiles[0].env, 'ci');
    // The last upload, flushed by Stop(), may cover only a moment; the busiest one is plausible.
    const busiest = Math.max(...profiles.map((p) => p.cpuCores));
    assert.ok(busiest > 0.2 && busiest < 2.5, `CPU cores ${busiest}`);
  });

  it('refuses uploads without a valid key and stores nothing', async () => {
    ddtrace('e2e-dd-nokey', { DD_TRACE_AGENT_URL: server.url });
    ddtrace('e2e-dd-badkey', { DD_TRACE_AGENT_URL: `http://hotpath:hpapi_wrong@${server.url.slice('http://'.length)}` });
    assert.equal((await search(server, 'service:e2e-dd-nokey')).profiles.length, 0);
    assert.equal((await search(server, 'service:e2e-dd-badkey')).profiles.length, 0);
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { 'DD-APPLICATION-KEY': server.appKey } })).text();
    assert.match(metrics, /hotpath_rejections_total\{reason="unauthenticated"\} [1-9]/);
    assert.match(metrics, /hotpath_profiles_ingested_total\{protocol="datadog"\} [1-9]/);
  });
});
