import type { TargetHealth, TargetJson } from '../api/types.js';
import { pprofUrl } from './collect.js';
import type { ScrapeJob } from './config.js';
import type { Target } from './target.js';

/**
 * What is known about one target's scrapes: the last one's time, duration and error, the
 * failures in a row (which drive the backoff), when the next one starts, and counts for
 * /metrics. Kept as long as the target is configured.
 */
export class TargetState {
  health: TargetHealth = 'unknown';
  scraping = false;
  lastScrapeAt: number | null = null;
  lastDurationMs: number | null = null;
  lastError: string | null = null;
  lastErrorReason: string | null = null;
  consecutiveFailures = 0;
  nextScrapeAt: number | null = null;
  lastProfileId: string | null = null;
  profilesStored = 0;
  /** Failed scrapes by reason, since the target was added. */
  readonly failuresByReason = new Map<string, number>();

  constructor(
    readonly job: ScrapeJob,
    readonly target: Target,
  ) {}

  succeeded(at: number, durationMs: number, profileId: string, warnings: readonly string[]): void {
    this.health = 'up';
    this.lastScrapeAt = at;
    this.lastDurationMs = durationMs;
    this.lastError = warnings.length === 0 ? null : warnings.join('; ');
    this.lastErrorReason = null;
    this.consecutiveFailures = 0;
    this.lastProfileId = profileId;
    this.profilesStored++;
  }

  failed(at: number, durationMs: number, reason: string, message: string): void {
    this.health = 'down';
    this.lastScrapeAt = at;
    this.lastDurationMs = durationMs;
    this.lastError = message;
    this.lastErrorReason = reason;
    this.consecutiveFailures++;
    this.failuresByReason.set(reason, (this.failuresByReason.get(reason) ?? 0) + 1);
  }

  toJson(): TargetJson {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      job: this.job.name,
      instance: this.target.address,
      url: pprofUrl(this.job, this.target, 'profile', `?seconds=${this.job.profileSeconds}`).href,
      labels: { ...this.target.labels },
      source: this.target.source,
      health: this.health,
      scraping: this.scraping,
      lastScrape: iso(this.lastScrapeAt),
      lastDurationSeconds: this.lastDurationMs === null ? null : this.lastDurationMs / 1000,
      lastError: this.lastError,
      lastErrorReason: this.lastErrorReason,
      consecutiveFailures: this.consecutiveFailures,
      nextScrape: iso(this.nextScrapeAt),
      lastProfileId: this.lastProfileId,
      profilesStored: this.profilesStored,
      intervalSeconds: this.job.intervalMs / 1000,
      profileSeconds: this.job.profileSeconds,
    };
  }
}
