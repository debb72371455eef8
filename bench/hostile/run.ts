// Hostile-load benchmark: how long GET /healthz takes while a real `hotpath serve` receives
// decompression bombs, amplification profiles and oversized or unauthenticated uploads on all
// three intake endpoints at once. Prints /healthz latency idle and under attack, how the attack
// was answered, and the server's peak RSS. Not a test.
//
//   npm run bench:hostile -- [--seconds 20] [--attackers 4]
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { repoRoot } from '../../e2e/support/paths.js';
import { type RunningServer, startServer } from '../../e2e/support/server.js';
import { ddTraceGoUpload } from '../../src/testing/dd-upload.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const seconds = flag('seconds', 20);
const attackers = flag('attackers', 4);
const MB = 1024 * 1024;

/** Raw protobuf made of `n` copies of one record: the shape of every amplification input. */
function repeated(record: number[], n: number): Buffer {
  const one = Buffer.from(record);
  const out = Buffer.allocUnsafe(one.length * n);
  for (let i = 0; i < n; i++) one.copy(out, i * one.length);
  return out;
}

function zstd(raw: Buffer): Buffer | null {
  const out = spawnSync('zstd', ['-q', '-c', '-19'], { input: raw, maxBuffer: 64 * MB });
  return out.status === 0 ? out.stdout : null;
}

/** The attack: each entry is one kind of hostile profile, compressed as a client would send it. */
function hostileProfiles(): Array<{ name: string; bytes: Buffer }> {
  const shapes: Array<{ name: string; raw: Buffer }> = [
    { name: 'empty strings 40 MB', raw: repeated([0x32, 0x00], 20 * MB) },
    { name: 'empty mappings 40 MB', raw: repeated([0x1a, 0x00], 20 * MB) },
    { name: 'empty samples 40 MB', raw: Buffer.concat([repeated([0x0a, 0x00], 50_000), repeated([0x12, 0x00], 20 * MB)]) },
    { name: 'zeros 200 MB (over the decompressed limit)', raw: Buffer.alloc(200 * MB) },
  ];
  const out: Array<{ name: string; bytes: Buffer }> = [];
  for (const s of shapes) {
    out.push({ name: `${s.name}, gzip`, bytes: gzipSync(s.raw, { level: 9 }) });
    const z = zstd(s.raw);
    if (z) out.push({ name: `${s.name}, zstd`, bytes: z });
  }
  return out;
}

interface Attack {
  name: string;
  send: (server: RunningServer) => Promise<number>;
}

async function post(url: string, body: Buffer, headers: Record<string, string>): Promise<number> {
  try {
    const res = await fetch(url, { method: 'POST', body, headers });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0; // the server closed the connection (what it may do to a refused oversized body)
  }
}

function attacks(): Attack[] {
  const list: Attack[] = [];
  for (const p of hostileProfiles()) {
    const dd = ddTraceGoUpload({ cpu: p.bytes, tags: 'service:bomb,env:bench' });
    list.push({
      name: `dd-trace-go: ${p.name}`,
      send: (s) => post(`${s.url}/profiling/v1/input`, dd.body, { 'content-type': dd.contentType, 'dd-api-key': s.apiKey }),
    });
    const now = Math.floor(Date.now() / 1000);
    list.push({
      name: `pyroscope: ${p.name}`,
      send: (s) =>
        post(`${s.url}/ingest?name=bomb&from=${now - 10}&until=${now}&spyName=gospy`, p.bytes, {
          'content-type': 'application/octet-stream',
          authorization: `Bearer ${s.apiKey}`,
        }),
    });
    list.push({
      name: `upload: ${p.name}`,
      send: (s) => post(`${s.url}/api/v1/profiles?tags=service:bomb`, p.bytes, { 'dd-api-key': s.apiKey }),
    });
  }
  const oversized = Buffer.alloc(40 * MB, 1);
  list.push({
    name: 'oversized 40 MB body with a key',
    send: (s) => post(`${s.url}/api/v1/profiles`, oversized, { 'dd-api-key': s.apiKey }),
  });
  const big = Buffer.alloc(30 * MB, 1);
  list.push({ name: 'unauthenticated 30 MB body', send: (s) => post(`${s.url}/profiling/v1/input`, big, {}) });
  return list;
}

function probe(server: RunningServer, forSeconds: number): Promise<{ latencies: number[]; errors: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'bench', 'hostile', 'probe.js'), server.url, String(forSeconds)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`probe exited ${code}`))));
  });
}

function summary(latencies: number[]): string {
  const s = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
  return `n=${s.length} p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms, max ${(s[s.length - 1] ?? Number.NaN).toFixed(1)} ms`;
}

function rssMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

const list = attacks();
const server = await startServer();
const pid = Number(/"pid":(\d+)/.exec(server.output())?.[1]);
console.log(`hotpath serve on ${server.url} (pid ${pid}); ${list.length} kinds of hostile request, ${attackers} attackers, ${seconds}s`);

const idle = await probe(server, Math.max(5, Math.round(seconds / 4)));
const rssBefore = rssMb(pid, 'VmRSS');

const statuses = new Map<string, Map<number, number>>();
let sent = 0;
let stop = false;
const attacker = async (first: number): Promise<void> => {
  for (let i = first; !stop; i += attackers) {
    const a = list[i % list.length];
    const status = await a.send(server);
    sent++;
    const byStatus = statuses.get(a.name) ?? new Map<number, number>();
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    statuses.set(a.name, byStatus);
  }
};
const attacking = Promise.all(Array.from({ length: attackers }, (_, w) => attacker(w)));
const underAttack = await probe(server, seconds);
stop = true;
await attacking;
const alive = await fetch(`${server.url}/healthz`).then(
  (r) => r.status,
  () => 0,
);
const peak = rssMb(pid, 'VmHWM');
const after = rssMb(pid, 'VmRSS');
await server.stop();

console.log('\nhostile requests and how they were answered (status: count; 0 = connection closed by the server):');
for (const [name, byStatus] of statuses) {
  console.log(`  ${name}: ${[...byStatus].map(([s, n]) => `${s}: ${n}`).join(', ')}`);
}
const fiveHundreds = [...statuses.values()].reduce(
  (n, m) => n + [...m].filter(([s]) => s >= 500 && s !== 503).reduce((a, [, c]) => a + c, 0),
  0,
);
console.log(`\nhostile requests sent: ${sent}; answered 5xx other than 503: ${fiveHundreds}; server alive after: ${alive === 200}`);
console.log(`/healthz idle:          ${summary(idle.latencies)}, errors ${idle.errors}`);
console.log(`/healthz under attack:  ${summary(underAttack.latencies)}, errors ${underAttack.errors}`);
console.log(`server RSS: ${rssBefore.toFixed(0)} MB before the attack, peak ${peak.toFixed(0)} MB, ${after.toFixed(0)} MB after`);
console.log(`machine: ${cpus()[0]?.model}, ${cpus().length} cores, node ${process.version}; attackers and probe share the machine`);
