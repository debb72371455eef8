import type { FastifyPluginAsync } from 'fastify';
import type { TimelineJson, TimelineSplit } from '../../api/types.js';
import { bucketCount, buildTimeline, MAX_TIMELINE_BUCKETS } from '../../flame/timeline.js';
import { durationMs } from '../../time/parse-time.js';
import { HttpError } from '../http-error.js';
import { integerSchema, oneOf, querySchema, TEXT } from '../query-schema.js';
import { parseWindow } from '../time-params.js';
import { PROFILES_READ, type RouteContext } from './context.js';

/** Most profiles one timeline reads from the index (records only, no profile bytes), and the default. */
const MAX_PROFILES = 50_000;
const DEFAULT_PROFILES = 10_000;
/** Buckets an automatic step aims for: enough for a chart's width, few enough to read per bucket. */
const AUTO_BUCKETS = 120;
/** The steps an automatic step rounds up to, so bucket edges fall on round times. */
const NICE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 604_800].map(
  (s) => s * 1000,
);

interface TimelineQuery {
  query?: string;
  from?: string;
  to?: string;
  step?: string;
  split?: TimelineSplit;
  limit: number;
}

const TIMELINE_QUERY = querySchema({
  query: TEXT,
  from: TEXT,
  to: TEXT,
  step: TEXT,
  split: oneOf(['version', 'pgo']),
  limit: integerSchema(1, MAX_PROFILES, DEFAULT_PROFILES),
});

/** A duration as a user would type it back: the largest unit that states it exactly. */
export function formatStep(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** The smallest round step giving at most AUTO_BUCKETS buckets over `span` ms. */
function autoStep(span: number): number {
  const wanted = span / AUTO_BUCKETS;
  for (const s of NICE_STEPS) if (s >= wanted) return s;
  // Windows over about two years: whole weeks, still within the bucket limit.
  return Math.ceil(wanted / NICE_STEPS[NICE_STEPS.length - 1]) * NICE_STEPS[NICE_STEPS.length - 1];
}

/**
 * Returns the step in ms: `step` as a duration (`30s`, `5m`, `1h`), or a round step giving about
 * AUTO_BUCKETS buckets. Refuses a malformed step, one under 1 ms, and one that would make more
 * than MAX_TIMELINE_BUCKETS buckets, naming the smallest step that fits.
 */
export function timelineStep(step: string | undefined, span: number): number {
  if (step === undefined || step === '' || step === 'auto') return autoStep(span);
  const ms = durationMs(step);
  if (ms === null || !Number.isInteger(ms) || ms < 1) {
    throw new HttpError(
      400,
      'bad_parameter',
      `"step" must be a duration of whole milliseconds like 30s, 5m or 1h (or auto), got ${JSON.stringify(step)}`,
    );
  }
  const buckets = bucketCount(0, span, ms);
  if (buckets > MAX_TIMELINE_BUCKETS) {
    // Rounded up to a whole number of the largest unit it reaches, so the suggestion is a step people type.
    const smallest = Math.ceil(span / MAX_TIMELINE_BUCKETS);
    const unit = [86_400_000, 3_600_000, 60_000, 1000, 1].find((u) => smallest >= u) ?? 1;
    const suggestion = Math.ceil(smallest / unit) * unit;
    throw new HttpError(
      400,
      'bad_parameter',
      `"step" ${step} makes ${buckets.toLocaleString('en')} buckets over this window; the most is ${MAX_TIMELINE_BUCKETS.toLocaleString('en')}: use a step of at least ${formatStep(suggestion)}, or leave it out for an automatic one`,
    );
  }
  return ms;
}

/**
 * GET /api/v1/timeline: CPU cores over time (and CPU per request where dd-trace-go sent endpoint
 * counts) of the profiles a query matches, in buckets, one series per version or pgo value, with
 * markers where a version or the pgo flag first appears. Read from the index alone, so it is
 * cheap for long windows; at most `limit` profiles, the newest, and the answer says when there
 * were more.
 */
export const timelineRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  app.get<{ Querystring: TimelineQuery }>(
    '/api/v1/timeline',
    { ...PROFILES_READ, schema: { querystring: TIMELINE_QUERY } },
    async (req): Promise<TimelineJson> => {
      const q = req.query;
      const { from, to } = parseWindow(q, 'now-24h');
      if (!(to > from)) {
        throw new HttpError(
          400,
          'bad_parameter',
          `"from" must be before "to", got ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`,
        );
      }
      const step = timelineStep(q.step, to - from);
      const split = q.split ?? 'version';
      const query = q.query ?? '';
      // A bad query rejects with QuerySyntaxError, which the app answers 400 with its column.
      const records = await ctx.store.search({ query, from, to, limit: q.limit, sort: '-start' });
      const matched = records.length < q.limit ? records.length : await ctx.store.index.countMatching({ query, from, to });
      const timeline = buildTimeline(records, { from, to, step, split });
      return {
        query,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        fromMs: from,
        toMs: to,
        stepMs: step,
        buckets: timeline.buckets,
        split,
        series: timeline.series,
        markers: timeline.markers,
        totals: timeline.totals,
        profiles: { matched, used: records.length, withCpu: timeline.withCpu, withRequests: timeline.withRequests },
        complete: matched <= records.length,
      };
    },
  );
};
