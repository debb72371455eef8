// What one saved profile costs on PostgreSQL + versitygw: CPU milliseconds per save in this
// process, in versitygw and in PostgreSQL (read from /proc, so other work on the machine does not
// count), and the S3 requests and SQL statements per save. Throughput on a shared 2-core machine
// swings with the neighbours' load; CPU per save does much less, and decides how many saves per
// second the two cores can hold. Not a test.
//
//   npm run build && node dist/bench/ingest/save-cost.js [--saves 1500] [--concurrency 16]
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '../../src/store/open-store.js';
import { S3Blobs } from '../../src/store/s3-blobs.js';
import type { NewAttachment, NewProfile } from '../../src/store/store.js';
import { fixture } from '../../src/testing/fixtures.js';
import { startPostgres } from '../../src/testing/postgres.js';
import { startVersitygw } from '../../src/testing/versitygw.js';

const { values } = parseArgs({ options: { saves: { type: 'string' }, concurrency: { type: 'string' } } });
const saves = Number(values.saves ?? 1500);
const concurrency = Number(values.concurrency ?? 16);

interface Proc {
  pid: number;
  ppid: number;
  args: string;
  ticks: number;
}

/** Every process with its parent, command line and CPU ticks (user + system). */
function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      out.push({ pid: Number(name), ppid: Number(fields[1]), args, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** CPU ticks of the process whose command line contains `marker` and of all its descendants. */
function treeTicks(marker: string): number {
  const all = processes();
  const roots = all.filter((p) => p.args.includes(marker) && !p.args.includes('save-cost'));
  const inTree = new Set(roots.map((p) => p.pid));
  for (let grown = true; grown; ) {
    grown = false;
    for (const p of all) {
      if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
        inTree.add(p.pid);
        grown = true;
      }
    }
  }
  return all.filter((p) => inTree.has(p.pid)).reduce((sum, p) => sum + p.ticks, 0);
}

const [db, s3] = await Promise.all([startPostgres({ own: true }), startVersitygw({ own: true })]);
const dataDir = await mkdtemp(join(tmpdir(), 'hotpath-save-cost-'));
process.env.AWS_ACCESS_KEY_ID = s3.accessKey;
process.env.AWS_SECRET_ACCESS_KEY = s3.secretKey;
const store = await openStore({ dataDir, indexUrl: db.url, blobsUrl: s3.url });
const pgMarker = `-p ${new URL(db.url).port} `;
const s3Marker = s3.endpoint.replace('http://', '');

// Puts go around the SDK (S3Blobs.putDirect), so they are counted at the Blobs interface.
let s3Requests = 0;
const blobs = store.profiles.blobs;
if (!(blobs instanceof S3Blobs)) throw new Error('expected S3 blobs');
const put = blobs.put.bind(blobs);
blobs.put = (key, bytes) => {
  s3Requests++;
  return put(key, bytes);
};

// The parts of the benchmark's dd-trace-go upload, as the pipeline hands them to the store.
const cpu = readFileSync(fixture('cpu-small-1.pprof'));
const attachments: NewAttachment[] = [
  { name: 'cpu.pprof', bytes: cpu, compression: 'gzip' },
  { name: 'delta-heap.pprof', bytes: readFileSync(fixture('heap.pprof')), compression: 'gzip' },
  { name: 'metrics.json', bytes: Buffer.from('[["go_goroutines", 12]]'), compression: 'none' },
];
// Stand-ins of the PGO and prepared forms the worker builds, of about their sizes.
const pgo = cpu.subarray(0, Math.min(cpu.length, 6000));
const prepared = cpu.subarray(0, Math.min(cpu.length, 8000));
function profile(i: number): NewProfile {
  const now = Date.now();
  return {
    start: now - 60_000,
    end: now,
    receivedAt: now,
    protocol: 'datadog',
    service: `svc-${i % 500}`,
    env: 'prod',
    version: `1.${i % 7}`,
    host: `host-${i % 97}`,
    runtime: 'go',
    pgo: i % 3 === 0,
    cpuCores: 1.5,
    sampleCount: 1000,
    durationNanos: 60e9,
    tags: [
      ['service', `svc-${i % 500}`],
      ['env', 'prod'],
      ['version', `1.${i % 7}`],
      ['host', `host-${i % 97}`],
      ['runtime', 'go'],
      ['pgo', String(i % 3 === 0)],
      ['profiler_version', 'v2.12.0'],
    ],
    metrics: { core_cpu_cores: 1.5 },
    endpointCounts: null,
  };
}

async function run(count: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        await store.profiles.saveProfile(profile(i), attachments, pgo, prepared);
      }
    }),
  );
  return performance.now() - started;
}

await run(Math.min(200, saves));
const before = { node: process.cpuUsage(), pg: treeTicks(pgMarker), s3: treeTicks(s3Marker), requests: s3Requests };
const wallMs = await run(saves);
const node = process.cpuUsage(before.node);
const pgMs = (treeTicks(pgMarker) - before.pg) * 10;
const s3Ms = (treeTicks(s3Marker) - before.s3) * 10;
const nodeMs = (node.user + node.system) / 1000;
const perSave = (ms: number): string => `${(ms / saves).toFixed(2)} ms`;
console.log(`${saves} saves, ${concurrency} at a time, in ${(wallMs / 1000).toFixed(1)} s (${((saves / wallMs) * 1000).toFixed(0)}/s)`);
console.log(
  `CPU per save: hotpath ${perSave(nodeMs)}, versitygw ${perSave(s3Ms)}, PostgreSQL ${perSave(pgMs)}, all ${perSave(nodeMs + s3Ms + pgMs)}`,
);
console.log(`S3 puts per save: ${((s3Requests - before.requests) / saves).toFixed(2)}`);
await store.close();
await Promise.all([db.close(), s3.close()]);
await rm(dataDir, { recursive: true, force: true });
