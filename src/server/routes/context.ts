import type { ScrapeStatus } from '../../scrape/scraper.js';
import type { KeyStore } from '../../store/keys.js';
import type { ProfileStore } from '../../store/store.js';
import type { IntakeGate } from '../intake-gate.js';
import type { ServerLimits } from '../limits.js';
import type { ServerMetrics } from '../metrics.js';

/** What every route plugin is given: the store, the limits and the app's shared counters. */
export interface RouteContext {
  store: ProfileStore;
  keys: KeyStore;
  limits: ServerLimits;
  metrics: ServerMetrics;
  gate: IntakeGate;
  /** Serve /metrics without a key (--public-metrics). */
  publicMetrics: boolean;
  /** The blob store's size, for /metrics. */
  storeBytes?: () => Promise<number>;
  /** The scrape targets' health (hotpath serve --scrape), for /api/v1/targets and /metrics. */
  scrape?: ScrapeStatus;
}

/** Route options for each access level (see access.ts): every route says who may call it. */
export const INTAKE = { config: { access: 'intake' } } as const;
export const PROFILES_READ = { config: { access: 'profiles_read' } } as const;
export const PGO_READ = { config: { access: 'pgo_read' } } as const;
export const PUBLIC = { config: { access: 'public' } } as const;

/** A file name safe in a Content-Disposition header: anything but letters, digits and ._- becomes _. */
export function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}
