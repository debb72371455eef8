// PGO impact, paired: the e2e Go HTTP service built without PGO and with hotpath's default.pgo,
// both running at once, with the load switching between them in short slices (about a second
// each, ABBA order so a linear drift cancels). Each slice measures the active build's CPU per
// request (its utime + stime from /proc over the requests wrk completed); the effect is the mean
// of the paired differences of adjacent slices, with a percentile bootstrap interval. Slow drift
// (a neighbour's job starting, thermal or frequency changes) moves both halves of a pair alike, so
// it cancels instead of widening the interval as it does between rounds of several seconds.
// Needs wrk. Not a test: a run takes several minutes.
//
//   npm run build && node dist/bench/pgo-impact/paired.js [--mode variety] [--collect 60] [--period 15]
//                                                         [--pairs 200] [--slice 1]
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOk } from '../../e2e/support/go.js';
import { hotpathBin } from '../../e2e/support/paths.js';
import { copyPgoService } from '../../e2e/support/pgoservice.js';
import { type RunningServer, startServer } from '../../e2e/support/server.js';
import { bootstrapMeanInterval } from '../../src/impact/bootstrap.js';
import { estimateInterval, meanEstimate } from '../../src/impact/estimate.js';
import { welchDifference } from '../../src/impact/welch.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const modeIndex = process.argv.indexOf('--mode');
const mode = modeIndex > 0 ? process.argv[modeIndex + 1] : 'variety';
const collectSeconds = flag('collect', 60);
const periodSeconds = flag('period', 15);
const pairs = flag('pairs', 200);
const sliceSeconds = flag('slice', 1);
const SERVICE = 'pgo-impact-paired';
/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

if (spawnSync('wrk', ['--version']).error) {
  console.error('wrk is needed as the load generator: apt-get install wrk');
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'hotpath-paired-'));
const moduleDir = join(work, 'pgoservice');
mkdirSync(moduleDir);
copyPgoService(moduleDir);

interface Service {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
}

async function startService(binary: string, seconds: number, env: NodeJS.ProcessEnv, profile: boolean): Promise<Service> {
  const child = spawn(binary, ['-duration', `${seconds}s`, '-period', `${periodSeconds}s`, `-profile=${profile}`, '-mode', mode], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearInterval(timer);
        resolve(m[1]);
      }
    }, 10);
    void exited.then(() => {
      clearInterval(timer);
      reject(new Error(`${binary} exited before listening: ${out}`));
    });
  });
  return { child, url, exited };
}

/** utime + stime of a process in seconds, from /proc (resolution 1/CLK_TCK). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** One slice: wrk drives `s` for `sliceSeconds`; returns its CPU seconds per request. */
function slice(s: Service): number {
  const pid = s.child.pid as number;
  const before = cpuSeconds(pid);
  const wrk = spawnSync('wrk', ['-t1', '-c4', `-d${sliceSeconds}s`, `${s.url}/catalog?n=400`], { encoding: 'utf8' });
  const after = cpuSeconds(pid);
  const m = /(\d+) requests in/.exec(wrk.stdout);
  if (!m || Number(m[1]) === 0) throw new Error(`wrk served no requests: ${wrk.stdout}${wrk.stderr}`);
  return (after - before) / Number(m[1]);
}

// 1. Profiles of the service without PGO, through hotpath serve; hotpath's default.pgo from them.
console.log(`collecting ${collectSeconds}s of profiles from the service under load...`);
runOk('go', ['build', '-pgo=off', '-o', join(work, 'svc-plain'), '.'], { cwd: moduleDir });
const server: RunningServer = await startServer();
const collector = await startService(
  join(work, 'svc-plain'),
  collectSeconds,
  {
    ...process.env,
    DD_TRACE_AGENT_URL: `http://hotpath:${server.apiKey}@${server.url.slice('http://'.length)}`,
    DD_SERVICE: SERVICE,
    DD_ENV: 'bench',
  },
  true,
);
spawnSync('wrk', ['-t1', '-c4', `-d${Math.max(1, collectSeconds - 1)}s`, `${collector.url}/catalog?n=400`], { stdio: 'ignore' });
await collector.exited;
const pgo = join(work, 'hotpath.pgo');
runOk(process.execPath, [hotpathBin, 'pgo', '--fail', '--server', server.url, `service:${SERVICE}`, pgo], {
  env: { ...process.env, HOTPATH_APP_KEY: server.appKey },
});
await server.stop();
runOk('go', ['build', `-pgo=${pgo}`, '-o', join(work, 'svc-pgo'), '.'], { cwd: moduleDir });

// 2. Both builds at once; the load alternates between them, ABBA.
const runFor = Math.ceil(pairs * 2 * (sliceSeconds + 0.5) + 60);
const plain = await startService(join(work, 'svc-plain'), runFor, process.env, false);
const pgoSvc = await startService(join(work, 'svc-pgo'), runFor, process.env, false);
// Warm both (JIT-free, but caches, page faults and the first GC cycles).
slice(plain);
slice(pgoSvc);
const a: number[] = [];
const b: number[] = [];
const differences: number[] = [];
for (let i = 0; i < pairs; i++) {
  let x: number;
  let y: number;
  if (i % 2 === 0) {
    x = slice(plain);
    y = slice(pgoSvc);
  } else {
    y = slice(pgoSvc);
    x = slice(plain);
  }
  a.push(x);
  b.push(y);
  differences.push(y - x);
}
plain.child.kill();
pgoSvc.child.kill();
await Promise.all([plain.exited, pgoSvc.exited]);
rmSync(work, { recursive: true, force: true });

// 3. The effect from paired differences, and what an unpaired design would have said.
const us = (s: number) => (s * 1e6).toFixed(1);
const baseline = meanEstimate(a);
const paired = bootstrapMeanInterval(differences, { seed: 1 });
const rel = { value: paired.value / baseline.value, low: paired.low / baseline.value, high: paired.high / baseline.value };
const half = (rel.high - rel.low) / 2;
const needed = Math.ceil(pairs * (half / 0.005) ** 2);
const unpaired = welchDifference(baseline, meanEstimate(b));
const pct = (f: number) => `${f >= 0 ? '+' : ''}${(f * 100).toFixed(2)}%`;
const ia = estimateInterval(baseline);
const ib = estimateInterval(meanEstimate(b));
console.log(`\n${pairs} pairs of ${sliceSeconds}s slices (ABBA), wrk -c4, mode ${mode}; CPU per request from /proc utime+stime:`);
console.log(
  `  no PGO       ${us(ia.value)} ± ${us((ia.high - ia.low) / 2)} µs (slices ranged ${us(Math.min(...a))}–${us(Math.max(...a))})`,
);
console.log(
  `  PGO hotpath  ${us(ib.value)} ± ${us((ib.high - ib.low) / 2)} µs (slices ranged ${us(Math.min(...b))}–${us(Math.max(...b))})`,
);
console.log(`  paired effect ${pct(rel.value)} [${pct(rel.low)}, ${pct(rel.high)}] (bootstrap 95%, ${us(paired.value)} µs per request)`);
console.log(
  `  unpaired Welch on the same slices: ${pct(unpaired.value / baseline.value)} [${pct(unpaired.low / baseline.value)}, ${pct(unpaired.high / baseline.value)}]`,
);
console.log(`  pairs needed for ±0.5%: ${needed} (at ${pairs} pairs: ±${(half * 100).toFixed(2)}%)`);
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`  load average at the end: ${load}`);
