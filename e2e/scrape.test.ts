import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { chromium, type Locator } from 'playwright-core';
import type { FlameJson, ProfileListJson, TargetJson, TargetsJson } from '../src/api/types.js';
import { waitUntil } from '../src/testing/wait.js';
import { run } from './support/go.js';
import { hotpathBin, repoRoot } from './support/paths.js';
import { type RunningPprofServer, startPprofServer } from './support/pprof-server.js';
import { type RunningServer, startServer } from './support/server.js';

// `hotpath serve --scrape` against real Go programs that import net/http/pprof: one healthy and
// burning CPU in named functions, one already profiling itself (net/http/pprof answers 500
// "Could not enable CPU profiling"), a closed port, a port that accepts and never answers, and
// one that appears later in a file_sd file. Short intervals and 1-second CPU profiles.

const execFileAsync = promisify(execFile);
const CHROMIUM = process.env.HOTPATH_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(repoRoot, '.cache', 'screenshots');
const work = mkdtempSync(join(tmpdir(), 'hotpath-scrape-e2e-'));

/** The page's localStorage, used inside page scripts (this file compiles without the DOM library). */
declare const localStorage: { setItem(key: string, value: string): void };

/** The text a locator's element holds. */
async function text(locator: Locator): Promise<string> {
  return (await locator.textContent()) ?? '';
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

describe('scraping net/http/pprof', () => {
  let server: RunningServer;
  let healthy: RunningPprofServer;
  let busy: RunningPprofServer;
  let discovered: RunningPprofServer;
  /** Accepts connections and never answers: a target hung in the middle of a scrape. */
  let hanging: Server;
  const held: Socket[] = [];
  let hangingAddress: string;
  let deadAddress: string;
  const targetsFile = join(work, 'sd', 'targets.json');

  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${server.appKey}` } }).catch((err: Error) => {
      throw new Error(`GET ${path}: ${err.message}; the server printed:\n${server.output().slice(-4000)}`);
    });
    assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
    return (await res.json()) as T;
  };
  const targets = () => get<TargetsJson>('/api/v1/targets');
  const target = async (job: string): Promise<TargetJson> => {
    const t = (await targets()).targets.find((x) => x.job === job);
    assert.ok(t, `target of job ${job}`);
    return t;
  };
  const metrics = async () => (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${server.appKey}` } })).text();
  const profiles = (query: string) => get<ProfileListJson>(`/api/v1/profiles?query=${encodeURIComponent(query)}&from=now-1h&limit=100`);

  before(async () => {
    [healthy, busy, discovered] = await Promise.all([
      startPprofServer(['-workers', '1']),
      startPprofServer(['-workers', '0', '-hold-cpu-profile']),
      startPprofServer(['-workers', '1', '-mode', 'hash']),
    ]);
    hanging = createServer((socket) => {
      held.push(socket);
      socket.on('error', () => undefined);
      // Read (and drop) the request, so the client closing the connection is seen.
      socket.resume();
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    hangingAddress = `127.0.0.1:${(hanging.address() as { port: number }).port}`;
    deadAddress = `127.0.0.1:${await closedPort()}`;
    mkdirSync(join(work, 'sd'));
    writeFileSync(targetsFile, '[]');
    const config = join(work, 'scrape.yaml');
    writeFileSync(
      config,
      `# Short intervals for the test; see the README for a production config.
scrape_configs:
  - job_name: checkout-job
    scrape_interval: 2s
    profile_seconds: 1
    profiles: [cpu, heap, goroutine]
    static_configs:
      - targets: ['${healthy.address}']
        labels: {service: checkout, env: e2e, version: "1.10", pgo: "false", team: payments}
  - job_name: busy
    scrape_interval: 1s
    profile_seconds: 1
    max_backoff: 4s
    static_configs:
      - targets: ['${busy.address}']
  - job_name: dead
    scrape_interval: 1s
    profile_seconds: 1
    static_configs:
      - targets: ['${deadAddress}']
  - job_name: hanging
    scrape_interval: 10m
    scrape_timeout: 10m
    profile_seconds: 1
    static_configs:
      - targets: ['${hangingAddress}']
  - job_name: discovered
    scrape_interval: 2s
    profile_seconds: 1
    file_sd_configs:
      - files: ['sd/*.json']
        refresh_interval: 5s   # the fallback if the directory watch misses the change
`,
    );
    server = await startServer(['--scrape', config]);
  });

  after(async () => {
    await server?.stop();
    for (const s of held) s.destroy();
    hanging?.close();
    await Promise.all([healthy?.stop(), busy?.stop(), discovered?.stop()]);
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses a bad scrape config at start, naming the line and the field', async () => {
    const bad = join(work, 'bad.yaml');
    writeFileSync(bad, 'scrape_configs:\n  - job_name: api\n    scrape_intervall: 1m\n    static_configs: [{targets: [a:1]}]\n');
    const r = run(process.execPath, [hotpathBin, 'serve', '--port', '0', '--data', join(work, 'never'), '--scrape', bad]);
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      /--scrape: .*bad\.yaml:3:5: scrape_configs\[0\]: unknown field "scrape_intervall" \(did you mean "scrape_interval"\?\)/,
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(existsSync(join(work, 'never')), false, 'nothing was created');
  });

  it('scrapes the healthy target on schedule while a hanging target is stuck in its scrape', async () => {
    // The hanging target's first scrape holds its connection (its timeout is 10 minutes)...
    await waitUntil(async () => held.length > 0 && (await target('hanging')).scraping, 'the hanging scrape to start', {
      describe: async () => JSON.stringify(await targets()),
    });
    const before = (await target('checkout-job')).profilesStored;
    // ...and the healthy target is scraped twice more meanwhile: it never waits for it.
    await waitUntil(async () => (await target('checkout-job')).profilesStored >= before + 2, 'two more scrapes of the healthy target', {
      describe: async () => JSON.stringify(await targets()),
    });
    const stuck = await target('hanging');
    assert.equal(stuck.scraping, true);
    assert.equal(stuck.lastScrape, null);
    assert.equal(stuck.health, 'unknown');
    const ok = await target('checkout-job');
    assert.equal(ok.health, 'up');
    assert.equal(ok.lastError, null);
    assert.equal(ok.consecutiveFailures, 0);
    assert.ok(ok.lastDurationSeconds !== null && ok.lastDurationSeconds > 0);
    assert.equal(ok.url, `http://${healthy.address}/debug/pprof/profile?seconds=1`);
  });

  it('stores the profiles searchable by their labels, job, instance and runtime:go', async () => {
    const list = await profiles(`service:checkout env:e2e team:payments job:checkout-job instance:"${healthy.address}" runtime:go`);
    assert.ok(list.profiles.length >= 2, JSON.stringify(list));
    const p = list.profiles[0];
    assert.equal(p.protocol, 'scrape');
    assert.equal(p.version, '1.10');
    assert.equal(p.pgo, false);
    assert.equal(p.runtime, 'go');
    assert.ok(p.cpuCores !== null && p.samples > 0, 'the CPU profile has samples of the burning worker');
    assert.deepEqual(
      p.attachments.map((a) => a.name),
      ['cpu.pprof', 'heap.pprof', 'goroutines.pprof'],
    );
    // The profile is the Go program's own: its named workload functions lead the flame graph's top table.
    const flame = await get<FlameJson>(`/api/v1/flamegraph?id=${p.id}`);
    assert.ok(
      flame.top.some((f) => f.name.includes('internal/burn.')),
      flame.top.map((f) => f.name).join('\n'),
    );
  });

  it('turns the scraped profiles into a default.pgo that go build -pgo accepts', async () => {
    // Run without blocking the test's event loop, whose HTTP client keeps connections to the server.
    const pgo = join(work, 'default.pgo');
    const r = await execFileAsync(
      process.execPath,
      [hotpathBin, 'pgo', '--fail', '--server', server.url, '--from', '1h', 'service:checkout env:e2e', pgo],
      {
        env: { ...process.env, HOTPATH_APP_KEY: server.appKey },
      },
    );
    assert.match(r.stderr + r.stdout, /wrote PGO file/);
    // cpuburn runs the same workload functions and has fewer dependencies to rebuild with the profile than the service.
    const bin = join(work, 'cpuburn-pgo');
    await execFileAsync('go', ['build', `-pgo=${pgo}`, '-o', bin, './cpuburn'], { cwd: join(repoRoot, 'e2e', 'workloads') });
    assert.match((await execFileAsync('go', ['version', '-m', bin])).stdout, /build\s+-pgo=\S*default\.pgo/);
    // The compiler sees the workload's call edges in it.
    assert.match((await execFileAsync('go', ['tool', 'preprofile', '-i', pgo], { maxBuffer: 1 << 26 })).stdout, /internal\/burn\./);
  });

  it('reports the busy and the dead target plainly, backing off instead of hammering them', async () => {
    await waitUntil(
      async () => (await target('busy')).consecutiveFailures >= 2 && (await target('dead')).consecutiveFailures >= 2,
      'two failures of each',
      { describe: async () => JSON.stringify(await targets()) },
    );
    const b = await target('busy');
    assert.equal(b.health, 'down');
    assert.equal(b.lastErrorReason, 'profiler_busy');
    assert.match(b.lastError ?? '', /already being CPU-profiled .*Could not enable CPU profiling: cpu profiling already in use/);
    const wait = Date.parse(b.nextScrape ?? '') - Date.parse(b.lastScrape ?? '');
    assert.ok(wait >= 1000 * 2 ** (Math.min(b.consecutiveFailures, 3) - 1), `backs off: next scrape ${wait} ms after the last`);
    const d = await target('dead');
    assert.equal(d.health, 'down');
    assert.equal(d.lastErrorReason, 'connection');
    assert.match(d.lastError ?? '', new RegExp(`connection refused by ${deadAddress.replace(/\./g, '\\.')}`));

    const text = await metrics();
    const up = (job: string, instance: string) =>
      new RegExp(`^hotpath_scrape_target_up\\{instance="${instance.replace(/\./g, '\\.')}",job="${job}"\\} (\\d)$`, 'm').exec(text)?.[1];
    assert.equal(up('checkout-job', healthy.address), '1');
    assert.equal(up('busy', busy.address), '0');
    assert.equal(up('dead', deadAddress), '0');
    assert.match(
      text,
      new RegExp(`^hotpath_scrape_failures_total\\{instance="${busy.address}",job="busy",reason="profiler_busy"\\} \\d+$`, 'm'),
    );
    assert.match(
      text,
      new RegExp(`^hotpath_scrape_failures_total\\{instance="${deadAddress}",job="dead",reason="connection"\\} \\d+$`, 'm'),
    );
    assert.match(text, /^hotpath_scrape_last_duration_seconds\{instance="[^"]+",job="checkout-job"\} [0-9.]+$/m);
    assert.match(text, /^hotpath_scrape_profiles_stored_total\{instance="[^"]+",job="checkout-job"\} [1-9]\d*$/m);
  });

  it('adds a target written into a file_sd file, without a restart', async () => {
    assert.equal((await targets()).targets.filter((t) => t.job === 'discovered').length, 0);
    // Written beside and renamed over, as config management does.
    writeFileSync(
      `${targetsFile}.tmp`,
      JSON.stringify([{ targets: [discovered.address], labels: { service: 'found-later', env: 'e2e' } }]),
    );
    renameSync(`${targetsFile}.tmp`, targetsFile);
    await waitUntil(
      async () => (await profiles('service:found-later job:discovered')).profiles.length >= 1,
      'a profile of the new target',
      {
        describe: async () => JSON.stringify(await targets()),
      },
    );
    const t = await target('discovered');
    assert.equal(t.source, targetsFile);
    assert.equal(t.health, 'up');
    assert.deepEqual(t.labels, { service: 'found-later', env: 'e2e' });

    // A broken file keeps the target and says why.
    writeFileSync(`${targetsFile}.tmp`, '[{"targets": [');
    renameSync(`${targetsFile}.tmp`, targetsFile);
    await waitUntil(async () => (await targets()).discoveryErrors.length === 1, 'the broken file to be reported');
    const { discoveryErrors, targets: all } = await targets();
    assert.equal(discoveryErrors[0].job, 'discovered');
    assert.match(discoveryErrors[0].error, /targets\.json:1:\d+: .*last good targets are kept/);
    assert.ok(all.some((x) => x.job === 'discovered'));
    assert.match(await metrics(), /^hotpath_scrape_discovery_errors\{job="discovered"\} 1$/m);
  });

  it('shows every target with its health and error on the Targets page', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium package`);
    mkdirSync(SHOTS, { recursive: true });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      await page.addInitScript((key) => localStorage.setItem('hotpath.appKey', key), server.appKey);
      await page.goto(`${server.url}/`);
      await page.getByRole('link', { name: 'Targets' }).click();
      const table = page.getByTestId('targets-table');
      await table.waitFor();
      assert.match(page.url(), /#\/targets$/);
      assert.equal(await text(page.getByRole('heading', { level: 1 })), 'Scrape targets');
      const row = (job: string) => table.locator(`tbody tr[data-job="${job}"][data-health]`);
      const error = (job: string) => table.locator(`tbody tr[data-job="${job}"][data-testid="target-error"]`);
      assert.equal(await row('checkout-job').getAttribute('data-health'), 'up');
      assert.match(await text(row('checkout-job')), /service=checkout/);
      assert.equal(await row('busy').getAttribute('data-health'), 'down');
      assert.match(await text(error('busy')), /Could not enable CPU profiling/);
      assert.match(await text(error('dead')), /connection refused/);
      assert.match(await text(row('hanging')), /first scrape…/);
      assert.match(await text(page.getByTestId('discovery-error')), /targets\.json/);
      assert.match(await text(page.getByTestId('targets-summary')), /targets from .*scrape\.yaml; \d+ down\./);
      await page.screenshot({ path: join(SHOTS, 'targets.png'), fullPage: true });
      assert.deepEqual(pageErrors, []);
    } finally {
      await browser.close();
    }
  });

  it('stops at SIGTERM with a scrape in flight: the hanging request is closed, the exit is clean', async () => {
    assert.equal((await target('hanging')).scraping, true, 'the hanging scrape is still in flight');
    const socket = held[0];
    // A timer or watch left behind would keep the process alive: it must exit by itself.
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      server.stop({ keepData: true }),
      new Promise<'still running'>((resolve) => {
        timer = setTimeout(() => resolve('still running'), 60_000);
      }),
    ]);
    clearTimeout(timer);
    assert.equal(exit, 0, server.output().slice(-2000));
    await waitUntil(() => socket.readableEnded || socket.destroyed, 'the hanging request to be closed by the stopped server');
    assert.match(server.output(), /"msg":"stopped"/);
  });
});
