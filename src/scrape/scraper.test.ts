import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { IngestedProfile } from '../ingest/record.js';
import { fixture } from '../testing/fixtures.js';
import { waitUntil } from '../testing/wait.js';
import type { ScrapeConfig, ScrapeJob } from './config.js';
import { Scraper } from './scraper.js';

const cpu = readFileSync(fixture('cpu-small-1.pprof'));
const silent = { info: () => undefined, warn: () => undefined };

/** A job as the config parser makes them, with intervals shorter than a config allows so the test runs quickly. */
function job(name: string, targets: string[], over: Partial<ScrapeJob> = {}): ScrapeJob {
  return {
    name,
    intervalMs: 200,
    timeoutMs: 60_000,
    profileSeconds: 1,
    extraProfiles: [],
    scheme: 'http',
    pathPrefix: '',
    auth: null,
    tls: null,
    bodySizeLimit: 1 << 20,
    maxBackoffMs: 60_000,
    staticGroups: [{ targets, labels: { env: 'test' }, source: 'static_configs' }],
    fileSd: [],
    externalLabels: {},
    ...over,
  };
}

/** Timers, watches and sockets of this process, to check that stop() leaves none behind. */
function resources(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'FSEventWrap' || r === 'TCPWrap');
}

describe('Scraper', () => {
  let server: Server;
  let address: string;
  /** Requests of the hanging target that were cut off by the client. */
  let hangingAborted = 0;
  let busyRequests = 0;

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? '';
      if (url.startsWith('/healthy/debug/pprof/profile?seconds=1')) res.end(cpu);
      else if (url.startsWith('/healthy/debug/pprof/heap')) res.writeHead(500).end('no heap today');
      else if (url.startsWith('/busy/')) {
        busyRequests++;
        res.writeHead(500).end('Could not enable CPU profiling: cpu profiling already in use\n');
      } else if (url.startsWith('/hanging/')) req.on('close', () => hangingAborted++);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('scrapes a healthy target on schedule while a hanging one and a busy one fail, then stops cleanly', async () => {
    const baseline = resources().length;
    const stored: IngestedProfile[] = [];
    const config: ScrapeConfig = {
      file: 'test.yaml',
      maxConcurrentScrapes: 8,
      jobs: [
        job('healthy', [address], { pathPrefix: '/healthy', extraProfiles: ['heap'] }),
        job('hanging', [address], { pathPrefix: '/hanging' }),
        job('busy', [address], { pathPrefix: '/busy' }),
      ],
    };
    const scraper = new Scraper(
      config,
      async (p) => {
        stored.push(p);
        return { id: `id-${stored.length}` };
      },
      { log: silent, random: () => 0 },
    );
    await scraper.start();
    const state = (name: string) => {
      const t = scraper.targets().targets.find((x) => x.job === name);
      assert.ok(t, name);
      return t;
    };
    try {
      // The hanging target's first scrape is still waiting for an answer (its timeout is a
      // minute) while the healthy target is scraped again and again: it never waits for it.
      await waitUntil(() => stored.length >= 3 && state('busy').consecutiveFailures >= 3, 'three scrapes of the healthy target', {
        describe: () => JSON.stringify(scraper.targets()),
      });
      const hanging = state('hanging');
      assert.equal(hanging.scraping, true);
      assert.equal(hanging.lastScrape, null);
      assert.equal(hanging.health, 'unknown');
      assert.equal(hanging.nextScrape, null, 'not known while a scrape runs');

      const healthy = state('healthy');
      assert.equal(healthy.health, 'up');
      assert.ok(healthy.profilesStored >= 3);
      assert.match(healthy.lastProfileId ?? '', /^id-\d+$/);
      // The heap profile failed: left out, said so, the CPU profile stored anyway.
      assert.match(healthy.lastError ?? '', /heap profile left out: .*answered 500 "no heap today"/);
      assert.deepEqual(
        stored[0].attachments.map((a) => a.name),
        ['cpu.pprof'],
      );
      assert.equal(stored[0].protocol, 'scrape');
      assert.equal(stored[0].cpuAttachment, 'cpu.pprof');
      assert.deepEqual(Buffer.from(stored[0].attachments[0].bytes), cpu);
      assert.deepEqual(stored[0].tags, [
        ['service', 'healthy'],
        ['env', 'test'],
        ['instance', address],
        ['job', 'healthy'],
      ]);

      // The busy target backs off: each wait is twice the one before (interval 200 ms, no jitter).
      const busy = state('busy');
      assert.equal(busy.health, 'down');
      assert.equal(busy.lastErrorReason, 'profiler_busy');
      assert.match(busy.lastError ?? '', /Could not enable CPU profiling/);
      assert.ok(busy.lastScrape !== null && busy.nextScrape !== null);
      const wait = Date.parse(busy.nextScrape) - Date.parse(busy.lastScrape);
      const expected = 200 * 2 ** (busy.consecutiveFailures - 1);
      assert.ok(wait >= expected - 2 && wait <= expected + 2, `waits ${wait} ms after ${busy.consecutiveFailures} failures`);
      // Never hammered: one request per failure, however long the test ran.
      assert.equal(busyRequests, busy.consecutiveFailures);

      const metrics = scraper.renderMetrics();
      assert.match(metrics, new RegExp(`^hotpath_scrape_target_up\\{instance="${address}",job="healthy"\\} 1$`, 'm'));
      assert.match(metrics, new RegExp(`^hotpath_scrape_target_up\\{instance="${address}",job="busy"\\} 0$`, 'm'));
      assert.doesNotMatch(metrics, /hotpath_scrape_target_up\{[^}]*job="hanging"/, 'a target never scraped has no up sample yet');
      assert.match(
        metrics,
        new RegExp(`^hotpath_scrape_failures_total\\{instance="${address}",job="busy",reason="profiler_busy"\\} \\d+$`, 'm'),
      );
      assert.match(metrics, /^hotpath_scrape_targets\{job="healthy"\} 1$/m);
    } finally {
      await scraper.stop();
    }
    // The hanging request was aborted, and nothing is left running.
    await waitUntil(() => hangingAborted === 1, 'the server to see the hanging request closed');
    const afterStop = stored.length;
    assert.deepEqual(scraper.targets().targets, []);
    assert.ok(resources().length <= baseline, `left behind: ${resources().join(', ')}`);
    assert.equal(stored.length, afterStop);
  });

  it('holds at most max_concurrent_scrapes at once', async () => {
    let inFlight = 0;
    let most = 0;
    const slow = createServer((_req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      setImmediate(() => {
        inFlight--;
        res.end(cpu);
      });
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const port = (slow.address() as AddressInfo).port;
    // One server, five label sets: five targets.
    const groups = [1, 2, 3, 4, 5].map((i) => ({
      targets: [`127.0.0.1:${port}`],
      labels: { replica: String(i) },
      source: 'static_configs',
    }));
    let stored = 0;
    const scraper = new Scraper(
      { file: 't.yaml', maxConcurrentScrapes: 2, jobs: [job('many', [], { intervalMs: 50, staticGroups: groups })] },
      async () => ({ id: String(++stored) }),
      { log: silent },
    );
    await scraper.start();
    try {
      await waitUntil(() => stored >= 20, 'twenty scrapes');
      assert.equal(scraper.targets().targets.length, 5);
      assert.ok(scraper.targets().targets.every((t) => t.health === 'up'));
      assert.ok(most <= 2, `${most} scrapes ran at once`);
    } finally {
      await scraper.stop();
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });
});
