import type { FastifyPluginAsync } from 'fastify';
import type { ProfileJson, ProfileListJson, ProfileOrigin } from '../../api/types.js';
import { parseQuery } from '../../query/parse.js';
import { PROFILE_SORTS, type ProfileSort } from '../../store/profile-index.js';
import type { ProfileRecord } from '../../store/types.js';
import { HttpError } from '../http-error.js';
import { integerSchema, oneOf, querySchema, TEXT } from '../query-schema.js';
import { parseWindow } from '../time-params.js';
import { PGO_READ, PROFILES_READ, type RouteContext, safeFileName } from './context.js';

/** Largest `offset` of a profile search: far beyond any index, small enough for SQLite. */
const MAX_OFFSET = 1_000_000_000;

interface SearchQuery {
  query?: string;
  from?: string;
  to?: string;
  limit: number;
  offset: number;
  sort?: ProfileSort;
}

/** Matches counted exactly for `total`; beyond this (or the end of the requested page) it is a lower bound. */
export const TOTAL_COUNTED = 10_000;

const SEARCH_QUERY = querySchema({
  query: TEXT,
  from: TEXT,
  to: TEXT,
  limit: integerSchema(1, 1000, 50),
  offset: integerSchema(0, MAX_OFFSET, 0),
  sort: oneOf(PROFILE_SORTS),
});

/** Just the origin fields of a record, in their order, so that nothing else of the record leaks into an answer. */
function originOf(r: ProfileOrigin): ProfileOrigin {
  const { protocol, service, env, version, host, runtime, pgo, cpuCores } = r;
  return { protocol, service, env, version, host, runtime, pgo, cpuCores };
}

/** The JSON form of a profile for the API: times as RFC 3339, blob keys left out. */
export function publicRecord(r: ProfileRecord): ProfileJson {
  return {
    id: r.id,
    start: new Date(r.start).toISOString(),
    end: new Date(r.end).toISOString(),
    received: new Date(r.receivedAt).toISOString(),
    ...originOf(r),
    samples: r.sampleCount,
    durationNanos: r.durationNanos,
    tags: r.tags.map(([k, v]) => `${k}:${v}`),
    attachments: r.attachments.map((a) => ({ name: a.name, size: a.size, compression: a.compression })),
    rawDeleted: r.rawDeleted,
    endpointCounts: r.endpointCounts,
  };
}

/**
 * Stored profiles: GET /api/v1/profiles (search a window, paged and sorted), one profile's
 * record, one of its attachments as received, and its trimmed PGO form.
 */
export const profileRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  app.get<{ Querystring: SearchQuery }>('/api/v1/profiles', { ...PROFILES_READ, schema: { querystring: SEARCH_QUERY } }, async (req) => {
    const q = req.query;
    const { from, to } = parseWindow(q, 'now-72h');
    // Parsed once for both calls (a syntax error is a 400 with its column).
    const query = parseQuery(q.query ?? '');
    // Counting every match of a broad query over millions of rows costs more than the page: count
    // up to the end of this page or TOTAL_COUNTED, whichever is further, and say when there are more.
    const cap = Math.max(TOTAL_COUNTED, (q.offset ?? 0) + q.limit) + 1;
    const searching = ctx.store.search({ query, from, to, limit: q.limit, offset: q.offset, sort: q.sort ?? '-start' });
    // A page that is not full and not past the end holds the last match: the count is known
    // without counting. Where index calls run inline, wait for the page before deciding to count
    // (a selective query then costs one search, not two); elsewhere count beside the search.
    const counting = ctx.store.index.callsRunInline ? null : ctx.store.index.countMatching({ query, from, to }, cap);
    const profiles = await searching;
    const offset = q.offset ?? 0;
    const lastPage = profiles.length < q.limit && (profiles.length > 0 || offset === 0);
    if (lastPage) counting?.catch(() => {});
    const counted = lastPage ? offset + profiles.length : await (counting ?? ctx.store.index.countMatching({ query, from, to }, cap));
    const answer: ProfileListJson = {
      profiles: profiles.map(publicRecord),
      total: Math.min(counted, cap - 1),
      totalExact: counted < cap,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
    };
    return answer;
  });

  app.get<{ Params: { id: string } }>('/api/v1/profiles/:id', PROFILES_READ, async (req) => {
    const { id } = req.params;
    const record = await ctx.store.getProfile(id);
    if (!record) throw new HttpError(404, 'not_found', `no profile with id ${id}`);
    return publicRecord(record);
  });

  app.get<{ Params: { id: string; name: string } }>('/api/v1/profiles/:id/attachments/:name', PROFILES_READ, async (req, reply) => {
    const { id, name } = req.params;
    const found = await ctx.store.readAttachment(id, name);
    if (!found) throw new HttpError(404, 'not_found', `profile ${id} has no attachment ${name} (unknown, or deleted by retention)`);
    return reply
      .type('application/octet-stream')
      .header('content-disposition', `attachment; filename="${safeFileName(name)}"`)
      .send(Buffer.from(found.bytes.buffer, found.bytes.byteOffset, found.bytes.byteLength));
  });

  app.get<{ Params: { id: string } }>('/api/v1/profiles/:id/pgo', PGO_READ, async (req, reply) => {
    const { id } = req.params;
    const bytes = await ctx.store.readPgo(id);
    if (!bytes) throw new HttpError(404, 'not_found', `profile ${id} has no PGO form (unknown, or no CPU profile)`);
    return reply.type('application/octet-stream').send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
};
