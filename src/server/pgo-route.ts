import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildPgoProfile } from '../pgo/build.js';
import { hotCallSites } from '../pgo/hot-call-sites.js';
import { noInlineList } from '../pgo/safety.js';
import { debugQuery, type PgoQuery, withGoRuntime } from '../pgo/select.js';
import { ProfileError } from '../pprof/errors.js';
import { parseProfiles } from '../pprof/parse.js';
import { QuerySyntaxError } from '../query/errors.js';
import type { ProfileStore } from '../store/store.js';
import type { ProfileRecord } from '../store/types.js';
import { HttpError } from './http-error.js';
import { integerParam } from './integer-param.js';
import { parseWindow } from './time-params.js';

export interface PgoRouteContext {
  store: ProfileStore;
  /** Ceiling on the decompressed size of each stored PGO form read. */
  maxDecompressedBytes: number;
  /** Largest body of POST /api/v1/pgo, in bytes. */
  requestBodyLimit: number;
}

interface PgoRequestBody {
  queries?: unknown;
  noInline?: unknown;
}

const MAX_QUERIES = 20;
const MAX_PROFILES_PER_QUERY = 50;
/** Most call-site edges GET /api/v1/pgo/explain lists. */
const MAX_TOP = 100_000;
/** Most names in a request's noInline list. */
const MAX_NO_INLINE = 10_000;

/** Reads the queries of a PGO request: ours ({query, from, to, limit}) or datadog-pgo's ({filter: {query, from, to}, limit}). */
function parseQueries(body: PgoRequestBody): PgoQuery[] {
  if (!Array.isArray(body.queries) || body.queries.length === 0) throw new RangeError('"queries" must be a non-empty list');
  if (body.queries.length > MAX_QUERIES) throw new RangeError(`at most ${MAX_QUERIES} queries per request`);
  return body.queries.map((raw, i) => {
    const q = (raw ?? {}) as Record<string, unknown>;
    const filter = (q.filter ?? q) as Record<string, unknown>;
    const query = filter.query;
    if (typeof query !== 'string') throw new RangeError(`queries[${i}].query must be a string`);
    const limit = q.limit ?? 5;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_PROFILES_PER_QUERY) {
      throw new RangeError(`queries[${i}].limit must be an integer from 1 to ${MAX_PROFILES_PER_QUERY}`);
    }
    const time = (v: unknown, fallback: string, name: string): string => {
      if (v === undefined) return fallback;
      if (typeof v !== 'string') throw new RangeError(`queries[${i}].${name} must be a string`);
      return v;
    };
    return { query, from: time(filter.from, 'now-72h', 'from'), to: time(filter.to, 'now', 'to'), limit };
  });
}

/**
 * POST /api/v1/pgo: builds a default.pgo from stored profiles. Per query, the top `limit`
 * profiles by CPU cores in the window (with `runtime:go` added when the query names no
 * runtime); their trimmed PGO forms are merged in profile-id order, so the same stored
 * profiles always give the same bytes, and the safety renames applied. Answers the file, or,
 * with `Accept: application/json`, the file (base64) with its provenance.
 */
export function registerPgoRoutes(app: FastifyInstance, ctx: PgoRouteContext): void {
  // GET /api/v1/pgo/explain?query=&from=&to=&limit=: the hot call sites of the default.pgo that
  // POST /api/v1/pgo would build for that query (what `hotpath explain` prints locally).
  const access = { config: { access: 'pgo_read' } } as const;
  app.get('/api/v1/pgo/explain', access, async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const limit = integerParam(q, 'limit', { min: 1, max: MAX_PROFILES_PER_QUERY, fallback: 5 });
    const top = integerParam(q, 'top', { min: 1, max: MAX_TOP, fallback: 50 });
    const result = await buildFromQueries(
      ctx,
      [{ query: q.query ?? '', from: q.from ?? 'now-72h', to: q.to ?? 'now', limit }],
      noInlineList(),
    );
    const report = hotCallSites(result.built.profile);
    return {
      query: result.resolved[0].query,
      profileIds: result.ids,
      debugQuery: debugQuery(result.ids),
      valueType: report.valueType,
      totalWeight: report.totalWeight,
      thresholdPercent: report.thresholdPercent,
      hotCount: report.hotCount,
      edgeCount: report.edges.length,
      edges: report.edges.slice(0, top),
    };
  });

  app.post('/api/v1/pgo', { ...access, bodyLimit: ctx.requestBodyLimit }, async (req, reply) => {
    let body: PgoRequestBody;
    let queries: PgoQuery[];
    let noInline: Set<string>;
    try {
      const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      const parsed: unknown = JSON.parse(raw === '' ? '{}' : raw);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new RangeError('the body must be a JSON object');
      body = parsed as PgoRequestBody;
      queries = parseQueries(body);
      if (
        body.noInline !== undefined &&
        (!Array.isArray(body.noInline) || body.noInline.length > MAX_NO_INLINE || !body.noInline.every((n) => typeof n === 'string'))
      ) {
        throw new RangeError(`"noInline" must be a list of at most ${MAX_NO_INLINE} function names`);
      }
      noInline = noInlineList((body.noInline as string[] | undefined) ?? []);
    } catch (err) {
      // JSON.parse's SyntaxError and parseQueries' RangeError: both are the request's fault.
      if (err instanceof SyntaxError || err instanceof RangeError) {
        throw new HttpError(400, 'bad_request', `bad PGO request: ${err.message}`);
      }
      throw err;
    }

    const { built, ids, selected, resolved } = await buildFromQueries(ctx, queries, noInline);
    const sha256 = createHash('sha256').update(built.bytes).digest('hex');
    const provenance = {
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
      samples: built.profile.samples.count,
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
  });
}

interface BuildResult {
  built: ReturnType<typeof buildPgoProfile>;
  ids: string[];
  selected: Map<string, ProfileRecord>;
  resolved: Array<PgoQuery & { matched: number }>;
}

/**
 * Selects the profiles of `queries` (top `limit` by CPU cores per query, runtime:go added) and
 * merges their PGO forms in profile-id order with the safety renames. Throws HttpError for a bad
 * window (400), no matching profile (404), a stored PGO form that cannot be read (422, naming
 * the profile) or forms that cannot be merged (422); a bad query rejects with QuerySyntaxError.
 */
async function buildFromQueries(ctx: PgoRouteContext, queries: PgoQuery[], noInline: Set<string>): Promise<BuildResult> {
  const now = Date.now();
  const selected = new Map<string, ProfileRecord>();
  const resolved: Array<PgoQuery & { matched: number }> = [];
  for (const q of queries) {
    const query = withGoRuntime(q.query);
    const { from, to } = parseWindow(q, 'now-72h', now);
    let found: ProfileRecord[];
    try {
      found = await ctx.store.search({ query, from, to, limit: q.limit, sort: '-cpu' });
    } catch (err) {
      if (err instanceof QuerySyntaxError) {
        throw new HttpError(400, 'query', `query ${JSON.stringify(query)}: ${err.message}`, { details: { column: err.column } });
      }
      throw err;
    }
    found = found.filter((r) => r.pgoBlobKey !== null);
    for (const r of found) selected.set(r.id, r);
    resolved.push({ ...q, query, matched: found.length });
  }
  if (selected.size === 0) {
    throw new HttpError(
      404,
      'no_profiles',
      `no CPU profiles match ${resolved.map((q) => JSON.stringify(q.query)).join(' or ')} between ${queries[0].from} and ${queries[0].to}`,
      { details: { queries: resolved } },
    );
  }

  const allIds = [...selected.keys()].sort();
  const blobs = await Promise.all(allIds.map((id) => ctx.store.readPgoOf(selected.get(id) as ProfileRecord)));
  // A blob deleted by retention since the search is skipped.
  const ids = allIds.filter((_id, i) => blobs[i] !== null);
  const profiles = await parseProfiles(
    blobs.filter((b): b is Uint8Array => b !== null),
    { maxDecompressedBytes: ctx.maxDecompressedBytes },
    (i, err) =>
      err instanceof ProfileError
        ? new HttpError(422, 'unreadable_pgo', `the stored PGO form of profile ${ids[i]} cannot be read: ${err.message}`)
        : err,
  );
  let built: ReturnType<typeof buildPgoProfile>;
  try {
    built = buildPgoProfile(profiles, { noInline });
  } catch (err) {
    if (err instanceof ProfileError)
      throw new HttpError(422, 'incompatible', `the selected profiles cannot make a default.pgo: ${err.message}`);
    throw err;
  }
  return { built, ids, selected, resolved };
}
