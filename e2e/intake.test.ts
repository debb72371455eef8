import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ProfileJson } from '../src/api/types.js';
import { encodeProfile } from '../src/pprof/encode.js';
import { parseProfile } from '../src/pprof/parse.js';
import { ddTraceGoUpload } from '../src/testing/dd-upload.js';
import { runOk } from './support/go.js';
import { fixture, hotpathBin, repoRoot } from './support/paths.js';
import { type RunningServer, startServer } from './support/server.js';
import { cacheDir } from './support/workloads.js';

// Real Go services with the real client libraries (from the Go module proxy) send profiles to
// a real `hotpath serve`; the profiles are then found through the API by their tags.
const clientsDir = join(repoRoot, 'e2e', 'clients');
const bin = join(cacheDir, 'clients');

/** Every profile these clients send has a CPU profile, so its CPU cores are known. */
type ApiProfile = ProfileJson & { cpuCores: number };

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
    // Above zero (the client burns CPU) and within the machine's cores: how much CPU the client
    // got depends on the machine's load, a unit error (ms for s, per-sample for per-second) does not.
    assert.ok(p.cpuCores > 0 && p.cpuCores <= cpus().length * 1.05, `CPU cores ${p.cpuCores}`);
    const cpu = p.attachments.find((a) => a.name === 'cpu.pprof');
    assert.equal(cpu?.compression, 'zstd');
    assert.equal((await search(server, 'service:e2e-dd-zstd pgo:false')).profiles.length, profiles.length);
    assert.equal((await search(server, 'service:e2e-dd-zstd pgo:true')).profiles.length, 0);
    // The CPU cores are searchable as a number: every profile has at least the smallest value and
    // none more than the largest. Thresholds taken from the profiles themselves, because how much
    // CPU the client got depends on the machine's load; a metric stored as text, or compared as
    // one, fails these.
    const least = Math.min(...profiles.map((x) => x.cpuCores));
    const byCores = async (filter: string) => (await search(server, `service:e2e-dd-zstd @metrics.core_cpu_cores:${filter}`)).profiles;
    assert.equal((await byCores(`>=${least}`)).length, profiles.length);
    assert.equal((await byCores(`>${p.cpuCores}`)).length, 0);
    assert.deepEqual((await byCores(`<=${p.cpuCores}`)).map((x) => x.id).sort(), profiles.map((x) => x.id).sort());
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
    assert.ok(busiest > 0 && busiest <= cpus().length * 1.05, `CPU cores ${busiest}`);
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

describe('intake limits through the real server', () => {
  let server: RunningServer;
  const cpu = readFileSync(fixture('cpu-small-1.pprof'));
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    assert.equal(await server.stop(), 0, 'graceful shutdown exits 0');
  });

  /** Posts a dd-trace-go upload of the real CPU profile; `edit` may rewrite the body as text (latin1 keeps the binary parts). */
  const sendDatadog = (tags: string, edit: (body: string) => string = (b) => b, additionalTags?: string): Promise<Response> => {
    const { body, contentType } = ddTraceGoUpload({ cpu, tags });
    return fetch(`${server.url}/profiling/v1/input`, {
      method: 'POST',
      body: Buffer.from(edit(body.toString('latin1')), 'latin1'),
      headers: {
        'content-type': contentType,
        authorization: `Bearer ${server.apiKey}`,
        ...(additionalTags === undefined ? {} : { 'x-datadog-additional-tags': additionalTags }),
      },
    });
  };
  const sendUpload = (bytes: Uint8Array, query: string): Promise<Response> =>
    fetch(`${server.url}/api/v1/profiles?${query}`, { method: 'POST', body: bytes, headers: { authorization: `Bearer ${server.apiKey}` } });
  const sendPyroscope = (name: string): Promise<Response> =>
    fetch(`${server.url}/ingest?name=${encodeURIComponent(name)}&from=1700000000&until=1700000010&spyName=gospy`, {
      method: 'POST',
      body: cpu,
      headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${server.apiKey}` },
    });
  const expectRefusal = async (res: Response, status: number, message: RegExp): Promise<void> => {
    const text = await res.text();
    assert.equal(res.status, status, text);
    assert.match((JSON.parse(text) as { error: string }).error, message);
  };
  const manyTags = (n: number, prefix = 't'): string => Array.from({ length: n }, (_, i) => `${prefix}${i}:v${i}`).join(',');

  it('refuses the million-tag dd-trace-go upload with 413, and later searches are unaffected', async () => {
    await expectRefusal(
      await sendDatadog(`service:e2e-million,${manyTags(1_000_000)}`),
      413,
      /event\.json is too large: \d+ bytes, the limit is 1048576/,
    );
    assert.equal((await sendDatadog('service:e2e-after-million,env:ci')).status, 200);
    const res = await fetch(`${server.url}/api/v1/profiles?query=${encodeURIComponent('service:e2e-*')}&from=now-1h`, {
      headers: { 'DD-APPLICATION-KEY': server.appKey },
    });
    const page = await res.text();
    const { profiles } = JSON.parse(page) as { profiles: ApiProfile[] };
    assert.deepEqual(
      profiles.map((p) => p.service),
      ['e2e-after-million'],
    );
    assert.ok(page.length < 64 * 1024, `a search page of one profile is ${page.length} bytes`);
  });

  it('refuses too many or too long tags from every protocol with 413 naming the limit', async () => {
    await expectRefusal(await sendDatadog(manyTags(257)), 413, /^too many tags: 257, the limit is 256 \(event\.json tags_profiler\)$/);
    await expectRefusal(await sendDatadog('service:a', undefined, manyTags(300, 'agent')), 413, /too many tags: 300, the limit is 256/);
    await expectRefusal(
      await sendDatadog(`team:${'x'.repeat(200)}`),
      413,
      /tag "team" is 205 characters long as key:value, the limit is 200/,
    );
    await expectRefusal(await sendUpload(cpu, `tags=${encodeURIComponent(manyTags(257))}`), 413, /too many tags: 257, the limit is 256/);
    const labels = Array.from({ length: 300 }, (_, i) => `l${i}=v`).join(',');
    await expectRefusal(await sendPyroscope(`e2e-pyro{${labels}}`), 413, /too many tags: 300, the limit is 256 \(labels in "name"\)/);
  });

  it('refuses control characters in tags with 400, so /api/v1/services never splits a value', async () => {
    await expectRefusal(
      await sendDatadog('service:e2e-nul,env:prod\u0000staging'),
      400,
      /tag "env" has a control character \(U\+0000\) in its value/,
    );
    await expectRefusal(await sendUpload(cpu, `tags=${encodeURIComponent('service:e2e-nul,env:a\u0001b')}`), 400, /\(U\+0001\)/);
    await expectRefusal(await sendPyroscope('e2e-nul{env=a\u001fb}'), 400, /\(U\+001F\)/);
    const services = (await (
      await fetch(`${server.url}/api/v1/services?from=now-30d`, { headers: { 'DD-APPLICATION-KEY': server.appKey } })
    ).json()) as { services: Array<{ service: string }> };
    assert.equal(
      services.services.some((s) => s.service === 'e2e-nul'),
      false,
    );
  });

  it('refuses endpoint_counts over the limit (413) and deeply nested or oversized event.json (400, 413)', async () => {
    const endpoints = JSON.stringify(Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`GET /e/${i}`, i])));
    const withEndpoints = (b: string) => b.replace('"endpoint_counts":{"GET /api":1234}', `"endpoint_counts":${endpoints}`);
    await expectRefusal(await sendDatadog('service:a', withEndpoints), 413, /^too many endpoint_counts entries: 1001, the limit is 1000$/);
    const nested = (b: string) => b.replace('"family":"go"', `"family":${'['.repeat(100_000)}`);
    await expectRefusal(await sendDatadog('service:a', nested), 400, /event\.json nests arrays and objects deeper than 32 levels/);
  });

  it('refuses attachment names that are not plain file names (400)', async () => {
    const renamed = (b: string) => b.replaceAll('metrics.json', 'metrics json');
    await expectRefusal(await sendDatadog('service:a', renamed), 400, /attachment name "metrics json" is not a plain file name/);
    await expectRefusal(await sendUpload(cpu, 'name=..%2Fcpu.pprof'), 400, /attachment name "..\/cpu.pprof" is not a plain file name/);
  });

  it('refuses bombs and fake pprof attachments, and a CPU profile with negative values', async () => {
    const zstdBomb = execFileSync('zstd', ['-q', '-1', '-c'], { input: Buffer.alloc(80 * 1024 * 1024), maxBuffer: 1 << 24 });
    await expectRefusal(
      await sendUpload(zstdBomb, 'tags=service:e2e-bomb'),
      413,
      /cpu\.pprof: decompressed size exceeds the limit of 67108864 bytes/,
    );
    await expectRefusal(await sendUpload(gzipSync(Buffer.alloc(80 * 1024 * 1024)), 'tags=service:e2e-bomb'), 413, /exceeds the limit/);
    const fakeHeap = (b: string) =>
      b
        .replace('name="metrics.json"; filename="metrics.json"', 'name="heap.pprof"; filename="heap.pprof"')
        .replace('"metrics.json"]', '"heap.pprof"]');
    await expectRefusal(
      await sendDatadog('service:e2e-bomb', fakeHeap),
      400,
      /attachment heap\.pprof is named like a pprof profile but is not one/,
    );
    const diff = parseProfile(cpu);
    diff.samples.values[diff.samples.values.length - 1] = -1;
    await expectRefusal(await sendUpload(encodeProfile(diff), 'tags=service:e2e-bomb'), 400, /has a negative .* value \(-1\)/);
    // The same diff profile is still readable offline.
    const diffFile = join(mkdtempSync(join(tmpdir(), 'hotpath-diff-')), 'diff.pprof');
    writeFileSync(diffFile, encodeProfile(diff));
    assert.match(runOk(process.execPath, [hotpathBin, 'inspect', diffFile]), /samples/i);
    // The server still serves, and stored none of them.
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const res = await fetch(`${server.url}/api/v1/profiles?query=service:e2e-bomb&from=now-1h`, {
      headers: { 'DD-APPLICATION-KEY': server.appKey },
    });
    assert.deepEqual(((await res.json()) as { profiles: unknown[] }).profiles, []);
  });
});
