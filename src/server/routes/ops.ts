import type { FastifyPluginAsync } from 'fastify';
import type { Access } from '../access.js';
import { PUBLIC, type RouteContext } from './context.js';

/** /healthz (public) and /metrics in Prometheus text format (profiles_read, or public with --public-metrics). */
export const opsRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  app.get('/healthz', PUBLIC, async () => ({ status: 'ok' }));

  const access: Access = ctx.publicMetrics ? 'public' : 'profiles_read';
  app.get('/metrics', { config: { access } }, async (_req, reply) => {
    const gauges = [
      { name: 'hotpath_store_profiles', help: 'Profiles in the index.', value: await ctx.store.index.count() },
      { name: 'hotpath_intake_in_flight', help: 'Intake requests reading or processing their body.', value: ctx.gate.inFlight },
      { name: 'hotpath_intake_queued', help: 'Intake requests waiting for a slot.', value: ctx.gate.queued },
    ];
    if (ctx.storeBytes) {
      gauges.push({ name: 'hotpath_store_blob_bytes', help: 'Bytes held by the blob store.', value: await ctx.storeBytes() });
    }
    const scrape = ctx.scrape?.renderMetrics() ?? '';
    return reply.type('text/plain; version=0.0.4').send(ctx.metrics.render(gauges) + scrape);
  });
};
