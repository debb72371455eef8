import { createHash } from 'node:crypto';
import type { FastifyPluginAsync, FastifySchemaValidationError } from 'fastify';
import type { ExplainJson, PgoAnswerJson } from '../../api/types.js';
import { type CachedPgoBuild, PgoBuildCache } from '../../pgo/build-cache.js';
import { hotCallSites } from '../../pgo/hot-call-sites.js';
import { noInlineList } from '../../pgo/safety.js';
import { buildFromQueries, buildFromSelection, debugQuery, type PgoQuery, selectProfiles } from '../../pgo/select.js';
import type { ProfileRecord } from '../../store/types.js';
import { HttpError } from '../http-error.js';
import { describeSchemaError, integerSchema, querySchema, TEXT } from '../query-schema.js';
import { PGO_READ, type RouteContext } from './context.js';

const MAX_QUERIES = 20;
const MAX_PROFILES_PER_QUERY = 50;
/** Most call-site edges GET /api/v1/pgo/explain lists. */
const MAX_TOP = 100_000;
/** Most names in a request's noInline list. */
const MAX_NO_INLINE = 10_000;
/** Largest body of POST /api/v1/pgo (a JSON list of queries). */
const PGO_REQUEST_BODY_LIMIT = 1024 * 1024;

const TIME_TEXT = { type: 'string' } as const;

/**
 * The body of POST /api/v1/pgo: our queries ({query, from, to, limit}) or datadog-pgo's
 * ({filter: {query, from, to}, limit}), and optionally more functions never to inline.
 */
const PGO_BODY = {
  type: 'object',
  required: ['queries'],
  properties: {
    queries: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_QUERIES,
      items: {
        type: 'object',
        properties: {
          query: { type: 'string' },
          from: TIME_TEXT,
          to: TIME_TEXT,
          limit: { type: 'integer', minimum: 1, maximum: MAX_PROFILES_PER_QUERY, default: 5 },
          filter: { type: 'object', required: ['query'], properties: { query: { type: 'string' }, from: TIME_TEXT, to: TIME_TEXT } },
        },
        anyOf: [{ required: ['filter'] }, { required: ['query'] }],
      },
    },
    noInline: { type: 'array', maxItems: MAX_NO_INLINE, items: { type: 'string' } },
  },
} as const;

interface PgoQueryBody {
  query?: string;
  from?: string;
  to?: string;
  limit: number;
  filter?: { query: string; from?: string; to?: string };
}

interface PgoRequestBody {
  queries: PgoQueryBody[];
  noInline?: string[];
}

interface ExplainQuery {
  query?: string;
  from?: string;
  to?: string;
  limit: number;
  top: number;
}

const EXPLAIN_QUERY = querySchema({
  query: TEXT,
  from: TEXT,
  to: TEXT,
  limit: integerSchema(1, MAX_PROFILES_PER_QUERY, 5),
  top: integerSchema(1, MAX_TOP, 50),
});

/** Every refusal of a PGO request body says so first; the rest names the field. */
function badPgoRequest(message: string): HttpError {
  return new HttpError(400, 'bad_request', `bad PGO request: ${message}`);
}

/** A body refused by its schema: `bad PGO request: "queries[0].limit" must be <= 50`. */
function pgoBodyErrorFormatter(errors: FastifySchemaValidationError[], dataVar: string): Error {
  return dataVar === 'body'
    ? badPgoRequest(describeSchemaError(errors[0]))
    : new HttpError(400, 'bad_parameter', describeSchemaError(errors[0]));
}

/** A query as selection reads it: the filter form flattened, the window defaulted. */
function pgoQuery(q: PgoQueryBody): PgoQuery {
  const filter = q.filter ?? { query: q.query ?? '', from: q.from, to: q.to };
  return { query: filter.query, from: filter.from ?? 'now-72h', to: filter.to ?? 'now', limit: q.limit };
}

/**
 * PGO: POST /api/v1/pgo builds a default.pgo from stored profiles (see buildFromQueries in
 * src/pgo/select.ts) and answers the file, or, with `Accept: application/json`, the file
 * (base64) with its provenance; GET /api/v1/pgo/explain lists the hot call sites of the file
 * one query would build (what `hotpath explain` prints locally).
 */
export const pgoRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const selection = { maxDecompressedBytes: ctx.limits.maxDecompressedBytes };
  // Per server: a replica builds what it is asked once, and the bytes are the same on every replica.
  const builds = new PgoBuildCache();
  // This plugin's one body is JSON, read as text within the route's body limit; any content type
  // is accepted, as clients (datadog-pgo, curl) label it variously.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body === '' ? '{}' : (body as string)));
    } catch (err) {
      done(badPgoRequest((err as Error).message), undefined);
    }
  });

  app.get<{ Querystring: ExplainQuery }>('/api/v1/pgo/explain', { ...PGO_READ, schema: { querystring: EXPLAIN_QUERY } }, async (req) => {
    const q = req.query;
    const result = await buildFromQueries(
      ctx.store,
      [{ query: q.query ?? '', from: q.from ?? 'now-72h', to: q.to ?? 'now', limit: q.limit }],
      noInlineList(),
      selection,
    );
    const report = hotCallSites(result.built.profile);
    const answer: ExplainJson = {
      query: result.resolved[0].query,
      profileIds: result.ids,
      debugQuery: debugQuery(result.ids),
      valueType: report.valueType,
      totalWeight: report.totalWeight,
      thresholdPercent: report.thresholdPercent,
      hotCount: report.hotCount,
      edgeCount: report.edges.length,
      edges: report.edges.slice(0, q.top),
    };
    return answer;
  });

  app.post<{ Body: PgoRequestBody }>(
    '/api/v1/pgo',
    { ...PGO_READ, bodyLimit: PGO_REQUEST_BODY_LIMIT, schema: { body: PGO_BODY }, schemaErrorFormatter: pgoBodyErrorFormatter },
    async (req, reply) => {
      const queries = req.body.queries.map(pgoQuery);
      const noInline = noInlineList(req.body.noInline ?? []);
      const { selected, resolved } = await selectProfiles(ctx.store, queries);
      const key = PgoBuildCache.key({ profiles: [...selected.values()], noInline, ...selection });
      let build: CachedPgoBuild | undefined = builds.get(key);
      if (build === undefined) {
        const result = await buildFromSelection(ctx.store, { selected, resolved }, noInline, selection);
        build = { bytes: result.built.bytes, ids: result.ids, samples: result.built.profile.samples.count, renamed: result.built.renamed };
        // A build missing a profile whose PGO form was deleted after the search is not kept: the next search will not select it.
        if (result.skipped === 0) builds.set(key, build);
      }
      const { ids } = build;
      const built = { bytes: build.bytes, renamed: build.renamed };
      const sha256 = createHash('sha256').update(built.bytes).digest('hex');
      const provenance: Omit<PgoAnswerJson, 'pgo'> = {
        profiles: ids.map((id) => {
          const r = selected.get(id) as ProfileRecord;
          return {
            id,
            service: r.service,
            env: r.env,
            version: r.version,
            cpuCores: r.cpuCores,
            start: new Date(r.start).toISOString(),
            end: new Date(r.end).toISOString(),
          };
        }),
        queries: resolved,
        sha256,
        bytes: built.bytes.length,
        samples: build.samples,
        notInlined: built.renamed,
        debugQuery: debugQuery(ids),
      };
      if ((req.headers.accept ?? '').includes('application/json')) {
        return reply.type('application/json').send({ ...provenance, pgo: built.bytes.toString('base64') });
      }
      return reply
        .type('application/octet-stream')
        .header('x-hotpath-sha256', sha256)
        .header('x-hotpath-profile-ids', ids.join(','))
        .header('x-hotpath-debug-query', provenance.debugQuery)
        .send(built.bytes);
    },
  );
};
