import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CreatedKeyJson, FlameJson, ProfileJson } from '../src/api/types.js';
import { openPostgres } from '../src/store/pg-store.js';
import { S3Blobs } from '../src/store/s3-blobs.js';
import { ProfileStore } from '../src/store/store.js';
import { parseS3Url } from '../src/store/store-urls.js';
import { ddTraceGoUpload } from '../src/testing/dd-upload.js';
import { startPostgres, type TestPostgres } from '../src/testing/postgres.js';
import { startVersitygw, type Versitygw } from '../src/testing/versitygw.js';
import { run, runOk } from './support/go.js';
import { fixture, hotpathBin, repoRoot } from './support/paths.js';
import { type RunningServer, startServer } from './support/server.js';
import { cacheDir } from './support/workloads.js';

// Two `hotpath serve` replicas share one real PostgreSQL (index, keys, coordination) and one real
// S3 gateway (versitygw): whatever reaches one is served by the other, a crash of one loses
// nothing it acknowledged, and a PostgreSQL restart costs 503s, not data.

const clientsDir = join(repoRoot, 'e2e', 'clients');
const bin = join(cacheDir, 'clients');
const cpu = readFileSync(fixture('cpu-small-1.pprof'));

/** Waits until `check` resolves true, polling; fails after `timeoutMs` with `what`. */
async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Opens the shared store the way a replica does and counts, among the profiles matching `query`
 * that have a CPU profile (a PGO form), those whose prepared form is named and reads back from S3.
 */
async function preparedFormsOf(pg: TestPostgres, s3: Versitygw, query: string): Promise<{ withCpu: number; prepared: number }> {
  const backend = await openPostgres(pg.url);
  const blobs = await S3Blobs.open(parseS3Url(s3.url), { credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey } });
  try {
    const store = new ProfileStore(backend.index, blobs);
    const records = await store.search({ query, from: 0, to: Date.now() + 3_600_000, limit: 1000 });
    let withCpu = 0;
    let prepared = 0;
    for (const r of records) {
      if (r.pgoBlobKey === null) continue;
      withCpu++;
      if (r.preparedBlobKey !== null && (await store.readPreparedOf(r)) !== null) prepared++;
    }
    return { withCpu, prepared };
  } finally {
    await backend.close();
    await blobs.close();
  }
}

describe('two replicas on PostgreSQL and S3', () => {
  let pg: TestPostgres;
  let s3: Versitygw;
  let env: Record<string, string>;
  let storeArgs: string[];
  let r1: RunningServer;
  let r2: RunningServer;
  let appKey: string;
  let apiKey: string;

  const startReplica = (extra: string[] = []): Promise<RunningServer> =>
    startServer([...storeArgs, '--retention-interval', '1s', ...extra], mkdtempSync(join(tmpdir(), 'hotpath-replica-')), { env });

  const get = (server: RunningServer, path: string, key = appKey): Promise<Response> =>
    fetch(`${server.url}${path}`, { headers: { 'DD-APPLICATION-KEY': key }, signal: AbortSignal.timeout(30_000) });

  const search = async (server: RunningServer, query: string): Promise<ProfileJson[]> => {
    const res = await get(server, `/api/v1/profiles?from=now-1h&limit=1000&query=${encodeURIComponent(query)}`);
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { profiles: ProfileJson[] }).profiles;
  };

  const pgoFile = async (server: RunningServer, query: string): Promise<Buffer> => {
    const res = await fetch(`${server.url}/api/v1/pgo`, {
      method: 'POST',
      headers: { 'DD-APPLICATION-KEY': appKey, 'content-type': 'application/json' },
      body: JSON.stringify({ queries: [{ query, from: 'now-1h', limit: 10 }] }),
      signal: AbortSignal.timeout(60_000),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return Buffer.from(await res.arrayBuffer());
  };

  /** Sends one dd-trace-go-shaped upload of a real CPU profile, tagged `seq:N`; resolves with the status (0: no answer). */
  const upload = async (server: RunningServer, seq: number): Promise<number> => {
    const { body, contentType } = ddTraceGoUpload({ cpu, tags: `service:scale-loop,env:ci,seq:${seq}` });
    try {
      const res = await fetch(`${server.url}/profiling/v1/input`, {
        method: 'POST',
        headers: { 'content-type': contentType, 'DD-API-KEY': apiKey },
        body,
        signal: AbortSignal.timeout(30_000),
      });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  };

  before(async () => {
    mkdirSync(bin, { recursive: true });
    runOk('go', ['build', '-o', `${bin}/`, './...'], { cwd: clientsDir });
    [pg, s3] = await Promise.all([startPostgres({ own: true }), startVersitygw()]);
    env = { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey, AWS_REGION: 'us-east-1' };
    storeArgs = ['--index', pg.url, '--blobs', s3.url];
    r1 = await startReplica();
    r2 = await startReplica();
    apiKey = r1.apiKey;
    appKey = r1.appKey;
    assert.ok(apiKey !== '' && appKey !== '', 'the first replica made the first keys');
    assert.equal(r2.apiKey, '', 'the second replica found them and made none');
  });
  after(async () => {
    for (const r of [r1, r2]) await r?.stop();
    await Promise.all([pg?.close(), s3?.close()]);
  });

  it('serves from replica 2 what real clients sent to replica 1: search, flame graph, and the same default.pgo', async () => {
    runOk(join(bin, 'ddtrace'), ['-duration', '4s', '-period', '2s'], {
      env: {
        ...process.env,
        DD_TRACE_AGENT_URL: `http://hotpath:${apiKey}@${r1.url.slice('http://'.length)}`,
        DD_SERVICE: 'scale-dd',
        DD_ENV: 'ci',
        DD_VERSION: '1.0.0',
      },
    });
    runOk(join(bin, 'pyroscope'), ['-server', r1.url, '-app', 'scale-pyro', '-tags', 'env=ci', '-key', apiKey, '-duration', '4s']);
    for (const service of ['scale-dd', 'scale-pyro']) {
      const on1 = await search(r1, `service:${service}`);
      const on2 = await search(r2, `service:${service}`);
      assert.ok(on1.length >= 1, `${service} arrived`);
      assert.deepEqual(
        on2.map((p) => p.id),
        on1.map((p) => p.id),
      );
      const flame = await get(r2, `/api/v1/flamegraph?query=${encodeURIComponent(`service:${service}`)}&from=now-1h`);
      assert.equal(flame.status, 200);
      const tree = (await flame.json()) as FlameJson;
      assert.equal(tree.profiles, on1.length);
      assert.ok(tree.total > 0 && tree.skipped.length === 0, 'the blobs were read from S3 by the other replica');
      const [a, b] = await Promise.all([pgoFile(r1, `service:${service}`), pgoFile(r2, `service:${service}`)]);
      assert.ok(a.length > 0);
      assert.ok(a.equals(b), `default.pgo of ${service} is byte-identical on both replicas`);
      const forms = await preparedFormsOf(pg, s3, `service:${service}`);
      assert.ok(forms.withCpu >= 1, `${service} sent CPU profiles`);
      assert.equal(forms.prepared, forms.withCpu, `every CPU profile of ${service} has its prepared form in S3`);
    }
  });

  it('refuses on replica 2 a key revoked through replica 1', async () => {
    const made = await fetch(`${r1.url}/api/v1/keys`, {
      method: 'POST',
      headers: { 'DD-APPLICATION-KEY': appKey, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'app', name: 'short-lived', scopes: ['profiles_read'] }),
    });
    assert.equal(made.status, 201);
    const { key, secret } = (await made.json()) as CreatedKeyJson;
    assert.equal((await get(r2, '/api/v1/services', secret)).status, 200);
    const revoked = await fetch(`${r1.url}/api/v1/keys/${key.id}`, { method: 'DELETE', headers: { 'DD-APPLICATION-KEY': appKey } });
    assert.equal(revoked.status, 204);
    // Within a second (REVOCATION_DELAY_MS); waited for, not slept.
    await waitFor('replica 2 to refuse the revoked key', async () => (await get(r2, '/api/v1/services', secret)).status === 401, 5_000);
  });

  it('runs retention on one replica at a time', async () => {
    type Run = { startedAt: number; finishedAt: number; replica: number };
    const runs = (): Run[] =>
      [r1, r2].flatMap((r, replica) =>
        r
          .output()
          .split('\n')
          .filter((l) => l.includes('"msg":"retention"'))
          .map((l) => ({ ...(JSON.parse(l) as { startedAt: number; finishedAt: number }), replica })),
      );
    // Both replicas tick every second; together they must not run more often than the interval allows.
    await waitFor('six retention runs', async () => runs().length >= 6, 60_000);
    const sorted = runs().sort((a, b) => a.startedAt - b.startedAt);
    for (let i = 1; i < sorted.length; i++) {
      assert.ok(
        sorted[i].startedAt >= sorted[i - 1].finishedAt,
        `run ${i} started before run ${i - 1} ended: ${JSON.stringify(sorted.slice(i - 1, i + 1))}`,
      );
      assert.ok(
        sorted[i].startedAt - sorted[i - 1].startedAt >= 900,
        `two runs within one interval: ${JSON.stringify(sorted.slice(i - 1, i + 1))}`,
      );
    }
  });

  it('loses nothing it acknowledged when a replica is killed mid-upload, and the killed replica restarts cleanly', async () => {
    const acknowledged: number[] = [];
    let killed = false;
    const statuses: number[] = [];
    const total = 160;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const seq = next++;
        const status = await upload(r1, seq);
        statuses.push(status);
        if (status >= 200 && status < 300) acknowledged.push(seq);
        if (!killed && acknowledged.length >= 40) {
          killed = true;
          await r1.kill();
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.ok(killed && acknowledged.length >= 40);
    assert.ok(
      statuses.every((s) => s === 0 || (s >= 200 && s < 300)),
      `a killed server answers nothing; it never answers an error: ${statuses}`,
    );
    const found = await search(r2, 'service:scale-loop');
    const seqs = new Set(found.map((p) => Number(p.tags.find((t) => t.startsWith('seq:'))?.slice(4))));
    for (const seq of acknowledged) assert.ok(seqs.has(seq), `acknowledged upload ${seq} is found through replica 2`);
    for (const p of found) {
      const res = await get(r2, `/api/v1/profiles/${p.id}/attachments/cpu.pprof`);
      assert.equal(res.status, 200, `profile ${p.id} (seq in the index) has its blob`);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(cpu));
    }
    r1 = await startReplica();
    assert.equal((await get(r1, '/healthz')).status, 200);
    assert.equal((await search(r1, 'service:scale-loop')).length, found.length);
  });

  it('answers 503 while PostgreSQL is down, loses nothing acknowledged, and recovers without a restart', async () => {
    const before = (await search(r2, 'service:scale-loop')).length;
    const acknowledged: number[] = [];
    for (let seq = 1000; seq < 1010; seq++) if ((await upload(r2, seq)) === 200) acknowledged.push(seq);
    assert.equal(acknowledged.length, 10);
    await pg.stop();
    const whileDown = await Promise.all([2000, 2001, 2002].map((seq) => upload(r2, seq)));
    assert.deepEqual(whileDown, [503, 503, 503], 'uploads are refused with 503 while the index is down');
    const searchDown = await get(r1, '/api/v1/profiles?query=service:scale-loop');
    assert.equal(searchDown.status, 503);
    await pg.start();
    let seq = 3000;
    await waitFor('an upload to succeed again', async () => (await upload(r2, seq++)) === 200, 60_000);
    const after = await search(r1, 'service:scale-loop');
    const seqs = new Set(after.map((p) => Number(p.tags.find((t) => t.startsWith('seq:'))?.slice(4))));
    for (const s of acknowledged) assert.ok(seqs.has(s), `upload ${s} acknowledged before the restart is still there`);
    assert.ok(after.length >= before + acknowledged.length + 1);
  });
});

describe('hotpath migrate', () => {
  let pg: TestPostgres;
  let s3: Versitygw;
  before(async () => {
    mkdirSync(bin, { recursive: true });
    runOk('go', ['build', '-o', `${bin}/`, './...'], { cwd: clientsDir });
    [pg, s3] = await Promise.all([startPostgres(), startVersitygw()]);
  });
  after(async () => {
    await Promise.all([pg?.close(), s3?.close()]);
  });

  it('moves an embedded install with real profiles; keys work and the PGO file is byte-identical', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hotpath-migrate-src-'));
    const embedded = await startServer([], dataDir);
    runOk(join(bin, 'ddtrace'), ['-duration', '4s', '-period', '2s'], {
      env: {
        ...process.env,
        DD_TRACE_AGENT_URL: `http://hotpath:${embedded.apiKey}@${embedded.url.slice('http://'.length)}`,
        DD_SERVICE: 'migrated',
        DD_ENV: 'ci',
      },
    });
    const pgoRequest = (server: RunningServer): Promise<Response> =>
      fetch(`${server.url}/api/v1/pgo`, {
        method: 'POST',
        headers: { 'DD-APPLICATION-KEY': embedded.appKey, 'content-type': 'application/json' },
        body: JSON.stringify({ queries: [{ query: 'service:migrated', from: 'now-1h', limit: 10 }] }),
      });
    const beforeRes = await pgoRequest(embedded);
    assert.equal(beforeRes.status, 200);
    const before = Buffer.from(await beforeRes.arrayBuffer());
    const count = (
      (await (
        await fetch(`${embedded.url}/api/v1/profiles?query=service:migrated&from=now-1h`, {
          headers: { 'DD-APPLICATION-KEY': embedded.appKey },
        })
      ).json()) as { total: number }
    ).total;
    assert.ok(count >= 1);
    await embedded.stop();

    const env = { ...process.env, AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey, AWS_REGION: 'us-east-1' };
    const migrate = (): ReturnType<typeof run> =>
      run(process.execPath, [hotpathBin, 'migrate', '--json', '--data', dataDir, '--index', pg.url, '--blobs', s3.url], { env });
    const first = migrate();
    assert.equal(first.status, 0, first.stderr);
    const result = JSON.parse(first.stdout) as { copied: number; keysCopied: number; targetCount: number; blobsVerified: number };
    assert.equal(result.copied, count);
    assert.equal(result.targetCount, count);
    assert.equal(result.keysCopied, 2);
    assert.ok(result.blobsVerified >= count * 2, 'each pack (raw attachments and prepared form) and each PGO form read back');
    assert.match(first.stderr, new RegExp(`${count}/${count} profiles`), 'progress on the terminal');
    const again = migrate();
    assert.equal(again.status, 0, again.stderr);
    assert.equal(
      (JSON.parse(again.stdout) as { copied: number; alreadyThere: number }).alreadyThere,
      count,
      'a second run checks and copies nothing',
    );

    const moved = await startServer(['--index', pg.url, '--blobs', s3.url], mkdtempSync(join(tmpdir(), 'hotpath-migrate-dst-')), {
      env: { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey, AWS_REGION: 'us-east-1' },
    });
    try {
      assert.equal(moved.apiKey, '', 'the migrated keys are there, so no first keys are made');
      const afterRes = await pgoRequest(moved);
      assert.equal(afterRes.status, 200, 'the old application key works on the new store');
      assert.ok(Buffer.from(await afterRes.arrayBuffer()).equals(before), 'the PGO file is byte-identical after the move');
      const forms = await preparedFormsOf(pg, s3, 'service:migrated');
      assert.equal(forms.withCpu, count);
      assert.equal(forms.prepared, count, 'every prepared form was moved to S3 with its profile');
    } finally {
      await moved.stop();
    }
  });
});
