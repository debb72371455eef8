// Benchmark of the merged flame graph and diff views (GET /api/v1/flamegraph, /api/v1/diff) on a
// real `hotpath serve` (embedded store) holding real Go CPU profiles, prepared path against the
// raw path (HOTPATH_FLAME_RAW=1: every raw profile inflated and decoded per view). Not a test.
//
//   npm run bench:flame -- [--rounds 5] [--raw-rounds 3] [--large 100] [--only <case name part>] [--reupload]
//
// Inputs: 10 distinct 30-s cpuburn recordings without labels and 10 with -labels (cached under
// .cache/profiles), uploaded 1,000 and 9,000 times with distinct host tags and times 30 s apart;
// the five large bench/ui profiles (cpuburn -variety 64 -rate 1000 -labels, ~1.5 MB) uploaded
// `large` times as bench/ui's aggregate. The populated data directory is kept under
// .cache/bench-flame and reused while its spec and src/ingest are unchanged (--reupload forces).
//
// Times are the request's wall time on the client (loopback, whole JSON body read): cold = the
// first request after a server restart; warm = the per-profile cache filled but a new answer (a
// different maxNodes); repeated = the same request again (answer cache); raw = a server with
// HOTPATH_FLAME_RAW=1.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../../e2e/support/paths.js';
import { type RunningServer, startServer } from '../../e2e/support/server.js';
import { cacheDir, largeProfile } from '../../e2e/support/workloads.js';
import { thirtySecondProfile } from './fixtures.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string' },
    'raw-rounds': { type: 'string' },
    only: { type: 'string' },
    large: { type: 'string' },
    reupload: { type: 'boolean' },
  },
});
const rounds = Number(values.rounds ?? 5);
const rawRoundsWanted = Number(values['raw-rounds'] ?? 3);
const largeCount = Number(values.large ?? 100);
const DISTINCT = 10;
const PLAIN_UPLOADS = 1000;
const LABELLED_UPLOADS = 9000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Milliseconds, or a dash for a figure not measured (the raw path with --raw-rounds 0). */
const ms = (x: number) => (Number.isNaN(x) ? '—' : `${x.toFixed(0)} ms`);
const ratio = (raw: number, warm: number) => (Number.isNaN(raw) ? '—' : `${(raw / warm).toFixed(1)}×`);

console.log('recording or reusing the inputs (cpuburn)...');
const plain = Array.from({ length: DISTINCT }, (_, i) => thirtySecondProfile(i + 1, false));
const labelled = Array.from({ length: DISTINCT }, (_, i) => thirtySecondProfile(i + 1, true));
const large = [1, 2, 3, 4, 5].map((seed) => largeProfile({ seed, seconds: 30 }));
const avgKb = (paths: string[]) => (paths.reduce((s, p) => s + statSync(p).size, 0) / paths.length / 1024).toFixed(0);
console.log(
  `  ${DISTINCT} label-free, mean ${avgKb(plain)} KB; ${DISTINCT} labelled, mean ${avgKb(labelled)} KB; 5 large, mean ${avgKb(large)} KB`,
);

const ingestTree = execFileSync('git', ['rev-parse', 'HEAD:src/ingest'], { cwd: repoRoot }).toString().trim();
const spec = JSON.stringify({ DISTINCT, PLAIN_UPLOADS, LABELLED_UPLOADS, largeCount, ingestTree, version: 1 });
const dataDir = join(cacheDir, 'bench-flame', 'data');
const specFile = join(cacheDir, 'bench-flame', 'spec.json');
const reuse = !values.reupload && existsSync(specFile) && readFileSync(specFile, 'utf8') === spec;

let server: RunningServer;
const headers = () => ({ authorization: `Bearer ${server.appKey}` });

if (!reuse) {
  rmSync(join(cacheDir, 'bench-flame'), { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  server = await startServer(['--allow-anonymous-read'], dataDir);
  const now = Date.now();
  const bodies = new Map<string, Buffer>();
  const body = (path: string) => bodies.get(path) ?? (bodies.set(path, readFileSync(path)).get(path) as Buffer);
  const jobs: Array<{ path: string; tags: string; end: number }> = [];
  for (let i = 0; i < PLAIN_UPLOADS; i++) {
    jobs.push({ path: plain[i % DISTINCT], tags: `service:plain,env:bench,host:plain-${i}`, end: now - (PLAIN_UPLOADS - i) * 30_000 });
  }
  for (let i = 0; i < LABELLED_UPLOADS; i++) {
    jobs.push({
      path: labelled[i % DISTINCT],
      tags: `service:labels,env:bench,host:labels-${i}`,
      end: now - (LABELLED_UPLOADS - i) * 30_000,
    });
  }
  for (let i = 0; i < largeCount; i++) {
    jobs.push({ path: large[i % large.length], tags: `service:fleet,env:fleet,host:host-${i}`, end: now - (largeCount - i) * 30_000 });
  }
  const started = performance.now();
  let next = 0;
  const uploader = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const url = `${server.url}/api/v1/profiles?tags=${encodeURIComponent(job.tags)}&start=${job.end - 30_000}&end=${job.end}`;
      const res = await fetch(url, { method: 'POST', body: body(job.path), headers: { authorization: `Bearer ${server.apiKey}` } });
      if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      if (next % 1000 === 0) console.log(`  uploaded ${next} of ${jobs.length}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, uploader));
  console.log(`stored ${jobs.length} profiles in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  await server.stop({ keepData: true });
  writeFileSync(specFile, spec);
} else {
  console.log(`reusing the stored profiles in ${dataDir}`);
}

const WINDOW = 'from=now-30d&to=now';
interface Case {
  name: string;
  path: (maxNodes: number) => string;
}
const flame = (query: string, limit: number) => (maxNodes: number) =>
  `/api/v1/flamegraph?query=${encodeURIComponent(query)}&limit=${limit}&maxNodes=${maxNodes}&${WINDOW}`;
const cases: Case[] = [
  { name: '1,000 label-free 30-s profiles', path: flame('service:plain', 1000) },
  { name: '1,000 labelled 30-s profiles', path: flame('service:labels', 1000) },
  { name: `bench/ui aggregate (${largeCount} × ~1.5 MB)`, path: flame('service:fleet', largeCount) },
  {
    name: 'diff, 100 label-free vs 100 labelled',
    path: (maxNodes: number) => `/api/v1/diff?before=service%3Aplain&after=service%3Alabels&limit=100&maxNodes=${maxNodes}&${WINDOW}`,
  },
  { name: '10,000 30-s profiles (both sets)', path: flame('env:bench', 10_000) },
].filter((c) => values.only === undefined || c.name.includes(values.only));

/** GETs `path` with node:http (no client-side timeout: a cold view of 10,000 profiles on a busy machine takes minutes). */
function get(path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { headers: headers() }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Times one GET (whole body read), returning ms and the parsed answer's size facts. */
async function timed(path: string): Promise<{ ms: number; profiles: string; nodes: number }> {
  const t0 = performance.now();
  const res = await get(path);
  const elapsed = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text.slice(0, 300)}`);
  const body = JSON.parse(res.text) as { profiles?: number; nodes: number; before?: { profiles: number }; after?: { profiles: number } };
  const profiles = body.profiles !== undefined ? String(body.profiles) : `${body.before?.profiles} + ${body.after?.profiles}`;
  return { ms: elapsed, profiles, nodes: body.nodes };
}

/** Stops the running server (a failed request must not leave it behind), then fails. */
async function stopAndThrow(err: unknown): Promise<never> {
  await server.stop({ keepData: true });
  throw err;
}

const rssMb = () => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
};

interface Row {
  name: string;
  profiles: string;
  nodes: number;
  cold: number;
  warm: number;
  repeated: number;
  raw: number;
  rss: number;
}
const rows: Row[] = [];
console.log(
  `load average before: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; ${cpus().length} cores`,
);
for (const c of cases) {
  server = await startServer(['--allow-anonymous-read'], dataDir);
  const cold = await timed(c.path(50_000)).catch(stopAndThrow);
  const warm: number[] = [];
  for (let r = 0; r < rounds; r++) warm.push((await timed(c.path(49_999 - r)).catch(stopAndThrow)).ms);
  const repeated: number[] = [];
  for (let r = 0; r < rounds; r++) repeated.push((await timed(c.path(50_000)).catch(stopAndThrow)).ms);
  const rss = rssMb();
  await server.stop({ keepData: true });
  const raw: number[] = [];
  const rawRounds = c.name.startsWith('10,000') ? Math.min(1, rawRoundsWanted) : rawRoundsWanted;
  if (rawRounds > 0) {
    server = await startServer(['--allow-anonymous-read'], dataDir, { env: { HOTPATH_FLAME_RAW: '1' } });
    for (let r = 0; r < rawRounds; r++) raw.push((await timed(c.path(50_000)).catch(stopAndThrow)).ms);
    await server.stop({ keepData: true });
  } else raw.push(Number.NaN);
  const row = {
    name: c.name,
    profiles: cold.profiles,
    nodes: cold.nodes,
    cold: cold.ms,
    warm: median(warm),
    repeated: median(repeated),
    raw: median(raw),
    rss,
  };
  rows.push(row);
  console.log(
    `${row.name}: cold ${ms(row.cold)}, warm ${ms(row.warm)}, repeated ${ms(row.repeated)}, raw ${ms(row.raw)} (${ratio(row.raw, row.warm)} warm), RSS ${row.rss.toFixed(0)} MB`,
  );
}
console.log(
  `load average after: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log('');
console.log('| view | profiles merged | nodes | cold | warm | repeated | raw path | raw ÷ warm | server RSS |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(
    `| ${r.name} | ${r.profiles} | ${r.nodes.toLocaleString('en')} | ${ms(r.cold)} | ${ms(r.warm)} | ${ms(r.repeated)} | ${ms(r.raw)} | ${ratio(r.raw, r.warm)} | ${r.rss.toFixed(0)} MB |`,
  );
}
