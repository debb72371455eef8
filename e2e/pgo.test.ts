import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ExplainJson, ProfileJson, ServicesJson } from '../src/api/types.js';
import { pprofMerge, preprofile, run } from './support/go.js';
import { fixture, hotpathBin } from './support/paths.js';
import { type RunningServer, startServer } from './support/server.js';

// `hotpath pgo` against a real server holding profiles written by the real Go workload.
const work = mkdtempSync(join(tmpdir(), 'hotpath-pgo-cli-'));
const inputs = ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof', 'cpu-json.pprof'].map(fixture);

function pgo(server: RunningServer, args: string[], key = server.appKey) {
  return run(process.execPath, [hotpathBin, 'pgo', '--server', server.url, ...args], { env: { ...process.env, HOTPATH_APP_KEY: key } });
}

describe('hotpath pgo', () => {
  let server: RunningServer;
  const cpuOf = new Map<string, number>();
  before(async () => {
    server = await startServer();
    for (const [i, file] of inputs.entries()) {
      const res = await fetch(`${server.url}/api/v1/profiles?tags=service:shop,env:prod,version:${i}`, {
        method: 'POST',
        body: readFileSync(file),
        headers: { authorization: `Bearer ${server.apiKey}` },
      });
      assert.equal(res.status, 201);
    }
    const list = (await (
      await fetch(`${server.url}/api/v1/profiles?query=service:shop&limit=100`, { headers: { 'DD-APPLICATION-KEY': server.appKey } })
    ).json()) as { profiles: Array<ProfileJson & { cpuCores: number }> };
    for (const p of list.profiles) cpuOf.set(inputs[Number(p.version)], p.cpuCores);
    assert.ok(
      list.profiles.every((p) => p.tags.includes('runtime:go')),
      'Go profiles get runtime:go at ingest',
    );
  });
  after(async () => {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('writes the merge of the top profiles by CPU: the preprofile of pprof -proto over the same raw profiles', () => {
    const dest = join(work, 'default.pgo');
    const r = pgo(server, ['--profiles', '3', 'service:shop env:prod', dest]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /INFO wrote PGO file path=\S+default\.pgo samples=\d+ bytes=\d+ sha256=[0-9a-f]{64} total-duration=\d+(\.\d+)?m?s/,
    );
    assert.match(r.stdout, /debug-query="profile-id:\(\S+ OR \S+ OR \S+\)"/);
    assert.equal((r.stdout.match(/extracted profile service=shop/g) ?? []).length, 3);
    // The three busiest of the four uploads.
    const top3 = [...cpuOf.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([f]) => f);
    const reference = join(work, 'reference.pprof');
    pprofMerge(top3, reference);
    assert.equal(preprofile(dest), preprofile(reference));
  });

  it('gives byte-identical files for the same stored profiles', () => {
    const a = join(work, 'a.pgo');
    const b = join(work, 'b.pgo');
    assert.equal(pgo(server, ['service:shop', a]).status, 0);
    assert.equal(pgo(server, ['service:shop', b]).status, 0);
    assert.deepEqual(readFileSync(a), readFileSync(b));
  });

  it('logs JSON with --json and prints hot call sites with --explain', () => {
    const r = pgo(server, ['--json', '--explain', 'service:shop', join(work, 'j.pgo')]);
    assert.equal(r.status, 0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; [k: string]: unknown });
    assert.ok(lines.some((l) => l.msg === 'wrote PGO file' && typeof l.sha256 === 'string'));
    assert.ok(lines.some((l) => l.msg === 'hot call sites' && typeof l['threshold-percent'] === 'number'));
  });

  it('the server explains the default.pgo it would build, as hotpath explain does for the file', async () => {
    const dest = join(work, 'explain.pgo');
    assert.equal(pgo(server, ['service:shop', dest]).status, 0);
    const local = JSON.parse(run(process.execPath, [hotpathBin, 'explain', '--json', '--top', '10', dest]).stdout) as {
      thresholdPercent: number;
      hotCount: number;
      edges: unknown[];
    };
    const res = await fetch(`${server.url}/api/v1/pgo/explain?query=${encodeURIComponent('service:shop')}&top=10`, {
      headers: { 'DD-APPLICATION-KEY': server.appKey },
    });
    assert.equal(res.status, 200);
    const remote = (await res.json()) as ExplainJson;
    assert.equal(remote.query, 'service:shop runtime:go');
    assert.equal(remote.thresholdPercent, local.thresholdPercent);
    assert.equal(remote.hotCount, local.hotCount);
    assert.deepEqual(remote.edges, local.edges);
  });

  it('lists services with their PGO adoption and flags those whose newest profile is not a PGO build', async () => {
    const send = (tags: string) =>
      fetch(`${server.url}/api/v1/profiles?tags=${encodeURIComponent(tags)}`, {
        method: 'POST',
        body: readFileSync(inputs[0]),
        headers: { authorization: `Bearer ${server.apiKey}` },
      });
    await send('service:legacy,env:prod,version:1.0,pgo:false');
    await send('service:modern,env:prod,version:2.0,pgo:false');
    await send('service:modern,env:prod,version:2.1,pgo:true');
    const body = (await (
      await fetch(`${server.url}/api/v1/services`, { headers: { 'DD-APPLICATION-KEY': server.appKey } })
    ).json()) as ServicesJson;
    const by = new Map(body.services.map((s) => [s.service, s]));
    assert.equal(by.get('shop')?.profiles, inputs.length);
    assert.equal(by.get('shop')?.latestPgo, null);
    assert.equal(by.get('legacy')?.withoutPgo, true);
    assert.equal(by.get('modern')?.withoutPgo, false);
    assert.equal(by.get('modern')?.pgoShare, 0.5);
    assert.equal(by.get('modern')?.latestVersion, '2.1');
    const cli = run(process.execPath, [hotpathBin, 'services', '--server', server.url], {
      env: { ...process.env, HOTPATH_APP_KEY: server.appKey },
    });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /^!\s+legacy\s+prod\s+1\.0\s+1\s/m);
    assert.match(cli.stdout, /1 service\(s\) run builds without PGO/);
  });

  describe('failures: exit 0 and DEST untouched without --fail, non-zero with it, and a message that says what to fix', () => {
    const dest = join(work, 'existing.pgo');
    const check = (r: ReturnType<typeof run>, fix: RegExp, failFlag: boolean) => {
      assert.equal(r.status, failFlag ? 1 : 0, r.stdout + r.stderr);
      assert.match(r.stdout, fix);
      if (!failFlag) assert.match(r.stdout, /--fail is not set: exiting 0/);
      assert.equal(readFileSync(dest, 'utf8'), 'previous profile', 'DEST is untouched');
    };
    for (const failFlag of [false, true]) {
      const extra = failFlag ? ['--fail'] : [];
      it(`server down${failFlag ? ' (--fail)' : ''}`, async () => {
        writeFileSync(dest, 'previous profile');
        const closed = await freePort();
        const r = run(process.execPath, [hotpathBin, 'pgo', ...extra, '--server', `http://127.0.0.1:${closed}`, 'service:shop', dest], {
          env: { ...process.env, HOTPATH_APP_KEY: 'x' },
        });
        check(r, /cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): check --server/, failFlag);
      });
      it(`wrong key${failFlag ? ' (--fail)' : ''}`, () => {
        writeFileSync(dest, 'previous profile');
        check(
          pgo(server, [...extra, 'service:shop', dest], 'hpapp_wrong'),
          /refused the key \(401.*set --app-key \/ HOTPATH_APP_KEY/,
          failFlag,
        );
      });
      it(`no matching profiles${failFlag ? ' (--fail)' : ''}`, () => {
        writeFileSync(dest, 'previous profile');
        check(
          pgo(server, [...extra, 'service:nothing', dest]),
          /no CPU profiles match "service:nothing runtime:go".*check the query/,
          failFlag,
        );
      });
      it(`timeout${failFlag ? ' (--fail)' : ''}`, async () => {
        writeFileSync(dest, 'previous profile');
        // A server that accepts connections and never answers.
        const silent = createServer(() => undefined);
        await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
        const port = (silent.address() as { port: number }).port;
        const r = await runAsync([
          hotpathBin,
          'pgo',
          ...extra,
          '--timeout',
          '500ms',
          '--server',
          `http://127.0.0.1:${port}`,
          'service:shop',
          dest,
        ]);
        silent.close();
        check(r, /no answer from http:\/\/127\.0\.0\.1:\d+ within 500ms: raise --timeout/, failFlag);
      });
    }
    it('usage errors fail even without --fail', () => {
      const r = pgo(server, ['only-one-argument']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /needs at least one QUERY and a DEST/);
    });
  });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Like run, but without blocking this process's event loop (the silent server lives here). */
function runAsync(args: string[]): Promise<ReturnType<typeof run>> {
  return import('node:child_process').then(
    ({ execFile }) =>
      new Promise((resolve) => {
        execFile(process.execPath, args, { env: { ...process.env, HOTPATH_APP_KEY: 'x' } }, (err, stdout, stderr) => {
          resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        });
      }),
  );
}
