// PGO endpoint benchmark: latency of POST /api/v1/pgo on a server holding 10,000 profiles,
// selecting 5, against `pprof -proto` merging the same 5 raw profiles (whole process).
//
//   npm run bench:pgo -- [--profiles 10000] [--rounds 20]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pprofBinary } from '../../e2e/support/go.js';
import { fixture } from '../../e2e/support/paths.js';
import { startServer } from '../../e2e/support/server.js';
import { ingestProfile } from '../../src/ingest/pipeline.js';
import { openSqliteStore } from '../../src/store/store.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const total = flag('profiles', 10_000);
const rounds = flag('rounds', 20);
const SERVICES = 200;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = mkdtempSync(join(tmpdir(), 'hotpath-bench-pgo-'));
const raws = ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof', 'cpu-json.pprof', 'cpu-sort.pprof'].map((f) =>
  readFileSync(fixture(f)),
);

// Fill the store through the real ingest pipeline, 32 at a time.
const store = await openSqliteStore(join(dir, 'data'));
const t0 = performance.now();
let next = 0;
const now = Date.now();
await Promise.all(
  Array.from({ length: 32 }, async () => {
    for (let i = next++; i < total; i = next++) {
      const end = now - (i % 3600) * 60_000;
      await ingestProfile(
        store,
        {
          protocol: 'upload',
          start: end - 60_000,
          end,
          tags: [
            ['service', `svc-${i % SERVICES}`],
            ['env', 'prod'],
            ['runtime', 'go'],
            ['version', `1.${i % 5}`],
          ],
          attachments: [{ name: 'cpu.pprof', bytes: raws[i % raws.length] }],
          cpuAttachment: 'cpu.pprof',
          endpointCounts: null,
        },
        { maxDecompressedBytes: 1 << 28 },
      );
      if (i % 1000 === 999) process.stdout.write(`  stored ${i + 1}/${total}\n`);
    }
  }),
);
await store.close();
console.log(`stored ${total} profiles (${SERVICES} services) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

// The data directory has no keys yet, so the server creates and prints them on this start.
const server = await startServer([], join(dir, 'data'));
const query = { queries: [{ query: 'service:svc-7 env:prod', from: 'now-72h', limit: 5 }] };
const post = async () => {
  const t = performance.now();
  const res = await fetch(`${server.url}/api/v1/pgo`, {
    method: 'POST',
    body: JSON.stringify(query),
    headers: { 'content-type': 'application/json', 'DD-APPLICATION-KEY': server.appKey },
  });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`POST /api/v1/pgo answered ${res.status}: ${body.toString()}`);
  return { ms: performance.now() - t, ids: (res.headers.get('x-hotpath-profile-ids') ?? '').split(','), bytes: body.length };
};
const warm = await post();
const ours: number[] = [];
for (let r = 0; r < rounds; r++) ours.push((await post()).ms);

// The same 5 raw profiles, as received, merged by pprof.
const files: string[] = [];
for (const id of warm.ids) {
  const res = await fetch(`${server.url}/api/v1/profiles/${id}/attachments/cpu.pprof`, {
    headers: { 'DD-APPLICATION-KEY': server.appKey },
  });
  const path = join(dir, `${id}.pprof`);
  writeFileSync(path, Buffer.from(await res.arrayBuffer()));
  files.push(path);
}
await server.stop();
const theirs: number[] = [];
for (let r = 0; r < Math.max(5, Math.floor(rounds / 2)); r++) {
  const t = performance.now();
  const out = spawnSync(pprofBinary, ['-proto', '-symbolize=none', '-output', join(dir, 'merged.pprof'), ...files], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(out.stderr);
  theirs.push(performance.now() - t);
}
rmSync(dir, { recursive: true, force: true });

console.log(`POST /api/v1/pgo, ${warm.ids.length} of ${total} profiles selected, default.pgo ${warm.bytes} bytes:`);
console.log(`  hotpath (HTTP round trip, ${rounds} rounds): median ${median(ours).toFixed(1)} ms, min ${Math.min(...ours).toFixed(1)} ms`);
console.log(`  pprof -proto -symbolize=none over the same raw profiles (whole process): median ${median(theirs).toFixed(1)} ms`);
console.log(`  ratio pprof/hotpath: ${(median(theirs) / median(ours)).toFixed(1)}×`);
console.log(`machine: ${cpus()[0]?.model}, ${cpus().length} cores, node ${process.version}`);
