import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FlameJson, ProfileJson } from '../src/api/types.js';
import { pprofBinary, preprofile, run, runOk } from './support/go.js';
import { fixture, repoRoot } from './support/paths.js';
import { type RunningServer, startServer } from './support/server.js';
import { cacheDir } from './support/workloads.js';

// OTLP profiles as the OpenTelemetry Go library sends them: e2e/otlpclient reads a real Go CPU
// profile (recorded from the cpuburn workload), converts it with go.opentelemetry.io/collector/
// pdata/pprofile's API, marshals it with pprofileotlp.ExportRequest and POSTs it to a real
// `hotpath serve`, then decodes the answer with pprofileotlp.ExportResponse. e2e/otlpclient/
// collector sends the same profiles through the Collector's own otlphttp exporter.
const clientDir = join(repoRoot, 'e2e', 'otlpclient');
const client = join(cacheDir, 'bin', 'otlpclient');
const collector = join(cacheDir, 'bin', 'otlpcollector');
const work = mkdtempSync(join(tmpdir(), 'hotpath-otlp-'));

interface ClientResult {
  status: number;
  body: string;
  rejectedProfiles?: number;
  errorMessage?: string;
}

/** Runs the Go client: the OTLP request goes to the server, its answer comes back as JSON. */
function send(server: RunningServer, args: string[], key = server.apiKey): ClientResult {
  const out = runOk(client, ['-endpoint', `${server.url}/v1development/profiles`, '-header', `Authorization: Bearer ${key}`, ...args]);
  return JSON.parse(out) as ClientResult;
}

async function get(server: RunningServer, path: string): Promise<Response> {
  const res = await fetch(`${server.url}${path}`, { headers: { 'DD-APPLICATION-KEY': server.appKey } });
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return res;
}

async function search(server: RunningServer, query: string): Promise<ProfileJson[]> {
  // The profiles are stored at the time the pprof was recorded, which may be days ago.
  const res = await get(server, `/api/v1/profiles?query=${encodeURIComponent(query)}&from=0&limit=100`);
  return ((await res.json()) as { profiles: ProfileJson[] }).profiles;
}

/** Flat CPU per function name as `go tool pprof -top` (every node, in nanoseconds) reports it for a file. */
function pprofTopFlat(file: string): Map<string, number> {
  const out = runOk(pprofBinary, ['-top', '-sample_index=cpu', '-unit=ns', '-nodefraction=0', '-nodecount=1000000', file]);
  const flat = new Map<string, number>();
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)ns\s+\S+%\s+\S+%\s+\d+ns\s+\S+%\s+(.+)$/.exec(line);
    if (m && Number(m[1]) > 0) flat.set(m[2], Number(m[1]));
  }
  assert.ok(flat.size > 5, `pprof -top listed functions:\n${out}`);
  return flat;
}

/** pprof -top's names without its " (inline)" mark (a frame inlined into its caller), as the flame graph names them. */
function withoutInlineMarks(flat: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, v] of flat) {
    const plain = name.replace(/ \(inline\)$/, '');
    out.set(plain, (out.get(plain) ?? 0) + v);
  }
  return out;
}

/** Flat (self) CPU per function name of a flame graph answer. */
function flameFlat(flame: FlameJson): Map<string, number> {
  const flat = new Map<string, number>();
  const t = flame.tree;
  for (let i = 0; i < t.name.length; i++) {
    if (t.self[i] === 0) continue;
    const name = t.names[t.name[i]];
    flat.set(name, (flat.get(name) ?? 0) + t.self[i]);
  }
  return flat;
}

describe('OTLP profiles from the OpenTelemetry Go library (pdata pprofileotlp)', () => {
  let server: RunningServer;
  before(async () => {
    mkdirSync(join(cacheDir, 'bin'), { recursive: true });
    runOk('go', ['build', '-o', client, '.'], { cwd: clientDir });
    runOk('go', ['build', '-o', collector, './collector'], { cwd: clientDir });
    server = await startServer();
  });
  after(async () => {
    rmSync(work, { recursive: true, force: true });
    assert.equal(await server.stop(), 0, 'graceful shutdown exits 0');
  });

  for (const [encoding, source, gzip] of [
    ['proto', 'cpu-small-2.pprof', true],
    ['json', 'cpu-small-3.pprof', false],
  ] as const) {
    const service = `e2e-otlp-${encoding}`;
    it(`${encoding}${gzip ? ' + gzip' : ''}: stored, found by resource attributes, drawn, with the CPU per function of the source pprof`, async () => {
      const answer = send(server, [
        '-pprof',
        fixture(source),
        '-encoding',
        encoding,
        `-gzip=${gzip}`,
        '-resource',
        `service.name=${service},deployment.environment.name=ci,service.version=2.0.1,k8s.namespace.name=shop`,
      ]);
      assert.equal(answer.status, 200, answer.body);
      assert.equal(answer.rejectedProfiles, 0);

      const found = await search(server, `service:${service} env:ci`);
      assert.equal(found.length, 1);
      const p = found[0];
      assert.equal(p.protocol, 'otlp');
      assert.equal(p.version, '2.0.1');
      // No SDK attribute says Go here: the Go frames do.
      assert.equal(p.runtime, 'go');
      assert.ok(p.tags.includes('k8s.namespace.name:shop'), p.tags.join(' '));
      assert.deepEqual((await search(server, `service:${service} k8s.namespace.name:shop`)).length, 1);
      assert.deepEqual((await search(server, `service:${service} env:prod`)).length, 0);

      // The stored profile, read back by the real pprof tool, has the source's flat CPU per function.
      const stored = join(work, `${service}.pprof`);
      writeFileSync(stored, Buffer.from(await (await get(server, `/api/v1/profiles/${p.id}/attachments/cpu.pprof`)).arrayBuffer()));
      const want = pprofTopFlat(fixture(source));
      assert.deepEqual(pprofTopFlat(stored), want);

      // Drawn: the flame graph's self time per function is the same.
      const flame = (await (
        await get(server, `/api/v1/flamegraph?id=${p.id}&type=${encodeURIComponent('cpu.pprof:cpu')}&maxNodes=1000000`)
      ).json()) as FlameJson;
      assert.equal(flame.droppedNodes, 0);
      assert.deepEqual(flameFlat(flame), withoutInlineMarks(want));

      // CPU stats and a PGO form the Go compiler reads, as for an uploaded pprof.
      assert.ok(p.cpuCores !== null && p.cpuCores > 0, `cpuCores ${p.cpuCores}`);
      const pgo = join(work, `${service}.pgo`);
      writeFileSync(pgo, Buffer.from(await (await get(server, `/api/v1/profiles/${p.id}/pgo`)).arrayBuffer()));
      assert.match(preprofile(pgo), /^GO PREPROFILE V1\n/);
    });
  }

  it('a profile per resource and per sample type: each one stored, the CPU ones with the same CPU', async () => {
    const answer = send(server, [
      '-pprof',
      fixture('cpu-small-1.pprof'),
      '-gzip',
      '-resources',
      '2',
      '-sample-type',
      'samples/count,cpu/nanoseconds',
      '-resource',
      'service.name=e2e-otlp-many,deployment.environment=staging',
    ]);
    assert.equal(answer.status, 200, answer.body);
    const found = await search(server, 'service:e2e-otlp-many env:staging');
    assert.equal(found.length, 4);
    assert.deepEqual(found.map((p) => p.tags.find((t) => t.startsWith('copy:'))).sort(), ['copy:0', 'copy:0', 'copy:1', 'copy:1']);
    // samples/count with its cpu/nanoseconds period says the same CPU as cpu/nanoseconds.
    assert.equal(new Set(found.map((p) => p.cpuCores)).size, 1);
  });

  for (const encoding of ['proto', 'json']) {
    it(`through the OpenTelemetry Collector's otlphttp exporter (${encoding}, gzip by default): stored with the source's CPU`, async () => {
      const service = `e2e-otlp-collector-${encoding}`;
      const args = ['-pprof', fixture('cpu-small-1.pprof'), '-endpoint', server.url, '-encoding', encoding];
      const out = JSON.parse(
        runOk(collector, [...args, '-key', server.apiKey, '-resource', `service.name=${service},deployment.environment.name=ci`]),
      ) as { error: string };
      assert.equal(out.error, '');
      const [p, ...more] = await search(server, `service:${service} env:ci`);
      assert.equal(more.length, 0);
      const stored = join(work, `${service}.pprof`);
      writeFileSync(stored, Buffer.from(await (await get(server, `/api/v1/profiles/${p.id}/attachments/cpu.pprof`)).arrayBuffer()));
      assert.deepEqual(pprofTopFlat(stored), pprofTopFlat(fixture('cpu-small-1.pprof')));

      const refused = JSON.parse(runOk(collector, [...args, '-key', 'hpapi_wrong', '-resource', `service.name=${service}-badkey`])) as {
        error: string;
      };
      assert.match(refused.error, /Permanent error: .*HTTP Status Code 401/);
      assert.equal((await search(server, `service:${service}-badkey`)).length, 0);
    });
  }

  it('a wrong API key: 401, nothing stored', async () => {
    const answer = send(server, ['-pprof', fixture('cpu-small-1.pprof'), '-resource', 'service.name=e2e-otlp-badkey'], 'hpapi_wrong');
    assert.equal(answer.status, 401);
    assert.equal((await search(server, 'service:e2e-otlp-badkey')).length, 0);
  });

  it('a request cut short: 400 naming what is wrong, nothing stored', async () => {
    const body = join(work, 'request.pb');
    runOk(client, ['-pprof', fixture('cpu-small-1.pprof'), '-resource', 'service.name=e2e-otlp-cut', '-out', body]);
    const bytes = readFileSync(body);
    const res = await fetch(`${server.url}/v1development/profiles`, {
      method: 'POST',
      body: bytes.subarray(0, bytes.length - 10),
      headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${server.apiKey}` },
    });
    assert.equal(res.status, 400);
    assert.match(
      ((await res.json()) as { error: string }).error,
      /^invalid OTLP profiles request: .*(claims \d+ bytes but only \d+ remain|truncated)/,
    );
    assert.equal((await search(server, 'service:e2e-otlp-cut')).length, 0);
    assert.equal(run(client, ['-pprof', fixture('cpu-small-1.pprof')]).status, 1, 'the client itself refuses a missing endpoint');
  });
});
