import { IngestError } from '../ingest/errors.js';
import type { IngestedProfile } from '../ingest/record.js';
import { backoffDelay, FIRST_SCRAPE_WINDOW_MS, nextGridTime, scrapePhase } from './backoff.js';
import { collectProfile } from './collect.js';
import { FetchError } from './fetcher.js';
import type { TargetState } from './health.js';
import type { ScrapeSlots } from './slots.js';
import { targetKey } from './target.js';

/** Stores one scraped profile (the ingest pipeline) and returns its id. */
export type ProfileSink = (profile: IngestedProfile) => Promise<{ id: string }>;

/** Where the scraper reports what a person running the server should see (pino's shape). */
export interface ScrapeLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface TargetLoopDeps {
  slots: ScrapeSlots;
  sink: ProfileSink;
  log: ScrapeLog;
  /** A number in [0, 1) for the backoff's jitter. */
  random: () => number;
}

/**
 * Scrapes one target on its own timer, so a slow or dead target never delays another: the
 * first scrape within a few seconds, then one every interval at the target's own phase (from a
 * hash of its key; a scrape that overruns skips the grid points it missed, never runs twice at
 * once); after a failure the next one waits the backoff instead (the interval,
 * doubled per failure in a row, up to the job's max_backoff). Every scrape holds a slot of
 * the shared bound while it runs. stop() clears the timer, aborts a scrape in flight (its
 * requests and its wait for a slot) and resolves once it has ended.
 */
export class TargetLoop {
  private timer: NodeJS.Timeout | null = null;
  private readonly abort = new AbortController();
  private running: Promise<void> | null = null;
  private stopped = false;
  /** A point of the target's grid: successful scrapes start at anchor plus whole intervals. */
  private anchor = 0;

  constructor(
    readonly state: TargetState,
    private readonly deps: TargetLoopDeps,
  ) {}

  start(): void {
    const now = Date.now();
    const { job, target } = this.state;
    const phase = scrapePhase(targetKey(target), job.intervalMs);
    this.anchor = now + phase;
    // The first scrape soon (within FIRST_SCRAPE_WINDOW_MS, by the same hash); the later ones on
    // the target's own phase of the interval.
    this.scheduleAt(now + (phase % Math.min(job.intervalMs, FIRST_SCRAPE_WINDOW_MS)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.state.nextScrapeAt = null;
    this.abort.abort(new FetchError('aborted', 'the scrape was stopped'));
    await this.running;
  }

  private scheduleAt(at: number): void {
    if (this.stopped) return;
    this.state.nextScrapeAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.running = this.scrape().finally(() => {
          this.running = null;
        });
      },
      Math.max(0, at - Date.now()),
    );
  }

  private async scrape(): Promise<void> {
    const { state, deps } = this;
    const { job, target } = state;
    let release: (() => void) | null = null;
    try {
      release = await deps.slots.acquire(this.abort.signal);
    } catch {
      return; // stopped while waiting
    }
    state.scraping = true;
    // Not known until this scrape ends (the backoff depends on how it ends).
    state.nextScrapeAt = null;
    const started = Date.now();
    let failure: { reason: string; message: string } | null = null;
    try {
      const { profile, warnings } = await collectProfile(job, target, this.abort.signal);
      if (this.stopped) return;
      const stored = await deps.sink(profile);
      const wasDown = state.health === 'down';
      state.succeeded(Date.now(), Date.now() - started, stored.id, warnings);
      if (wasDown) deps.log.info({ job: job.name, instance: target.address }, 'scrape target is up again');
    } catch (err) {
      if (this.stopped) return;
      failure = describeFailure(err);
      const previous = state.lastErrorReason;
      state.failed(Date.now(), Date.now() - started, failure.reason, failure.message);
      // One line when a target goes down or fails differently, not one per attempt.
      if (previous !== failure.reason) {
        deps.log.warn({ job: job.name, instance: target.address, reason: failure.reason, error: failure.message }, 'scrape failed');
      }
    } finally {
      state.scraping = false;
      release();
    }
    const now = Date.now();
    if (failure !== null) {
      this.scheduleAt(now + backoffDelay(state.consecutiveFailures, job.intervalMs, job.maxBackoffMs, deps.random()));
      return;
    }
    const next = nextGridTime(this.anchor, job.intervalMs, now);
    this.scheduleAt(next);
  }
}

/** Returns the reason (the /metrics label) and the message of a failed scrape. */
function describeFailure(err: unknown): { reason: string; message: string } {
  if (err instanceof FetchError) return { reason: err.reason, message: err.message };
  if (err instanceof IngestError) return { reason: 'ingest', message: `the target's answer was not stored: ${err.message}` };
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return { reason: 'ingest', message: "the profile was not stored: the data directory's disk is full" };
  return { reason: 'ingest', message: `the profile was not stored: ${(err as Error)?.message ?? String(err)}` };
}
