// Search and PGO at a million index rows, on SQLite and on PostgreSQL (+ versitygw for blobs):
// a real `hotpath serve` over a bulk-seeded index, the query shapes of the language one after
// another, latency percentiles over HTTP, and the same calls timed on the index directly so the
// table says where the time goes (database vs. the rest of the request). Not a test.
//
//   npm run bench:scale-search -- [--rows 1000000] [--rounds 40] [--backend sqlite,postgres]

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { fixture } from '../../e2e/support/paths.js';
import { type RunningServer, startServer } from '../../e2e/support/server.js';
import { analyzeCpuProfile } from '../../src/ingest/cpu-analysis.js';
import { parseQuery } from '../../src/query/parse.js';
import type { Blobs } from '../../src/store/blobs.js';
import { FsBlobs } from '../../src/store/fs-blobs.js';
import { openPostgres } from '../../src/store/pg-store.js';
import type { ProfileIndex } from '../../src/store/profile-index.js';
import { S3Blobs } from '../../src/store/s3-blobs.js';
import { SqliteProfileIndex } from '../../src/store/sqlite-index.js';
import { parseS3Url } from '../../src/store/store-urls.js';
import { startPostgres } from '../../src/testing/postgres.js';
import { startVersitygw } from '../../src/testing/versitygw.js';
import { seedPostgres, seedSqlite } from './seed.js';

/** The shapes of the query language: exact terms, AND, OR, negation, wildcards, a metric. */
const QUERIES = [
  '',
  'service:svc-7',
  'env:prod',
  'service:svc-7 env:prod',
  'service:svc-7*',
  'host:*-17',
  'service:(svc-1 OR svc-2) OR host:host-5',
  '-env:prod',
  'service:svc-7 -env:prod',
  'team:team-3 version:v4',
  '@metrics.core_cpu_cores:>9.5',
];
const PGO_QUERY = 'service:svc-7 env:prod';

const { values } = parseArgs({ options: { rows: { type: 'string' }, rounds: { type: 'string' }, backend: { type: 'string' } } });
const rows = Number(values.rows ?? 1_000_000);
const rounds = Number(values.rounds ?? 40);
const backends = (values.backend ?? 'sqlite,postgres').split(',');
const DAY = 24 * 60 * 60 * 1000;
const newest = Date.now() - 60_000;
// Six days of profiles: inside raw retention (7 days), so a run of retention changes nothing.
const step = (6 * DAY) / rows;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function timed(n: number, f: () => Promise<unknown>): Promise<number[]> {
  await f();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await f();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

interface Setup {
  server: RunningServer;
  index: ProfileIndex;
  close: () => Promise<void>;
  label: string;
}

const raw = readFileSync(fixture('cpu-small-1.pprof'));
// What intake stores as the PGO form of that profile.
const pgoForm = analyzeCpuProfile(raw, 64 * 1024 * 1024).pgoBytes;
const blobKeys = { rawKey: 'bench/seed/raw-0-cpu.pprof', rawSize: raw.length, pgoKey: 'bench/seed/pgo' };

async function putBlobs(blobs: Blobs): Promise<void> {
  await blobs.put(blobKeys.rawKey, raw);
  await blobs.put(blobKeys.pgoKey, pgoForm);
}

async function sqliteSetup(): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-bench-scale-'));
  await new SqliteProfileIndex(join(dir, 'index.sqlite')).close();
  const blobs = await FsBlobs.open(join(dir, 'blobs'));
  await putBlobs(blobs);
  const t = Date.now();
  seedSqlite(join(dir, 'index.sqlite'), rows, newest, step, blobKeys);
  console.log(`SQLite: ${rows} rows seeded in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  const server = await startServer([], dir);
  const index = new SqliteProfileIndex(join(dir, 'index.sqlite'));
  return {
    server,
    index,
    label: 'SQLite + files',
    close: async () => {
      await index.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresSetup(): Promise<Setup> {
  const [db, s3] = await Promise.all([startPostgres({ own: true }), startVersitygw()]);
  const env = { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey, AWS_REGION: 'us-east-1' };
  Object.assign(process.env, env);
  const backend = await openPostgres(db.url);
  const blobs = await S3Blobs.open(parseS3Url(s3.url));
  await putBlobs(blobs);
  await blobs.close();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const t = Date.now();
  await seedPostgres(client, rows, newest, step, blobKeys);
  await client.end();
  console.log(`PostgreSQL: ${rows} rows seeded in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-bench-scale-pg-'));
  const server = await startServer(['--index', db.url, '--blobs', s3.url], dir, { env });
  return {
    server,
    index: backend.index,
    label: 'PostgreSQL + versitygw',
    close: async () => {
      await server.stop();
      await backend.close();
      await Promise.all([db.close(), s3.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function measure(setup: Setup): Promise<void> {
  const { server, index } = setup;
  // The seeded keys are not the server's; make an admin key through the server's own first keys.
  const headers = { 'DD-APPLICATION-KEY': server.appKey };
  const window = { from: Date.now() - 3 * DAY, to: Date.now() };
  console.log(
    `\n### ${setup.label}: ${rows} rows, newest 72 h = ~${Math.round((rows * 3) / 6)} in the window; ${rounds} rounds after 1 warm-up\n`,
  );
  console.log('| query | matches | HTTP p50 | HTTP p99 | index p50 | index p99 |');
  console.log('| ----- | ------: | -------: | -------: | --------: | --------: |');
  for (const query of QUERIES) {
    const url = `${server.url}/api/v1/profiles?from=now-72h&limit=50&query=${encodeURIComponent(query)}`;
    let total = 0;
    const http = await timed(rounds, async () => {
      const res = await fetch(url, { headers });
      if (res.status !== 200) throw new Error(`${query}: ${res.status} ${await res.text()}`);
      total = ((await res.json()) as { total: number }).total;
    });
    const tree = parseQuery(query);
    const direct = await timed(rounds, () =>
      Promise.all([index.search({ query: tree, ...window, limit: 50, sort: '-start' }), index.countMatching({ query: tree, ...window })]),
    );
    console.log(
      `| \`${query || '(all)'}\` | ${total} | ${percentile(http, 50).toFixed(1)} ms | ${percentile(http, 99).toFixed(1)} ms | ${percentile(direct, 50).toFixed(1)} ms | ${percentile(direct, 99).toFixed(1)} ms |`,
    );
  }
  for (const limit of [5, 50]) {
    const body = JSON.stringify({ queries: [{ query: PGO_QUERY, from: 'now-72h', limit }] });
    const times = await timed(rounds, async () => {
      const res = await fetch(`${server.url}/api/v1/pgo`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body,
      });
      if (res.status !== 200) throw new Error(`pgo: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    });
    const select = await timed(rounds, () => index.search({ query: parseQuery(PGO_QUERY), ...window, limit, sort: '-cpu' }));
    console.log(
      `| POST /api/v1/pgo \`${PGO_QUERY}\` limit ${limit} | ${limit} profiles | ${percentile(times, 50).toFixed(1)} ms | ${percentile(times, 99).toFixed(1)} ms | ${percentile(select, 50).toFixed(1)} ms (selection) | ${percentile(select, 99).toFixed(1)} ms |`,
    );
  }
}

console.log(`bench/scale search: ${cpus()[0]?.model}, ${availableParallelism()} CPUs, Node ${process.version}`);
for (const backend of backends) {
  const setup = backend === 'sqlite' ? await sqliteSetup() : await postgresSetup();
  try {
    await measure(setup);
  } finally {
    await setup.close();
  }
}
