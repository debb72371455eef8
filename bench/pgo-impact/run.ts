// PGO impact: the e2e Go HTTP service built three ways (no PGO; PGO from hotpath; PGO from the
// raw untrimmed merge of the same profiles), run under the same load in interleaved rounds.
// Reports CPU time per request with 95% confidence intervals, profile sizes and build times.
// Needs wrk (Debian package). Not a test: a run takes several minutes.
//
//   npm run bench:pgo-impact -- [--mode variety] [--collect 60] [--period 15] [--rounds 6] [--seconds 8]
//                                [--build-rounds 3] [--preprofile-rounds 20]
//
// --mode variety (the default) runs every request through a chain of 16-47 generated calls with
// dd-trace-go's span labels, as production services do; --mode catalog is the small service of
// the first runs, with a handful of stacks.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pprofBinary, preprofile, runOk } from '../../e2e/support/go.js';
import { hotpathBin } from '../../e2e/support/paths.js';
import { copyPgoService } from '../../e2e/support/pgoservice.js';
import { assertSamePreprofileRenamesAside } from '../../e2e/support/preprofile.js';
import { type RunningServer, startServer } from '../../e2e/support/server.js';
import { decompress } from '../../src/pprof/compression.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const modeIndex = process.argv.indexOf('--mode');
const mode = modeIndex > 0 ? process.argv[modeIndex + 1] : 'variety';
const collectSeconds = flag('collect', 60);
const periodSeconds = flag('period', 15);
const buildRounds = flag('build-rounds', 3);
const preprofileRounds = flag('preprofile-rounds', 20);
const rounds = flag('rounds', 6);
const seconds = flag('seconds', 8);
const SERVICE = 'pgo-impact';

if (spawnSync('wrk', ['--version']).error) {
  console.error('wrk is needed as the load generator: apt-get install wrk');
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'hotpath-impact-'));
const moduleDir = join(work, 'pgoservice');
mkdirSync(moduleDir);
copyPgoService(moduleDir);

interface Run {
  cpuSeconds: number;
  requests: number;
}

/** Runs a service binary for `duration` seconds under wrk load; returns its CPU time and requests served. */
async function runService(binary: string, duration: number, env: NodeJS.ProcessEnv, profile: boolean): Promise<Run> {
  const child = spawn(binary, ['-duration', `${duration}s`, '-period', `${periodSeconds}s`, `-profile=${profile}`, '-mode', mode], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = await new Promise<string>((resolve) => {
    const timer = setInterval(() => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearInterval(timer);
        resolve(m[1]);
      }
    }, 10);
  });
  const wrk = spawn('wrk', ['-t1', '-c4', `-d${Math.max(1, duration - 1)}s`, `${url}/catalog?n=400`], { stdio: 'ignore' });
  await new Promise((resolve) => wrk.on('exit', resolve));
  await exited;
  const m = /cpu_seconds=([\d.]+) requests=(\d+)/.exec(out);
  if (!m) throw new Error(`no CPU report from ${binary}: ${out}`);
  return { cpuSeconds: Number(m[1]), requests: Number(m[2]) };
}

function timeBuild(output: string, pgo: string): number {
  const t = performance.now();
  runOk('go', ['build', '-a', `-pgo=${pgo}`, '-o', output, '.'], { cwd: moduleDir });
  return (performance.now() - t) / 1000;
}

// 1. Collect profiles of the service built without PGO, through hotpath serve.
console.log(`collecting ${collectSeconds}s of profiles from the service under load...`);
runOk('go', ['build', '-pgo=off', '-o', join(work, 'svc-collect'), '.'], { cwd: moduleDir });
const server: RunningServer = await startServer();
await runService(
  join(work, 'svc-collect'),
  collectSeconds,
  {
    ...process.env,
    DD_TRACE_AGENT_URL: `http://hotpath:${server.apiKey}@${server.url.slice('http://'.length)}`,
    DD_SERVICE: SERVICE,
    DD_ENV: 'bench',
  },
  true,
);

// 2. The two profiles: hotpath's, and pprof's raw merge of the same selected profiles.
const hotpathPgo = join(work, 'hotpath.pgo');
const pgoRun = runOk(process.execPath, [hotpathBin, 'pgo', '--fail', '--json', '--server', server.url, `service:${SERVICE}`, hotpathPgo], {
  env: { ...process.env, HOTPATH_APP_KEY: server.appKey },
});
const ids = pgoRun
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { msg: string; 'profile-id'?: string })
  .filter((l) => l.msg === 'selected profile')
  .map((l) => l['profile-id'] as string);
const rawFiles: string[] = [];
for (const id of ids) {
  const res = await fetch(`${server.url}/api/v1/profiles/${id}/attachments/cpu.pprof`, {
    headers: { 'DD-APPLICATION-KEY': server.appKey },
  });
  const path = join(work, `${id}.pprof`);
  // dd-trace-go sends zstd, which pprof cannot read: hand it the uncompressed protobuf.
  writeFileSync(path, decompress(Buffer.from(await res.arrayBuffer())));
  rawFiles.push(path);
}
await server.stop();
const rawPgo = join(work, 'raw.pgo');
runOk(pprofBinary, ['-proto', '-symbolize=none', '-output', rawPgo, ...rawFiles]);
// Equal call edges, except those of functions the safety list renames ("DO NOT INLINE: ...").
let samePreprofile = true;
try {
  assertSamePreprofileRenamesAside(preprofile(hotpathPgo), preprofile(rawPgo));
} catch {
  samePreprofile = false;
}
const sizes = { hotpath: statSync(hotpathPgo).size, raw: statSync(rawPgo).size };
console.log(
  `profiles from ${ids.length} selected uploads: hotpath ${sizes.hotpath} B, raw merge ${sizes.raw} B (${(sizes.raw / sizes.hotpath).toFixed(1)}× larger); same go tool preprofile: ${samePreprofile}`,
);

// 3. Builds, timed with -a so that every package is compiled with the profile (what CI pays
// after the profile changes), in interleaved rounds; then the step of the build that reads the
// profile, `go tool preprofile`, timed on its own (the binary itself, not the go wrapper).
const variants = [
  { name: 'no PGO', pgo: 'off', binary: join(work, 'svc-none') },
  { name: 'PGO (hotpath)', pgo: hotpathPgo, binary: join(work, 'svc-hotpath') },
  { name: 'PGO (raw merge)', pgo: rawPgo, binary: join(work, 'svc-raw') },
];
const buildSeconds = new Map<string, number[]>(variants.map((v) => [v.name, []]));
for (let r = 0; r < buildRounds; r++) {
  for (let k = 0; k < variants.length; k++) {
    const v = variants[(r + k) % variants.length];
    const s = timeBuild(v.binary, v.pgo);
    buildSeconds.get(v.name)?.push(s);
    console.log(`build round ${r + 1} ${v.name}: ${s.toFixed(2)} s`);
  }
}
const preprofileBinary = runOk('go', ['tool', '-n', 'preprofile']).trim();
const preprofileMs = new Map<string, number[]>([
  ['hotpath', []],
  ['raw', []],
]);
for (let r = 0; r < preprofileRounds; r++) {
  for (const [name, file] of r % 2 === 0
    ? ([
        ['hotpath', hotpathPgo],
        ['raw', rawPgo],
      ] as const)
    : ([
        ['raw', rawPgo],
        ['hotpath', hotpathPgo],
      ] as const)) {
    const t = performance.now();
    runOk(preprofileBinary, ['-i', file, '-o', join(work, `${name}.preprofile`)]);
    preprofileMs.get(name)?.push(performance.now() - t);
  }
}

// 4. Interleaved measurement rounds, rotating the order each round.
const perRequest = new Map<string, number[]>(variants.map((v) => [v.name, []]));
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < variants.length; k++) {
    const v = variants[(r + k) % variants.length];
    const result = await runService(v.binary, seconds, process.env, false);
    const us = (result.cpuSeconds / result.requests) * 1e6;
    perRequest.get(v.name)?.push(us);
    console.log(`round ${r + 1} ${v.name}: ${result.requests} requests, ${us.toFixed(1)} µs CPU/request`);
  }
}
rmSync(work, { recursive: true, force: true });

// 5. Means with 95% confidence intervals (Student's t), and each PGO build against no PGO.
const T95: Record<number, number> = {
  1: 12.71,
  2: 4.3,
  3: 3.18,
  4: 2.78,
  5: 2.57,
  6: 2.45,
  7: 2.36,
  8: 2.31,
  9: 2.26,
  10: 2.23,
  15: 2.13,
  20: 2.09,
};
const t95 = (df: number) =>
  T95[df] ??
  (df > 20
    ? 2.0
    : T95[
        Object.keys(T95)
          .map(Number)
          .filter((d) => d <= df)
          .pop() ?? 1
      ]);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const variance = (xs: number[]) => xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1);
const base = perRequest.get('no PGO') as number[];
console.log(`\nCPU time per request (${rounds} interleaved rounds of ${seconds}s each, wrk -c4):`);
for (const v of variants) {
  const xs = perRequest.get(v.name) as number[];
  const half = t95(xs.length - 1) * Math.sqrt(variance(xs) / xs.length);
  let change = '';
  if (v.name !== 'no PGO') {
    // Welch interval for the difference of means, relative to the no-PGO mean.
    const se = Math.sqrt(variance(xs) / xs.length + variance(base) / base.length);
    const diff = mean(xs) - mean(base);
    const ci = t95(Math.min(xs.length, base.length) - 1) * se;
    change = `  vs no PGO: ${((diff / mean(base)) * 100).toFixed(2)}% ± ${((ci / mean(base)) * 100).toFixed(2)}%`;
  }
  console.log(`  ${v.name.padEnd(16)} ${mean(xs).toFixed(1)} ± ${half.toFixed(1)} µs${change}`);
}
const hp = perRequest.get('PGO (hotpath)') as number[];
const raw = perRequest.get('PGO (raw merge)') as number[];
const seDiff = Math.sqrt(variance(hp) / hp.length + variance(raw) / raw.length);
console.log(
  `  hotpath vs raw merge: ${(((mean(hp) - mean(raw)) / mean(raw)) * 100).toFixed(2)}% ± ${((t95(hp.length - 1) * seDiff * 100) / mean(raw)).toFixed(2)}%`,
);
console.log(`\ndefault.pgo: hotpath ${sizes.hotpath} B, raw merge ${sizes.raw} B; same preprofile: ${samePreprofile}`);
const interval = (xs: number[], digits: number) =>
  `${mean(xs).toFixed(digits)} ± ${(xs.length > 1 ? t95(xs.length - 1) * Math.sqrt(variance(xs) / xs.length) : Number.NaN).toFixed(digits)}`;
console.log(
  `go build -a (${buildRounds} interleaved rounds): ${variants.map((v) => `${v.name} ${interval(buildSeconds.get(v.name) as number[], 2)} s`).join(', ')}`,
);
const hpPre = preprofileMs.get('hotpath') as number[];
const rawPre = preprofileMs.get('raw') as number[];
console.log(
  `go tool preprofile (${preprofileRounds} rounds): hotpath ${interval(hpPre, 1)} ms, raw merge ${interval(rawPre, 1)} ms (${(mean(rawPre) / mean(hpPre)).toFixed(1)}× longer)`,
);
console.log(`machine: ${cpus()[0]?.model}, ${cpus().length} cores, node ${process.version}; wrk shares the machine`);
