import type { ScrapeConfig, ScrapeJob } from './config.js';
import { FileTargetWatcher, type TargetFileError } from './file-sd.js';
import { type Target, type TargetGroup, targetKey } from './target.js';

/** A target file problem of one job. */
export interface DiscoveryError extends TargetFileError {
  job: string;
}

/** Returns the targets of a job's groups: one per address, the job's external labels under each group's own. */
export function targetsOfGroups(job: ScrapeJob, groups: readonly TargetGroup[]): Target[] {
  return groups.flatMap((g) =>
    g.targets.map((address) => ({ job: job.name, address, labels: { ...job.externalLabels, ...g.labels }, source: g.source })),
  );
}

/**
 * Every target of a scrape config: the static ones and those of the file_sd files, kept
 * current as the files change. A target listed twice with the same labels is one target.
 * `onChange` receives the whole new list whenever it changes after start.
 */
export class TargetDiscovery {
  private readonly watchers: Array<{ job: ScrapeJob; watcher: FileTargetWatcher }> = [];
  private started = false;

  constructor(
    private readonly config: ScrapeConfig,
    private readonly onChange: (targets: Target[]) => void,
    onProblem: (problem: DiscoveryError) => void = () => undefined,
  ) {
    for (const job of config.jobs) {
      for (const sd of job.fileSd) {
        const watcher = new FileTargetWatcher(
          sd,
          () => this.changed(),
          (p) => onProblem({ ...p, job: job.name }),
        );
        this.watchers.push({ job, watcher });
      }
    }
  }

  /** Reads every target file once and starts watching them; resolves with the targets found. */
  async start(): Promise<Target[]> {
    await Promise.all(this.watchers.map((w) => w.watcher.start()));
    this.started = true;
    return this.targets();
  }

  /** The current targets, in config order, each once. */
  targets(): Target[] {
    const seen = new Set<string>();
    const out: Target[] = [];
    for (const job of this.config.jobs) {
      const groups = [...job.staticGroups, ...this.watchers.filter((w) => w.job === job).flatMap((w) => w.watcher.groups())];
      for (const t of targetsOfGroups(job, groups)) {
        const key = targetKey(t);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(t);
      }
    }
    return out;
  }

  /** Target files that could not be used at their last read (their last good targets are still scraped). */
  errors(): DiscoveryError[] {
    return this.watchers.flatMap(({ job, watcher }) => watcher.errors().map((e) => ({ ...e, job: job.name })));
  }

  /** Re-reads every target file now (tests; SIGHUP-style refreshes). */
  async reload(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.watcher.reload()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.watcher.stop()));
  }

  private changed(): void {
    if (this.started) this.onChange(this.targets());
  }
}
