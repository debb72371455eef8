import type { FastifyPluginAsync } from 'fastify';
import type { TargetsJson } from '../../api/types.js';
import { querySchema, TEXT } from '../query-schema.js';
import { PROFILES_READ, type RouteContext } from './context.js';

/** The answer of a server started without --scrape: no targets, and a flag the UI explains. */
const NOT_SCRAPING: TargetsJson = { scraping: false, configFile: null, targets: [], discoveryErrors: [] };

/**
 * GET /api/v1/targets: every net/http/pprof target of `hotpath serve --scrape` with its health
 * (last scrape, duration, error, failures in a row, next scrape), optionally only those of
 * `job`, and the target files that could not be used.
 */
export const targetRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const schema = { querystring: querySchema({ job: TEXT }) };
  app.get<{ Querystring: { job?: string } }>('/api/v1/targets', { ...PROFILES_READ, schema }, async (req) => {
    const all = ctx.scrape?.targets() ?? NOT_SCRAPING;
    const job = req.query.job;
    if (job === undefined || job === '') return all;
    const answer: TargetsJson = {
      ...all,
      targets: all.targets.filter((t) => t.job === job),
      discoveryErrors: all.discoveryErrors.filter((e) => e.job === job),
    };
    return answer;
  });
};
