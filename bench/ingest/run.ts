// Ingest benchmark: concurrent dd-trace-go-style uploads to a real `hotpath serve` on loopback.
// Prints profiles/s, latency percentiles and the server's peak RSS. Not a test.
//
//   npm run bench:ingest -- [--concurrency 16] [--seconds 20]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, repoRoot } from '../../e2e/support/paths.js';
import { startServer } from '../../e2e/support/server.js';
import { ddTraceGoUpload } from '../../src/testing/dd-upload.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const concurrency = flag('concurrency', 16);
const seconds = flag('seconds', 20);

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

const server = await startServer();
const pid = Number(/"pid":(\d+)/.exec(server.output())?.[1]);
const uploads = Array.from({ length: 64 }, (_, i) => ddUpload(i));
const avgBytes = uploads.reduce((a, u) => a + u.body.length, 0) / uploads.length;
console.log(
  `hotpath serve on ${server.url} (pid ${pid}); ${concurrency} concurrent uploaders for ${seconds}s; upload size ~${(avgBytes / 1024).toFixed(0)} KiB`,
);

// wrk (Debian package `wrk`, written in C) generates the load when installed: a Node client on
// the same two cores would take much of the CPU the server is being measured with.
const wrk = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
const latencies: number[] = [];
let failures = 0;
let sent = 0;
let elapsed = 0;
let wrkReport = '';
if (wrk.error === undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-bench-'));
  const bodyFile = join(dir, 'upload.multipart');
  writeFileSync(bodyFile, uploads[0].body);
  const out = spawnSync(
    'wrk',
    [
      '-t1',
      `-c${concurrency}`,
      `-d${seconds}s`,
      '--latency',
      '-s',
      join(repoRoot, 'bench', 'ingest', 'post.lua'),
      `${server.url}/profiling/v1/input`,
    ],
    { encoding: 'utf8', env: { ...process.env, BODY_FILE: bodyFile, CONTENT_TYPE: uploads[0].contentType, API_KEY: server.apiKey } },
  );
  rmSync(dir, { recursive: true, force: true });
  wrkReport = out.stdout;
  const requests = Number(/(\d+) requests in ([\d.]+)s/.exec(out.stdout)?.[1] ?? Number.NaN);
  elapsed = Number(/requests in ([\d.]+)s/.exec(out.stdout)?.[1] ?? Number.NaN);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out.stdout)?.[1] ?? 0);
  sent = requests;
  failures = non2xx;
} else {
  const deadline = performance.now() + seconds * 1000;
  const uploader = async (worker: number): Promise<void> => {
    for (let n = worker; performance.now() < deadline; n += concurrency) {
      const u = uploads[n % uploads.length];
      const t0 = performance.now();
      const res = await fetch(`${server.url}/profiling/v1/input`, {
        method: 'POST',
        body: u.body,
        headers: { 'content-type': u.contentType, 'dd-api-key': server.apiKey },
      });
      await res.arrayBuffer();
      sent++;
      if (res.status !== 200) failures++;
      else latencies.push(performance.now() - t0);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => uploader(w)));
  elapsed = (performance.now() - started) / 1000;
}
const rss = Number.isFinite(pid) ? peakRssMb(pid) : Number.NaN;
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
const stored = (
  (await (
    await fetch(`${server.url}/api/v1/profiles?from=now-1h&limit=1000&query=env:prod`, { headers: { 'DD-APPLICATION-KEY': server.appKey } })
  ).json()) as {
    profiles: unknown[];
  }
).profiles.length;
await server.stop();

if (wrkReport) {
  console.log(`load generator: wrk, ${concurrency} connections, the same upload repeated\n${wrkReport}`);
  console.log(`uploads: ${sent} sent, ${failures} not 200; API lists ${stored >= 1000 ? '1000+' : stored}`);
  console.log(`throughput: ${((sent - failures) / elapsed).toFixed(0)} profiles/s`);
} else {
  console.log('load generator: Node fetch (install wrk for a lighter one)');
  console.log(
    `uploads: ${sent} sent, ${latencies.length} stored (200), ${failures} failed; API lists ${stored >= 1000 ? '1000+' : stored}`,
  );
  console.log(`throughput: ${(latencies.length / elapsed).toFixed(0)} profiles/s`);
  console.log(`latency: p50 ${pct(50).toFixed(1)} ms, p90 ${pct(90).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms`);
}
console.log(`server peak RSS: ${rss.toFixed(0)} MB`);
console.log(`machine: ${cpus()[0]?.model}, ${cpus().length} cores, node ${process.version}; the load generator shares the machine`);
