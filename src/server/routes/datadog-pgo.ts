import type { FastifyPluginAsync, FastifySchemaValidationError } from 'fastify';
import type { DatadogProfileListJson } from '../../api/types.js';
import { type PgoQuery, selectProfiles, withGoRuntime } from '../../pgo/select.js';
import { fromDatadogQuery } from '../../query/datadog.js';
import type { ProfileSort } from '../../store/profile-index.js';
import type { ProfileRecord } from '../../store/types.js';
import { parseTimeWindow } from '../../time/parse-time.js';
import { HttpError } from '../http-error.js';
import { describeSchemaError, TEXT } from '../query-schema.js';
import { writeZip, ZipLimitError } from '../zip.js';
import { PGO_READ, type RouteContext } from './context.js';

/** Queries in one request, and profiles per query: as POST /api/v1/pgo allows. */
const MAX_QUERIES = 20;
const MAX_PROFILES_PER_QUERY = 50;
/** Largest request body (a few queries of JSON). */
const REQUEST_BODY_LIMIT = 1024 * 1024;
/** Largest zip answered: the selected PGO forms are read into memory to build it. */
export const MAX_ZIP_BYTES = 128 * 1024 * 1024;

/** Options of the datadog-pgo routes beyond the app's context. */
export interface DatadogPgoOptions {
  /** Largest zip answered (default MAX_ZIP_BYTES); a selection over it is refused with 422. */
  maxZipBytes?: number;
}

/** The sort fields datadog-pgo may send, and the order each names in our store. */
const SORT_FIELDS: Readonly<Record<string, { asc: ProfileSort; desc: ProfileSort }>> = {
  '@metrics.core_cpu_cores': { asc: 'cpu', desc: '-cpu' },
  timestamp: { asc: 'start', desc: '-start' },
};

/** One query of datadog-pgo's request (its SearchQuery): a filter, a sort and a limit. */
interface DatadogSearchQuery {
  filter: { query: string; from?: string; to?: string };
  sort?: { order?: 'asc' | 'desc'; field?: string };
  limit: number;
}

const SEARCH_QUERY = {
  type: 'object',
  required: ['filter'],
  properties: {
    filter: {
      type: 'object',
      required: ['query'],
      properties: { query: TEXT, from: TEXT, to: TEXT },
    },
    sort: {
      type: 'object',
      properties: {
        order: { type: 'string', enum: ['asc', 'desc'] },
        field: { type: 'string', enum: Object.keys(SORT_FIELDS) },
      },
    },
    limit: { type: 'integer', minimum: 1, maximum: MAX_PROFILES_PER_QUERY, default: 5 },
  },
} as const;

const GOPGO_BODY = {
  type: 'object',
  required: ['queries'],
  properties: { queries: { type: 'array', minItems: 1, maxItems: MAX_QUERIES, items: SEARCH_QUERY } },
} as const;

const DOWNLOAD_QUERY = { type: 'object', properties: { eventId: TEXT } } as const;

function badRequest(message: string): HttpError {
  return new HttpError(400, 'bad_request', `bad datadog-pgo request: ${message}`);
}

/** A body refused by its schema: `bad datadog-pgo request: "queries[0].limit" must be <= 50`. */
function bodyErrorFormatter(errors: FastifySchemaValidationError[], dataVar: string): Error {
  return dataVar === 'body'
    ? badRequest(describeSchemaError(errors[0]))
    : new HttpError(400, 'bad_parameter', describeSchemaError(errors[0]));
}

/** The store order a query's sort names; datadog-pgo sends CPU cores, descending. */
function sortOf(q: DatadogSearchQuery): ProfileSort {
  const field = SORT_FIELDS[q.sort?.field ?? '@metrics.core_cpu_cores'];
  return field[q.sort?.order ?? 'desc'];
}

/** A datadog-pgo query as our selection reads it: Datadog's query habits translated (see query/datadog.ts). */
function pgoQuery(q: DatadogSearchQuery): PgoQuery {
  return { query: fromDatadogQuery(q.filter.query), from: q.filter.from ?? 'now-72h', to: q.filter.to ?? 'now', limit: q.limit };
}

/**
 * datadog-pgo's endpoints (DataDog/datadog-pgo, client.go), so its CI steps can point at Hotpath:
 * - POST /api/unstable/profiles/gopgo, what it calls: `{queries: [{filter: {query, from, to},
 *   sort: {order, field}, limit}]}` answered by a zip with one pprof per selected profile, named
 *   by the profile id (datadog-pgo uses the names in its debug query). Each is the profile's
 *   stored PGO form, the bytes POST /api/v1/pgo merges, so merging the zip gives the same
 *   default.pgo (before the safety renames) and the answer holds for as long as PGO forms are
 *   kept, beyond the raw retention;
 * - POST /api/unstable/profiles/list and GET /api/ui/profiling/profiles/:id/download, the
 *   search-then-download pair of its older code path: the list as Datadog's JSON, the download
 *   as a zip holding `cpu.pprof`.
 * All need an application key with pgo_read (DD-APPLICATION-KEY). Queries are bounded (20 per
 * request, limit 1 to 50) and so is the zip (MAX_ZIP_BYTES); a sort we cannot honour is refused
 * with 400 naming it. Selection is POST /api/v1/pgo's: runtime:go added, profiles without a CPU
 * profile skipped, 404 when nothing matches.
 */
export const datadogPgoRoutes: FastifyPluginAsync<RouteContext & DatadogPgoOptions> = async (app, ctx) => {
  const maxZipBytes = ctx.maxZipBytes ?? MAX_ZIP_BYTES;
  // datadog-pgo labels its body application/json; other clients label it variously.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body === '' ? '{}' : (body as string)));
    } catch (err) {
      done(badRequest(`the body is not JSON: ${(err as Error).message}`), undefined);
    }
  });

  app.post<{ Body: { queries: DatadogSearchQuery[] } }>(
    '/api/unstable/profiles/gopgo',
    { ...PGO_READ, bodyLimit: REQUEST_BODY_LIMIT, schema: { body: GOPGO_BODY }, schemaErrorFormatter: bodyErrorFormatter },
    async (req, reply) => {
      // Each query is a search of its own, in its own order; 404 naming them when none matches.
      const { selected } = await selectProfiles(ctx.store, req.body.queries.map(pgoQuery), { sorts: req.body.queries.map(sortOf) });
      const ids = [...selected.keys()].sort();
      const entries = await readForms(
        ctx,
        ids.map((id) => selected.get(id) as ProfileRecord),
        maxZipBytes,
      );
      return reply
        .type('application/zip')
        .header('content-disposition', 'attachment; filename="profiles.zip"')
        .header('x-hotpath-profile-ids', entries.map((e) => e.name).join(','))
        .send(zipOrRefuse(entries, maxZipBytes));
    },
  );

  app.post<{ Body: DatadogSearchQuery }>(
    '/api/unstable/profiles/list',
    { ...PGO_READ, bodyLimit: REQUEST_BODY_LIMIT, schema: { body: SEARCH_QUERY }, schemaErrorFormatter: bodyErrorFormatter },
    async (req) => {
      const q = pgoQuery(req.body);
      const { from, to } = parseTimeWindow(q, 'now-72h');
      const found = await ctx.store.search({ query: withGoRuntime(q.query), from, to, limit: q.limit, sort: sortOf(req.body) });
      const answer: DatadogProfileListJson = {
        data: found
          .filter((r) => r.pgoBlobKey !== null)
          .map((r) => ({
            type: 'profile',
            id: r.id,
            attributes: {
              id: r.id,
              service: r.service,
              env: r.env,
              version: r.version,
              timestamp: new Date(r.start).toISOString(),
              duration_nanos: r.durationNanos,
              custom: { metrics: { core_cpu_cores: r.cpuCores ?? 0 } },
            },
          })),
      };
      return answer;
    },
  );

  app.get<{ Params: { id: string }; Querystring: { eventId?: string } }>(
    '/api/ui/profiling/profiles/:id/download',
    { ...PGO_READ, schema: { querystring: DOWNLOAD_QUERY } },
    async (req, reply) => {
      const { id } = req.params;
      // The list answers the profile id as the event id too; another event id names nothing here.
      const eventId = req.query.eventId;
      const record = eventId === undefined || eventId === '' || eventId === id ? await ctx.store.getProfile(id) : null;
      const form = record === null ? null : await ctx.store.readPgoOf(record);
      if (record === null || form === null) throw new HttpError(404, 'not_found', `no CPU profile with id ${JSON.stringify(id)}`);
      return reply
        .type('application/zip')
        .header('content-disposition', 'attachment; filename="profile.zip"')
        .send(zipOrRefuse([{ name: 'cpu.pprof', data: form, modified: new Date(record.end) }], maxZipBytes));
    },
  );
};

/** The PGO forms of `records` as zip entries named by profile id; one deleted by retention since the search is skipped. */
async function readForms(
  ctx: RouteContext,
  records: ProfileRecord[],
  maxZipBytes: number,
): Promise<Array<{ name: string; data: Uint8Array; modified: Date }>> {
  const entries: Array<{ name: string; data: Uint8Array; modified: Date }> = [];
  let bytes = 0;
  // One at a time, so a selection over the limit stops reading at the limit.
  for (const r of records) {
    const data = await ctx.store.readPgoOf(r);
    if (data === null) continue;
    bytes += data.length;
    if (bytes > maxZipBytes) throw tooLarge(records.length, maxZipBytes);
    entries.push({ name: r.id, data, modified: new Date(r.end) });
  }
  if (entries.length === 0)
    throw new HttpError(404, 'no_profiles', 'the selected profiles were deleted by retention since the search: retry');
  return entries;
}

function tooLarge(count: number, maxZipBytes: number): HttpError {
  return new HttpError(
    422,
    'answer_too_large',
    `the ${count} selected profiles are over ${maxZipBytes} bytes together, the most one answer holds: lower the limit (-profiles) or narrow the queries`,
  );
}

function zipOrRefuse(entries: Array<{ name: string; data: Uint8Array; modified: Date }>, maxZipBytes: number): Buffer {
  try {
    return writeZip(entries, maxZipBytes);
  } catch (err) {
    if (err instanceof ZipLimitError) throw tooLarge(entries.length, maxZipBytes);
    throw err;
  }
}
