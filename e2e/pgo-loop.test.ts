import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run, runOk } from './support/go.js';
import { hotpathBin } from './support/paths.js';
import { copyPgoService } from './support/pgoservice.js';
import { type RunningServer, startServer } from './support/server.js';

// The whole loop with real parts: a Go HTTP service instrumented with dd-trace-go sends
// profiles to `hotpath serve` while a load generator drives it; `hotpath pgo` writes the
// service's default.pgo; `go build` picks it up; the rebuilt service reports pgo:true.
const SERVICE = 'pgo-loop';
const work = mkdtempSync(join(tmpdir(), 'hotpath-loop-'));
// A copy of the service module, so the default.pgo is never written into the repository.
const moduleDir = join(work, 'pgoservice');

/** Runs the service binary for its duration while 4 concurrent clients send it requests. */
async function runUnderLoad(binary: string, server: RunningServer): Promise<number> {
  const child = spawn(binary, ['-duration', '6s', '-period', '2s'], {
    env: {
      ...process.env,
      DD_TRACE_AGENT_URL: `http://hotpath:${server.apiKey}@${server.url.slice('http://'.length)}`,
      DD_SERVICE: SERVICE,
      DD_ENV: 'ci',
      DD_VERSION: binary.endsWith('1') ? '2.0.0' : '1.0.0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`service exited (${code}) before listening: ${out}`)));
  });
  let requests = 0;
  let running = true;
  void exited.then(() => {
    running = false;
  });
  const client = async (): Promise<void> => {
    while (running) {
      try {
        const res = await fetch(`${url}/catalog?n=400`);
        await res.text();
        requests++;
      } catch {
        return; // the service stopped
      }
    }
  };
  await Promise.all([client(), client(), client(), client()]);
  assert.equal(await exited, 0);
  return requests;
}

async function profilesOf(server: RunningServer, query: string): Promise<Array<{ pgo: boolean | null; version: string }>> {
  const res = await fetch(`${server.url}/api/v1/profiles?query=${encodeURIComponent(query)}&from=now-1h&limit=100`, {
    headers: { 'DD-APPLICATION-KEY': server.appKey },
  });
  return ((await res.json()) as { profiles: Array<{ pgo: boolean | null; version: string }> }).profiles;
}

describe('continuous PGO, the whole loop', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
    runOk('mkdir', ['-p', moduleDir]);
    copyPgoService(moduleDir);
  });
  after(async () => {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('profiles a service, writes its default.pgo, and the rebuilt service reports pgo:true', async () => {
    runOk('go', ['build', '-o', join(work, 'service0'), '.'], { cwd: moduleDir });
    const served = await runUnderLoad(join(work, 'service0'), server);
    assert.ok(served > 50, `the load generator drove the service (${served} requests)`);
    const before = await profilesOf(server, `service:${SERVICE} env:ci`);
    assert.ok(before.length >= 1 && before.every((p) => p.pgo === false), 'the first build reports pgo:false');

    const dest = join(moduleDir, 'default.pgo');
    const pgo = run(process.execPath, [hotpathBin, 'pgo', '--fail', '--server', server.url, `service:${SERVICE} env:ci`, dest], {
      env: { ...process.env, HOTPATH_APP_KEY: server.appKey },
    });
    assert.equal(pgo.status, 0, pgo.stdout + pgo.stderr);
    assert.ok(existsSync(dest));

    // go build uses ./default.pgo of the main package by default (-pgo=auto).
    runOk('go', ['build', '-o', join(work, 'service1'), '.'], { cwd: moduleDir });
    const info = runOk('go', ['version', '-m', join(work, 'service1')]);
    assert.match(info, /build\s+-pgo=\S*default\.pgo/, 'the binary was built with the profile');

    await runUnderLoad(join(work, 'service1'), server);
    const rebuilt = await profilesOf(server, `service:${SERVICE} env:ci version:2.0.0`);
    assert.ok(rebuilt.length >= 1 && rebuilt.every((p) => p.pgo === true), 'the rebuilt service reports pgo:true');
    assert.ok((await profilesOf(server, `service:${SERVICE} pgo:true`)).length >= 1, 'pgo:true is searchable');

    const services = (await (
      await fetch(`${server.url}/api/v1/services`, { headers: { 'DD-APPLICATION-KEY': server.appKey } })
    ).json()) as {
      services: Array<{ service: string; latestPgo: boolean | null; withoutPgo: boolean; pgoShare: number; latestVersion: string }>;
    };
    const svc = services.services.find((s) => s.service === SERVICE);
    assert.ok(svc);
    assert.equal(svc.latestPgo, true);
    assert.equal(svc.withoutPgo, false);
    assert.equal(svc.latestVersion, '2.0.0');
    assert.ok(svc.pgoShare > 0 && svc.pgoShare < 1);
  });
});
