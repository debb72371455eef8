// Ingest benchmark: concurrent dd-trace-go-style uploads to real `hotpath serve` replicas on
// loopback, on the embedded store or on PostgreSQL + versitygw (S3), 1 or more replicas. Prints
// profiles/s, latency percentiles and each server's peak RSS. Not a test.
//
//   npm run bench:ingest -- [--concurrency 16] [--seconds 20] [--warmup 5] [--backend embedded|postgres-s3] [--replicas 1]
//
// With several replicas the load is split evenly, one load generator per replica, as a load
// balancer would; throughput is their sum and p99 the worst of them.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fixture, repoRoot } from '../../e2e/support/paths.js';
import { type RunningServer, startServer } from '../../e2e/support/server.js';
import { ddTraceGoUpload } from '../../src/testing/dd-upload.js';
import { startPostgres, type TestPostgres } from '../../src/testing/postgres.js';
import { startVersitygw, type Versitygw } from '../../src/testing/versitygw.js';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    backend: { type: 'string' },
    replicas: { type: 'string' },
  },
});
const concurrency = Number(values.concurrency ?? 16);
const seconds = Number(values.seconds ?? 20);
const warmup = Number(values.warmup ?? 5);
const backend = values.backend ?? 'embedded';
const replicas = Number(values.replicas ?? 1);
if (backend !== 'embedded' && backend !== 'postgres-s3') throw new Error(`--backend must be embedded or postgres-s3, got ${backend}`);
if (backend === 'embedded' && replicas !== 1) throw new Error('the embedded store serves one replica: use --backend postgres-s3 for more');

/** A dd-trace-go upload built from real profiles written by Go programs. */
function ddUpload(i: number): { body: Buffer; contentType: string } {
  return ddTraceGoUpload({
    boundary: `hotpathbench${i.toString(16).padStart(8, '0')}`,
    cpu: readFileSync(fixture(['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof', 'cpu-json.pprof'][i % 4])),
    heap: readFileSync(fixture('heap.pprof')),
    tags: `service:svc-${i % 500},env:prod,version:1.${i % 7},host:host-${i % 97},runtime:go,pgo:${i % 3 === 0},profiler_version:v2.12.0`,
  });
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

let db: TestPostgres | null = null;
let s3: Versitygw | null = null;
let storeArgs: string[] = [];
let env: Record<string, string> = {};
if (backend === 'postgres-s3') {
  [db, s3] = await Promise.all([startPostgres({ own: true }), startVersitygw()]);
  storeArgs = ['--index', db.url, '--blobs', s3.url];
  env = { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey, AWS_REGION: 'us-east-1' };
}
const servers: RunningServer[] = [];
for (let r = 0; r < replicas; r++) {
  servers.push(
    await startServer(storeArgs, backend === 'embedded' ? undefined : mkdtempSync(join(tmpdir(), 'hotpath-bench-replica-')), { env }),
  );
}
const apiKey = servers[0].apiKey;
const appKey = servers[0].appKey;
const pids = servers.map((s) => Number(/"pid":(\d+)/.exec(s.output())?.[1]));
const upload = ddUpload(0);
console.log(
  `${replicas} hotpath serve replica(s) on ${backend} (${servers.map((s) => s.url).join(', ')}); ${concurrency} concurrent uploaders in all for ${seconds}s after ${warmup}s of warm-up; upload size ~${(upload.body.length / 1024).toFixed(0)} KiB`,
);

// wrk (Debian package `wrk`, written in C) generates the load: a Node client on the same two
// cores would take much of the CPU the servers are measured with.
if (spawnSync('wrk', ['--version']).error !== undefined) throw new Error('install wrk (Debian package wrk) to run this benchmark');
const dir = mkdtempSync(join(tmpdir(), 'hotpath-bench-'));
const bodyFile = join(dir, 'upload.multipart');
writeFileSync(bodyFile, upload.body);
/** Runs wrk against every replica at once for `duration` seconds and resolves their reports. */
const load = (duration: number): Promise<string[]> =>
  Promise.all(
    servers.map(
      (server, r) =>
        new Promise<string>((resolve, reject) => {
          const share = Math.floor(concurrency / replicas) + (r < concurrency % replicas ? 1 : 0);
          execFile(
            'wrk',
            [
              '-t1',
              `-c${share}`,
              `-d${duration}s`,
              '--timeout',
              '10s',
              '--latency',
              '-s',
              join(repoRoot, 'bench', 'ingest', 'post.lua'),
              `${server.url}/profiling/v1/input`,
            ],
            { encoding: 'utf8', env: { ...process.env, BODY_FILE: bodyFile, CONTENT_TYPE: upload.contentType, API_KEY: apiKey } },
            (err, stdout) => (err ? reject(err) : resolve(stdout)),
          );
        }),
    ),
  );
// Steady state is what is measured: the first seconds of a fresh server (code not yet optimized,
// worker threads and connections starting) are a warm-up whose results are dropped.
if (warmup > 0) await load(warmup);
const reports = await load(seconds);
rmSync(dir, { recursive: true, force: true });

/** A wrk latency such as "12.34ms" or "1.02s" in ms. */
function ms(text: string | undefined): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text ?? '');
  if (!m) return Number.NaN;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
}
let ok = 0;
let failures = 0;
let elapsed = 0;
const p50s: number[] = [];
const p99s: number[] = [];
for (const report of reports) {
  const requests = Number(/(\d+) requests in ([\d.]+)s/.exec(report)?.[1] ?? Number.NaN);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(report)?.[1] ?? 0);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(report);
  ok += requests - non2xx;
  failures += non2xx + (errors ? Number(errors[1]) + Number(errors[2]) + Number(errors[3]) + Number(errors[4]) : 0);
  elapsed = Math.max(elapsed, Number(/requests in ([\d.]+)s/.exec(report)?.[1] ?? Number.NaN));
  p50s.push(ms(/^\s+50%\s+(\S+)/m.exec(report)?.[1]));
  p99s.push(ms(/^\s+99%\s+(\S+)/m.exec(report)?.[1]));
}
const res = await fetch(`${servers[replicas - 1].url}/api/v1/profiles?from=now-1h&limit=1&query=env:prod`, {
  headers: { 'DD-APPLICATION-KEY': appKey },
});
const stored = ((await res.json()) as { total: number }).total;
const rss = pids.map((pid) => (Number.isFinite(pid) ? peakRssMb(pid) : Number.NaN));
for (const s of servers) await s.stop();
await Promise.all([db?.close(), s3?.close()]);

for (const [r, report] of reports.entries()) console.log(`--- wrk against replica ${r + 1}\n${report}`);
console.log(`uploads: ${ok} stored (2xx), ${failures} failed; the index counts ${stored} (read through replica ${replicas})`);
console.log(`throughput: ${(ok / elapsed).toFixed(0)} profiles/s`);
console.log(`latency: p50 ${Math.max(...p50s).toFixed(1)} ms, p99 ${Math.max(...p99s).toFixed(1)} ms (worst replica)`);
console.log(`server peak RSS: ${rss.map((m) => `${m.toFixed(0)} MB`).join(', ')}`);
console.log(
  `machine: ${cpus()[0]?.model}, ${cpus().length} cores, node ${process.version}; the load generator and the databases share the machine`,
);
