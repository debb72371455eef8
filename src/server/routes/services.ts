import type { FastifyPluginAsync } from 'fastify';
import type { ServicesJson } from '../../api/types.js';
import { querySchema, TEXT } from '../query-schema.js';
import { parseWindow } from '../time-params.js';
import { PROFILES_READ, type RouteContext } from './context.js';

/**
 * GET /api/v1/services: every service seen in the window (last 7 days by default) with its PGO
 * adoption; a service whose newest profile says pgo:false runs a build without PGO and is flagged.
 */
export const serviceRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const schema = { querystring: querySchema({ from: TEXT, to: TEXT }) };
  app.get<{ Querystring: { from?: string; to?: string } }>('/api/v1/services', { ...PROFILES_READ, schema }, async (req) => {
    const { from, to } = parseWindow(req.query, 'now-7d');
    const services = await ctx.store.index.services(from, to);
    const answer: ServicesJson = {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      services: services.map((s) => ({ ...s, withoutPgo: s.latestPgo === false })),
    };
    return answer;
  });
};
