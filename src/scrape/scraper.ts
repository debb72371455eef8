import type { TargetsJson } from '../api/types.js';
import type { ScrapeConfig } from './config.js';
import { TargetDiscovery } from './discovery.js';
import { TargetState } from './health.js';
import { renderScrapeMetrics } from './metrics.js';
import { ScrapeSlots } from './slots.js';
import { type Target, targetKey } from './target.js';
import { type ProfileSink, type ScrapeLog, TargetLoop } from './target-loop.js';

/** What the server shows of scraping: GET /api/v1/targets and the scrape part of /metrics. */
export interface ScrapeStatus {
  targets(): TargetsJson;
  renderMetrics(): string;
}

export interface ScraperOptions {
  log: ScrapeLog;
  /** A number in [0, 1) for the backoff's jitter (tests make it fixed). */
  random?: () => number;
}

/**
 * Pulls CPU profiles (and any other profiles a job asks for) from Go services' net/http/pprof
 * endpoints into `sink`, as `hotpath serve --scrape` configures: every target of the config on
 * its own timer, at most `maxConcurrentScrapes` scrapes at once, targets added and removed as
 * their file_sd files change (a target that stays keeps its health and schedule). stop() ends
 * everything: no timer or watch is left and scrapes in flight are aborted.
 */
export class Scraper implements ScrapeStatus {
  private readonly loops = new Map<string, TargetLoop>();
  /** Loops of removed targets until their scrape in flight has ended. */
  private readonly stopping = new Set<Promise<void>>();
  private readonly slots: ScrapeSlots;
  private readonly discovery: TargetDiscovery;
  private stopped = false;
  private started = false;

  constructor(
    private readonly config: ScrapeConfig,
    private readonly sink: ProfileSink,
    private readonly options: ScraperOptions,
  ) {
    this.slots = new ScrapeSlots(config.maxConcurrentScrapes);
    this.discovery = new TargetDiscovery(
      config,
      (targets) => this.reconcile(targets),
      (p) => options.log.warn({ job: p.job, file: p.file, error: p.error }, 'target file not used'),
    );
  }

  /** Reads the target files and starts scraping; resolves once every target found has its timer. */
  async start(): Promise<void> {
    const targets = await this.discovery.start();
    if (this.stopped) return;
    this.started = true;
    this.reconcile(targets);
    const jobs = this.config.jobs.map((j) => j.name).join(', ');
    this.options.log.info({ config: this.config.file, jobs, targets: targets.length }, 'scraping net/http/pprof targets');
  }

  /** Re-reads every file_sd file now. */
  reloadTargets(): Promise<void> {
    return this.discovery.reload();
  }

  /** Stops scraping and watching; resolves once every scrape in flight has ended (a profile being stored is stored). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.discovery.stop();
    const loops = [...this.loops.values()];
    this.loops.clear();
    await Promise.all([...loops.map((l) => l.stop()), ...this.stopping]);
  }

  targets(): TargetsJson {
    return {
      scraping: true,
      configFile: this.config.file,
      targets: [...this.loops.values()].map((l) => l.state.toJson()),
      discoveryErrors: this.discovery
        .errors()
        .map((e) => ({ job: e.job, file: e.file, error: e.error, since: new Date(e.since).toISOString() })),
    };
  }

  renderMetrics(): string {
    return renderScrapeMetrics(
      [...this.loops.values()].map((l) => l.state),
      this.discovery.errors(),
    );
  }

  /** Starts loops for new targets and stops those of targets no longer listed. */
  private reconcile(targets: readonly Target[]): void {
    if (this.stopped || !this.started) return;
    const wanted = new Map(targets.map((t) => [targetKey(t), t]));
    for (const [key, loop] of this.loops) {
      if (wanted.has(key)) continue;
      this.loops.delete(key);
      const stopped = loop.stop().finally(() => this.stopping.delete(stopped));
      this.stopping.add(stopped);
      this.options.log.info({ job: loop.state.job.name, instance: loop.state.target.address }, 'scrape target removed');
    }
    const jobs = new Map(this.config.jobs.map((j) => [j.name, j]));
    const initial = this.loops.size === 0;
    for (const [key, target] of wanted) {
      if (this.loops.has(key)) continue;
      const job = jobs.get(target.job);
      if (!job) continue;
      const loop = new TargetLoop(new TargetState(job, target), {
        slots: this.slots,
        sink: this.sink,
        log: this.options.log,
        random: this.options.random ?? Math.random,
      });
      this.loops.set(key, loop);
      loop.start();
      if (!initial) this.options.log.info({ job: job.name, instance: target.address, source: target.source }, 'scrape target added');
    }
  }
}
