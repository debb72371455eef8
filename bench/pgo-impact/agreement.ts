// PGO impact as `hotpath impact` reports it, checked against the service's own getrusage: the
// production-shaped e2e service (e2e/pgoservice, `variety` mode) runs dd-trace-go's tracer beside
// its profiler (-trace, DD_PROFILING_ENDPOINT_COUNT_ENABLED=true) against `hotpath serve`, built
// without PGO and with hotpath's default.pgo. Both builds run at the same time at the same fixed
// request rate (so both meet the same neighbours, and the profiler's fixed cost per second weighs
// the same on each request of both), each tagged with its own version. When the warm-up profile
// of a build is stored its getrusage is read, and again when --profiles more are stored; then
// GET /api/v1/impact compares the steady profiles. Prints per build the report's CPU per request
// (95% interval) beside getrusage's over the same window, and the change by both.
// Not a test: a run takes a few minutes.
//
//   npm run build && node dist/bench/pgo-impact/agreement.js [--mode variety] [--collect 60]
//       [--collect-period 15] [--rate 150] [--period 5] [--profiles 12] [--rounds 1] [--idle 10]
//
// Before the load starts, each build runs --idle seconds without requests: its getrusage then is
// the fixed cost per second of the profiler, the tracer and the runtime, which getrusage also
// counts under load; the script prints getrusage per request with that cost taken out as well.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOk } from '../../e2e/support/go.js';
import { hotpathBin } from '../../e2e/support/paths.js';
import { copyPgoService } from '../../e2e/support/pgoservice.js';
import { type RunningServer, startServer } from '../../e2e/support/server.js';
import type { ImpactJson, ProfileListJson } from '../../src/api/types.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const modeIndex = process.argv.indexOf('--mode');
const mode = modeIndex > 0 ? process.argv[modeIndex + 1] : 'variety';
const collectSeconds = flag('collect', 60);
const collectPeriod = flag('collect-period', 15);
const rate = flag('rate', 150);
const periodSeconds = flag('period', 5);
const steadyProfiles = flag('profiles', 12);
const rounds = flag('rounds', 1);
const idleSeconds = flag('idle', 10);
const SERVICE = 'pgo-impact-agreement';

if (spawnSync('wrk', ['--version']).error) {
  console.error('wrk is needed as the load generator of the collection phase: apt-get install wrk');
  process.exit(1);
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const work = mkdtempSync(join(tmpdir(), 'hotpath-agreement-'));
const moduleDir = join(work, 'pgoservice');
mkdirSync(moduleDir);
copyPgoService(moduleDir);
const server: RunningServer = await startServer();
const agentEnv = (version: string): NodeJS.ProcessEnv => ({
  ...process.env,
  DD_TRACE_AGENT_URL: `http://hotpath:${server.apiKey}@${server.url.slice('http://'.length)}`,
  DD_SERVICE: SERVICE,
  DD_ENV: 'bench',
  DD_VERSION: version,
  DD_PROFILING_ENDPOINT_COUNT_ENABLED: 'true',
});

interface Service {
  url: string;
  stop: () => Promise<void>;
}

async function startService(binary: string, env: NodeJS.ProcessEnv, period: number, seconds: number): Promise<Service> {
  const child = spawn(binary, ['-duration', `${seconds}s`, '-period', `${period}s`, '-profile=true', '-trace', '-mode', mode], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    void exited.then(() => reject(new Error(`${binary} exited before listening: ${out}${err}`)));
  });
  return {
    url,
    stop: async () => {
      child.kill();
      await exited;
    },
  };
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function profilesOf(query: string): Promise<ProfileListJson['profiles']> {
  const res = await fetch(`${server.url}/api/v1/profiles?query=${encodeURIComponent(query)}&from=now-1h&limit=200`, {
    headers: { 'DD-APPLICATION-KEY': server.appKey },
  });
  if (res.status !== 200) throw new Error(`profiles: ${res.status} ${await res.text()}`);
  return ((await res.json()) as ProfileListJson).profiles;
}

interface Usage {
  cpuNanos: number;
  requests: number;
}
const usage = async (url: string) => (await (await fetch(`${url}/rusage`)).json()) as Usage;

/** Most requests in flight per service; beyond it the generator skips its turn and counts it. */
const MAX_IN_FLIGHT = 64;

/**
 * Drives every url at `perSecond` requests per second each, on a schedule (not after each answer,
 * so the load does not follow the service's speed). Returns a function that stops it and answers
 * the failures and the turns skipped because MAX_IN_FLIGHT requests were waiting.
 */
function fixedRate(urls: string[], perSecond: number): () => Promise<{ failures: number; skipped: number }> {
  let running = true;
  let failures = 0;
  let skipped = 0;
  const inFlight = new Set<Promise<void>>();
  const t0 = Date.now();
  const loop = (async () => {
    for (let sent = 0; running; sent++) {
      // Always yield to the event loop, also when behind schedule, so the answers are read.
      const wait = t0 + (sent * 1000) / perSecond - Date.now();
      await new Promise((r) => setTimeout(r, Math.max(0, wait)));
      if (inFlight.size >= MAX_IN_FLIGHT * urls.length) {
        skipped++;
        continue;
      }
      for (const url of urls) {
        const p = fetch(`${url}/catalog?n=400`)
          .then((r) => r.arrayBuffer())
          .then(
            () => undefined,
            () => {
              failures++;
            },
          );
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
    }
  })();
  return async () => {
    running = false;
    await loop;
    await Promise.all(inFlight);
    return { failures, skipped };
  };
}

// 1. Profiles of the traced service without PGO; hotpath's default.pgo from them.
console.log(`load average at the start: ${loadAverage()}; collecting ${collectSeconds}s of profiles...`);
runOk('go', ['build', '-pgo=off', '-o', join(work, 'svc-none'), '.'], { cwd: moduleDir });
const collector = await startService(join(work, 'svc-none'), agentEnv('collect'), collectPeriod, collectSeconds);
spawnSync('wrk', ['-t1', '-c4', `-d${Math.max(1, collectSeconds - 1)}s`, `${collector.url}/catalog?n=400`], { stdio: 'ignore' });
await waitFor('the collection profiles', 60_000, async () =>
  (await profilesOf(`service:${SERVICE} version:collect`)).length >= Math.max(1, Math.floor(collectSeconds / collectPeriod) - 1)
    ? true
    : null,
);
await collector.stop();
const pgo = join(work, 'hotpath.pgo');
runOk(process.execPath, [hotpathBin, 'pgo', '--fail', '--server', server.url, `service:${SERVICE} version:collect`, pgo], {
  env: { ...process.env, HOTPATH_APP_KEY: server.appKey },
});
runOk('go', ['build', `-pgo=${pgo}`, '-o', join(work, 'svc-pgo'), '.'], { cwd: moduleDir });

// 2. Both builds at once at the same fixed rate, each under its own version.
interface Measured {
  name: string;
  version: string;
  getrusage: number;
  requests: number;
  cores: number;
  /** Requests per second the build served over the window (the generator falls behind the nominal rate on a busy machine). */
  served: number;
  /** getrusage cores while idle, before the load (the fixed cost per second). */
  idleCores: number;
}
const us = (ns: number | null | undefined) => (ns === null || ns === undefined ? 'n/a' : `${(ns / 1e3).toFixed(1)}`);
const pct = (f: number | null | undefined) => (f === null || f === undefined ? 'n/a' : `${f >= 0 ? '+' : ''}${(f * 100).toFixed(2)}%`);
for (let round = 1; round <= rounds; round++) {
  const builds = [
    { name: 'no PGO', binary: join(work, 'svc-none'), version: `nopgo-${round}` },
    { name: 'PGO (hotpath)', binary: join(work, 'svc-pgo'), version: `pgo-${round}` },
  ];
  const lifetime = idleSeconds + (steadyProfiles + 4) * periodSeconds + 120;
  const services = await Promise.all(builds.map((b) => startService(b.binary, agentEnv(b.version), periodSeconds, lifetime)));
  // Idle first: what each build spends per second without requests.
  const idleA = await Promise.all(services.map((s) => usage(s.url)));
  const idleFrom = Date.now();
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const idleZ = await Promise.all(services.map((s) => usage(s.url)));
  const idleCores = idleZ.map((z, i) => (z.cpuNanos - idleA[i].cpuNanos) / ((Date.now() - idleFrom) * 1e6));
  const loadFrom = Date.now();
  const stopLoad = fixedRate(
    services.map((s) => s.url),
    rate,
  );
  const loadAtStart = loadAverage();
  const measured = await Promise.all(
    builds.map(async (b, i): Promise<Measured & { steadyFrom: string }> => {
      const query = `service:${SERVICE} version:${b.version}`;
      // The warm-up profile: the first that starts under load (the one before it is partly idle).
      const first = await waitFor(`the warm-up profile of ${b.name}`, 120_000, async () => {
        const ps = (await profilesOf(query)).filter((p) => Date.parse(p.start) >= loadFrom);
        return ps.length >= 1 ? ps[ps.length - 1] : null;
      });
      const a = await usage(services[i].url);
      const wallA = Date.now();
      await waitFor(`${steadyProfiles} steady profiles of ${b.name}`, (steadyProfiles + 4) * periodSeconds * 1000 + 60_000, async () =>
        (await profilesOf(query)).filter((p) => Date.parse(p.start) >= Date.parse(first.end) - 1000).length >= steadyProfiles ? true : null,
      );
      const z = await usage(services[i].url);
      const wallZ = Date.now();
      return {
        ...b,
        getrusage: (z.cpuNanos - a.cpuNanos) / (z.requests - a.requests),
        requests: z.requests - a.requests,
        cores: (z.cpuNanos - a.cpuNanos) / ((wallZ - wallA) * 1e6),
        served: ((z.requests - a.requests) * 1000) / (wallZ - wallA),
        idleCores: idleCores[i],
        steadyFrom: new Date(Date.parse(first.end) + 1).toISOString(),
      };
    }),
  );
  // Stop the services while the load still runs, so that no stored profile covers an idle tail.
  for (const s of services) await s.stop();
  const { failures, skipped } = await stopLoad();
  const loadAtEnd = loadAverage();
  const [none, withPgo] = measured;
  const [from] = [none.steadyFrom, withPgo.steadyFrom].sort();
  const params = new URLSearchParams({
    before: `service:${SERVICE} version:${none.version}`,
    after: `service:${SERVICE} version:${withPgo.version} pgo:true`,
    from,
  });
  const res = await fetch(`${server.url}/api/v1/impact?${params}`, { headers: { 'DD-APPLICATION-KEY': server.appKey } });
  const report = (await res.json()) as ImpactJson;
  if (res.status !== 200 || report.metric !== 'cpu_per_request') {
    throw new Error(`the impact report did not compare CPU per request (${res.status}): ${JSON.stringify(report, null, 1)}`);
  }
  console.log(
    `\nround ${round}: both builds at once, ${rate} requests/s each asked, ${none.served.toFixed(1)} and ${withPgo.served.toFixed(1)} served, mode ${mode}, ${steadyProfiles} steady profiles of ${periodSeconds}s each; ${failures} failed requests (cut off by the stop), ${skipped} turns skipped at ${MAX_IN_FLIGHT} in flight; load average ${loadAtStart} at the start, ${loadAtEnd} at the end`,
  );
  console.log('  build           report CPU/request (95% CI)     getrusage CPU/request   report cores  getrusage cores  requests');
  for (const [m, side] of [
    [none, report.before],
    [withPgo, report.after],
  ] as const) {
    const r = side.cpuPerRequestNanos;
    const ci = r === null ? 'n/a' : `${us(r.value)} [${us(r.low)}, ${us(r.high)}] µs`;
    console.log(
      `  ${m.name.padEnd(15)} ${ci.padEnd(31)} ${`${us(m.getrusage)} µs`.padEnd(23)} ${(side.cpuCores?.value ?? 0).toFixed(3).padEnd(13)} ${m.cores.toFixed(3).padEnd(16)} ${m.requests} (report ${side.requests})`,
    );
  }
  const rel = report.difference.relative;
  const own = (withPgo.getrusage - none.getrusage) / none.getrusage;
  console.log(
    `  change: report ${pct(rel?.value)} [${pct(rel?.low)}, ${pct(rel?.high)}] (${report.difference.verdict}), getrusage ${pct(own)}; ${own >= (rel?.low ?? Number.NaN) && own <= (rel?.high ?? Number.NaN) ? 'getrusage inside' : 'getrusage OUTSIDE'} the report's interval`,
  );
  // What getrusage counts beyond the CPU profiles: per second, the same for both builds at the
  // same rate (the profiler encoding and sending, the tracer flushing).
  for (const [m, side] of [
    [none, report.before],
    [withPgo, report.after],
  ] as const) {
    const outside = m.cores - (side.cpuCores?.value ?? 0);
    console.log(
      `  ${m.name}: getrusage − report = ${(outside * 1000).toFixed(1)} ms/s outside the CPU profiles (${us((outside * 1e9) / m.served)} µs per request at ${m.served.toFixed(1)}/s)`,
    );
  }
  // getrusage with the fixed cost per second measured idle taken out, per request.
  const corrected = (m: Measured) => m.getrusage - (m.idleCores * 1e9) / m.served;
  const ownCorrected = (corrected(withPgo) - corrected(none)) / corrected(none);
  console.log(
    `  getrusage less the idle cost (${(none.idleCores * 1000).toFixed(1)} and ${(withPgo.idleCores * 1000).toFixed(1)} ms/s): no PGO ${us(corrected(none))} µs, PGO ${us(corrected(withPgo))} µs, change ${pct(ownCorrected)}`,
  );
  console.log(`  report: ${report.summary}`);
  for (const n of report.notes) console.log(`  note: ${n}`);
}
await server.stop();
rmSync(work, { recursive: true, force: true });
console.log(`\nmachine: ${cpus()[0]?.model}, ${cpus().length} cores, node ${process.version}; the load generator shares the machine`);
