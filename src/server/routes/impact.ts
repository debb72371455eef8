import type { FastifyPluginAsync } from 'fastify';
import type { ImpactJson } from '../../api/types.js';
import { AttachmentReader } from '../../flame/profile-views.js';
import { CLIENT_METRICS_ATTACHMENT, MAX_CLIENT_METRICS_BYTES, parseClientMetrics } from '../../impact/client-metrics.js';
import { cpuByEndpoint } from '../../impact/profile-figures.js';
import { type ImpactSideInput, impactReport } from '../../impact/report.js';
import { type ResourceFigures, resourceFigures } from '../../impact/resource-figures.js';
import { decompressAsync } from '../../pprof/compression.js';
import { QuerySyntaxError } from '../../query/errors.js';
import { BlobRangeError } from '../../store/errors.js';
import type { ProfileStore } from '../../store/store.js';
import type { ProfileRecord } from '../../store/types.js';
import { HttpError } from '../http-error.js';
import { integerSchema, querySchema, TEXT } from '../query-schema.js';
import { parseWindow } from '../time-params.js';
import { PROFILES_READ, type RouteContext } from './context.js';

/** Most profiles per side (index rows only: CPU and counts are in the row, nothing is decoded for the overall figures). */
export const MAX_IMPACT_PROFILES = 2000;
const DEFAULT_IMPACT_PROFILES = 500;
/**
 * Most CPU profiles per side decoded for the per-endpoint rows (the newest with request counts):
 * the only part of the report that reads blobs, so the one bounded tightly.
 */
export const MAX_ENDPOINT_DECODES = 24;
/** dd-trace-go's CPU profile attachment, the one carrying the `trace endpoint` label. */
const CPU_ATTACHMENT = 'cpu.pprof';
/** The attachments the regression guard reads (dd-trace-go's names), and the value column of each. */
const HEAP_ATTACHMENTS = ['delta-heap.pprof', 'heap.pprof'];
const GOROUTINE_ATTACHMENT = 'goroutines.pprof';
/** Most heap and goroutine profiles per side decoded for the regression guard (the newest). */
export const MAX_GUARD_DECODES = 24;

interface ImpactQuery {
  before?: string;
  after?: string;
  from?: string;
  to?: string;
  limit: number;
}

const IMPACT_QUERY = querySchema({
  before: TEXT,
  after: TEXT,
  from: TEXT,
  to: TEXT,
  limit: integerSchema(1, MAX_IMPACT_PROFILES, DEFAULT_IMPACT_PROFILES),
});

async function selectSide(
  store: ProfileStore,
  reader: AttachmentReader,
  side: 'before' | 'after',
  query: string,
  window: { from: number; to: number },
  limit: number,
  notes: string[],
): Promise<ImpactSideInput> {
  let records: ProfileRecord[];
  try {
    records = await store.search({ query, from: window.from, to: window.to, limit, sort: '-start' });
  } catch (err) {
    if (err instanceof QuerySyntaxError) {
      throw new HttpError(400, 'query', `${side}: query: ${err.message}`, { details: { column: err.column, side } });
    }
    throw err;
  }
  if (records.length === 0) notes.push(`${side}: no profiles match ${JSON.stringify(query)} in the window.`);
  if (records.length === limit)
    notes.push(`${side}: the newest ${limit} matching profiles were used (the limit); narrow the window to use others.`);
  const endpointCpu = new Map<string, Map<string, number>>();
  const decodable = records.filter(
    (r) => r.endpointCounts !== null && r.cpuCores !== null && !r.rawDeleted && r.attachments.some((a) => a.name === CPU_ATTACHMENT),
  );
  const chosen = decodable.slice(0, MAX_ENDPOINT_DECODES);
  let unreadable = 0;
  for (const r of chosen) {
    const p = await reader.read(r, CPU_ATTACHMENT);
    if ('reason' in p) unreadable++;
    else endpointCpu.set(r.id, cpuByEndpoint(p));
  }
  if (decodable.length > chosen.length) {
    notes.push(`${side}: per-endpoint rows use the newest ${chosen.length} of ${decodable.length} profiles with request counts.`);
  }
  if (unreadable > 0) notes.push(`${side}: ${unreadable} CPU profiles could not be read for the per-endpoint rows.`);
  const heap: ResourceFigures[] = [];
  const goroutines: ResourceFigures[] = [];
  const readFigures = async (r: ProfileRecord, name: string, type: string, unit: string, into: ResourceFigures[]) => {
    const p = await reader.read(r, name);
    if ('reason' in p) return;
    const f = resourceFigures(p, type, unit);
    if (f !== null) into.push(f);
  };
  const clientMetrics: Array<Map<string, number>> = [];
  let badMetrics = 0;
  for (const r of records.filter((x) => !x.rawDeleted).slice(0, MAX_GUARD_DECODES)) {
    const heapName = HEAP_ATTACHMENTS.find((n) => r.attachments.some((a) => a.name === n));
    if (heapName !== undefined) await readFigures(r, heapName, 'inuse_space', 'bytes', heap);
    if (r.attachments.some((a) => a.name === GOROUTINE_ATTACHMENT))
      await readFigures(r, GOROUTINE_ATTACHMENT, 'goroutine', 'count', goroutines);
    const metrics = r.attachments.find((a) => a.name === CLIENT_METRICS_ATTACHMENT);
    if (metrics !== undefined) {
      const m = await readClientMetrics(store, metrics.blobKey);
      if (m === null) badMetrics++;
      else clientMetrics.push(m);
    }
  }
  if (badMetrics > 0) notes.push(`${side}: ${badMetrics} metrics.json attachments could not be read; the guard leaves them out.`);
  return { query, records, endpointCpu, heap, goroutines, clientMetrics };
}

/** The figures of one stored metrics.json, or null when it is missing, too large or not the client's format. */
async function readClientMetrics(store: ProfileStore, blobKey: string): Promise<Map<string, number> | null> {
  const bytes = await store.readBlob(blobKey).catch((err: unknown) => {
    // A damaged pack counts as an unreadable metrics.json; an unavailable store still fails the request.
    if (err instanceof BlobRangeError) return null;
    throw err;
  });
  if (bytes === null) return null;
  try {
    return parseClientMetrics(await decompressAsync(bytes, MAX_CLIENT_METRICS_BYTES));
  } catch {
    return null;
  }
}

/**
 * GET /api/v1/impact?before=QUERY&after=QUERY&from=&to=&limit=: the impact report of two
 * selections (see impact/report.ts), e.g. `service:x env:prod pgo:false` against `pgo:true`.
 * Bounded work: at most `limit` index rows per side, at most MAX_ENDPOINT_DECODES CPU profiles
 * and MAX_GUARD_DECODES heap and goroutine profiles and metrics.json files per side decoded (each
 * within the server's decompression limit; metrics.json within MAX_CLIENT_METRICS_BYTES).
 */
export const impactRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  app.get<{ Querystring: ImpactQuery }>('/api/v1/impact', { ...PROFILES_READ, schema: { querystring: IMPACT_QUERY } }, async (req) => {
    const q = req.query;
    for (const side of ['before', 'after'] as const) {
      if (q[side] === undefined || q[side].trim() === '') {
        throw new HttpError(
          400,
          'bad_parameter',
          `give "${side}": the search query of the profiles ${side} the change, e.g. "service:shop env:prod pgo:${side === 'after'}"`,
        );
      }
    }
    const window = parseWindow(q, 'now-72h');
    const reader = new AttachmentReader(ctx.store, ctx.limits.maxDecompressedBytes);
    const notes: string[] = [];
    const before = await selectSide(ctx.store, reader, 'before', q.before as string, window, q.limit, notes);
    const after = await selectSide(ctx.store, reader, 'after', q.after as string, window, q.limit, notes);
    const answer: ImpactJson = impactReport({
      from: new Date(window.from).toISOString(),
      to: new Date(window.to).toISOString(),
      before,
      after,
      notes,
    });
    return answer;
  });
};
