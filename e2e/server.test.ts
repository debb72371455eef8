import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ProfileJson } from '../src/api/types.js';
import { preprofile, run, runOk } from './support/go.js';
import { fixture, hotpathBin } from './support/paths.js';
import { type RunningServer, startServer } from './support/server.js';

// The server as a user runs it: a separate `hotpath serve` process with a data directory.
const cpu = readFileSync(fixture('cpu-small-1.pprof'));

function upload(server: RunningServer, body: Uint8Array, tags: string, key = server.apiKey): Promise<Response> {
  return fetch(`${server.url}/api/v1/profiles?tags=${encodeURIComponent(tags)}`, {
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${key}` },
  });
}

/** Writes a response body to a temporary file and returns its path (for go tool preprofile). */
async function savedTo(res: Response): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'hotpath-dl-')), 'download.pprof');
  writeFileSync(path, Buffer.from(await res.arrayBuffer()));
  return path;
}

async function count(server: RunningServer, query: string): Promise<number> {
  const res = await fetch(`${server.url}/api/v1/profiles?query=${encodeURIComponent(query)}&from=now-30d&limit=1000`, {
    headers: { 'DD-APPLICATION-KEY': server.appKey },
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { profiles: unknown[] }).profiles.length;
}

describe('hotpath serve', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--max-body-mb', '1', '--max-decompressed-mb', '16']);
  });
  after(async () => {
    await server.stop();
    rmSync(server.dataDir, { recursive: true, force: true });
  });

  // Bad input (a 4xx with a JSON message, nothing stored) is tested in process: src/server/routes/intake.test.ts.

  describe('keys', () => {
    const keysCli = (...args: string[]) => runOk(process.execPath, [hotpathBin, 'keys', ...args, '--data', server.dataDir]).trim();

    it('refuses a missing, wrong or revoked key with 401 and a wrong scope with 403', async () => {
      const read = (key?: string) => fetch(`${server.url}/api/v1/profiles`, { headers: key ? { 'DD-APPLICATION-KEY': key } : {} });
      assert.equal((await read()).status, 401);
      assert.equal((await read('hpapp_wrong')).status, 401);
      const pgoOnly = keysCli('create', '--kind', 'app', '--scopes', 'pgo_read', '--name', 'ci');
      assert.equal((await read(pgoOnly)).status, 403);
      assert.match(((await (await read(pgoOnly)).json()) as { error: string }).error, /lacks the scope profiles_read/);
      const reader = keysCli('create', '--kind', 'app', '--scopes', 'profiles_read');
      assert.equal((await read(reader)).status, 200);
      const id = (JSON.parse(keysCli('list', '--json')) as Array<{ id: string; scopes: string[] }>).find(
        (k) => k.scopes.join() === 'profiles_read',
      )?.id;
      assert.ok(id);
      keysCli('revoke', id);
      assert.equal((await read(reader)).status, 401);
      // An application key cannot send profiles, and an API key cannot read.
      assert.equal((await upload(server, cpu, 'service:x', server.appKey.replace('hpapp', 'hpapp'))).status, 201, 'admin may write');
      assert.equal((await upload(server, cpu, 'service:x', reader)).status, 401);
      assert.equal((await read(server.apiKey)).status, 403);
    });

    it('keeps only hashes of keys on disk', () => {
      const db = readFileSync(`${server.dataDir}/keys.sqlite`);
      assert.equal(db.includes(Buffer.from(server.apiKey)), false);
      assert.equal(db.includes(Buffer.from(server.appKey)), false);
    });
  });

  it('`hotpath upload` sends files with tags; the API returns the record, the attachment as sent and its PGO form', async () => {
    const out = runOk(
      process.execPath,
      [hotpathBin, 'upload', '--server', server.url, '--tags', 'service:cli,env:qa', fixture('cpu-json.pprof')],
      {
        env: { ...process.env, HOTPATH_API_KEY: server.apiKey },
      },
    );
    const id = out.trim().split('\t')[1];
    assert.match(id, /^[0-9a-f-]{36}$/);
    const auth = { 'DD-APPLICATION-KEY': server.appKey };
    const record = (await (await fetch(`${server.url}/api/v1/profiles/${id}`, { headers: auth })).json()) as ProfileJson & {
      cpuCores: number;
    };
    assert.equal(record.service, 'cli');
    assert.equal(record.env, 'qa');
    assert.ok(record.cpuCores > 0);
    const raw = Buffer.from(
      await (await fetch(`${server.url}/api/v1/profiles/${id}/attachments/cpu.pprof`, { headers: auth })).arrayBuffer(),
    );
    assert.deepEqual(raw, readFileSync(fixture('cpu-json.pprof')));
    const pgo = await fetch(`${server.url}/api/v1/profiles/${id}/pgo`, { headers: auth });
    assert.equal(pgo.status, 200);
    assert.equal(preprofile(await savedTo(pgo)), preprofile(fixture('cpu-json.pprof')));
    assert.equal((await fetch(`${server.url}/api/v1/profiles/nope`, { headers: auth })).status, 404);
    const failed = run(process.execPath, [hotpathBin, 'upload', '--server', server.url, fixture('heap.pprof')], {
      env: { ...process.env, HOTPATH_API_KEY: server.apiKey },
    });
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /heap\.pprof: server refused it \(400\): cpu\.pprof: not a CPU profile/);
  });

  it('keeps the data across a restart', async () => {
    await upload(server, cpu, 'service:durable');
    assert.equal(await count(server, 'service:durable'), 1);
    const { dataDir, appKey, apiKey } = server;
    assert.equal(await server.stop({ keepData: true }), 0);
    server = await startServer(['--max-body-mb', '1'], dataDir);
    server.appKey = appKey;
    server.apiKey = apiKey;
    assert.equal(await count(server, 'service:durable'), 1);
  });
});
