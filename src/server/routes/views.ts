import type { FastifyPluginAsync } from 'fastify';
import type { DiffJson, FacetsJson, FlameJson, FlameTreeJson } from '../../api/types.js';
import { AnswerCache, answerKey } from '../../flame/answer-cache.js';
import { CallTreeTooLargeError } from '../../flame/call-tree-dictionary.js';
import { diffTree } from '../../flame/diff.js';
import { type FlameTree, FlameTreeAccumulator, type FunctionTotalByName, pruneFlameTree } from '../../flame/flame-tree.js';
import { mergeCallTrees, mergedDiffTree, mergedFlameTree, functionTotals as mergedFunctionTotals } from '../../flame/prepared-merge.js';
import { PreparedProfiles } from '../../flame/prepared-profiles.js';
import { preparedSampleTypeOptions, preparedSide } from '../../flame/prepared-views.js';
import {
  type AccumulatedView,
  AttachmentReader,
  accumulateProfiles,
  parseSampleTypeKey,
  readProfiles,
  type SampleTypeOption,
  type SkippedProfile,
  sampleTypeOptions,
} from '../../flame/profile-views.js';
import { encodeProfileGzipAsync } from '../../pprof/encode.js';
import { ProfileError } from '../../pprof/errors.js';
import { mergeProfiles } from '../../pprof/merge.js';
import { QuerySyntaxError } from '../../query/errors.js';
import { parseQuery } from '../../query/parse.js';
import type { ProfileStore } from '../../store/store.js';
import type { ProfileRecord } from '../../store/types.js';
import { HttpError } from '../http-error.js';
import { integerSchema, oneOf, querySchema, TEXT } from '../query-schema.js';
import { parseWindow } from '../time-params.js';
import { PROFILES_READ, type RouteContext, safeFileName } from './context.js';
import { flameJsonText } from './flame-json-text.js';

/**
 * Most profiles one flame graph or one side of a diff merges: their prepared forms are small and
 * cached, so a day of a busy service (10,000 profiles) is one view.
 */
const MAX_PROFILES = 10_000;
/** Most profiles one pprof download merges: it decodes and merges every raw profile in full. */
const MAX_PPROF_PROFILES = 1000;
const DEFAULT_PROFILES = 100;
/** Rows of the top-functions table and of the largest changes. */
const TOP_ROWS = 1000;
const CHANGE_ROWS = 200;

/** Largest tree a view sends by default: canvas stays smooth, and smaller frames are under a pixel wide anyway. */
const DEFAULT_MAX_NODES = 50_000;
const MAX_MAX_NODES = 1_000_000;

/** The parameters of the flame graph views; every one is checked before any profile is read. */
interface ViewQuery {
  id?: string;
  query?: string;
  beforeId?: string;
  before?: string;
  afterId?: string;
  after?: string;
  from?: string;
  to?: string;
  type?: string;
  normalize?: 'second' | 'profile' | 'none';
  limit: number;
  maxNodes: number;
}

const VIEW_QUERY = querySchema({
  id: TEXT,
  query: TEXT,
  from: TEXT,
  to: TEXT,
  type: TEXT,
  limit: integerSchema(1, MAX_PROFILES, DEFAULT_PROFILES),
  maxNodes: integerSchema(1, MAX_MAX_NODES, DEFAULT_MAX_NODES),
});

const PPROF_QUERY = querySchema({
  ...VIEW_QUERY.properties,
  limit: integerSchema(1, MAX_PPROF_PROFILES, DEFAULT_PROFILES),
});

const DIFF_QUERY = querySchema({
  ...VIEW_QUERY.properties,
  beforeId: TEXT,
  before: TEXT,
  afterId: TEXT,
  after: TEXT,
  normalize: oneOf(['second', 'profile', 'none']),
});

/** Which profiles a view shows: one by id, or the newest `limit` matching a query in a window. */
interface SelectionParams {
  id?: string;
  query?: string;
  from: string;
  to: string;
  limit: number;
}

function selectionParams(q: ViewQuery, idName: 'id' | 'beforeId' | 'afterId', queryName: 'query' | 'before' | 'after'): SelectionParams {
  const id = q[idName];
  const query = q[queryName];
  if (id === undefined && query === undefined) {
    throw new HttpError(400, 'bad_parameter', `give a profile id ("${idName}") or a search query ("${queryName}")`);
  }
  return { id, query, from: q.from ?? 'now-72h', to: q.to ?? 'now', limit: q.limit };
}

/** Returns the records of a selection, newest first; refuses an unknown id, a bad query or an empty result. */
async function selectRecords(store: ProfileStore, s: SelectionParams, side = ''): Promise<ProfileRecord[]> {
  const label = side === '' ? '' : `${side}: `;
  if (s.id !== undefined) {
    const record = await store.getProfile(s.id);
    if (record === null) throw new HttpError(404, 'not_found', `${label}no profile with id ${s.id}`);
    return [record];
  }
  const { from, to } = parseWindow(s, 'now-72h');
  let records: ProfileRecord[];
  try {
    records = await store.search({ query: s.query ?? '', from, to, limit: s.limit, sort: '-start' });
  } catch (err) {
    if (err instanceof QuerySyntaxError) {
      throw new HttpError(400, 'query', `${label}query: ${err.message}`, { details: { column: err.column, side: side || undefined } });
    }
    throw err;
  }
  if (records.length === 0) {
    throw new HttpError(404, 'no_profiles', `${label}no profiles match ${JSON.stringify(s.query ?? '')} between ${s.from} and ${s.to}`);
  }
  return records;
}

/** Lists the sample types a record offers and the default one. */
type SampleTypeLister = (record: ProfileRecord) => Promise<{ options: SampleTypeOption[]; preferred: string | null }>;

/** Picks the sample type to show: the requested key if the newest profile offers it, else its default. */
async function chooseSampleType(
  list: SampleTypeLister,
  records: readonly ProfileRecord[],
  requested: string | undefined,
): Promise<{ options: SampleTypeOption[]; key: string; attachment: string; type: string }> {
  const { options, preferred } = await list(records[0]);
  const key = requested ?? preferred;
  if (key === null) {
    throw new HttpError(422, 'no_data', `profile ${records[0].id} has no readable profile attachment (raw data deleted, or not a profile)`);
  }
  const parsed = parseSampleTypeKey(key);
  if (parsed === null) {
    throw new HttpError(400, 'bad_parameter', `"type" must be <attachment>:<sample type>, like cpu.pprof:cpu, got ${JSON.stringify(key)}`);
  }
  if (requested !== undefined && !options.some((o) => o.key === key)) {
    const offered = options.map((o) => o.key).join(', ') || 'none';
    throw new HttpError(400, 'bad_parameter', `sample type ${JSON.stringify(key)} is not in profile ${records[0].id}; it has: ${offered}`);
  }
  return { options, key, ...parsed };
}

/** The JSON form of a flame tree: plain arrays, depth-first, children by name. */
function treeJson(t: FlameTree): FlameTreeJson {
  return { names: t.names, name: Array.from(t.name), depth: Array.from(t.depth), self: Array.from(t.self), total: Array.from(t.total) };
}

/** The 422 for a view none of whose profiles could be read, with the reasons. */
function unreadable(count: number, skipped: SkippedProfile[]): HttpError {
  return new HttpError(422, 'no_data', `none of the ${count} selected profiles could be read: ${skipped[0].reason}`, {
    details: { skipped },
  });
}

/** The 422 for a diff side none of whose profiles could be read. */
function unreadableSide(side: number, skipped: SkippedProfile[]): HttpError {
  return new HttpError(
    422,
    'no_data',
    `${side === 0 ? 'before' : 'after'}: none of the selected profiles could be read: ${skipped[0].reason}`,
  );
}

/** What a diff side's values are divided by: its seconds, its profile count, or nothing. */
function scaleOf(normalize: 'second' | 'profile' | 'none', view: AccumulatedView): number {
  const divisor = normalize === 'second' ? view.seconds : normalize === 'profile' ? view.used.length : 1;
  return divisor > 0 ? 1 / divisor : 1;
}

function sideSummary(view: AccumulatedView, total: number) {
  return { profiles: view.used.length, profileIds: view.used, seconds: view.seconds, total, skipped: view.skipped };
}

/** The diff answer around its tree, whichever path merged the two sides; `grandTotal(side)` is the side's total before scaling. */
function diffAnswer(
  views: ReadonlyArray<{ view: AccumulatedView; scale: number }>,
  grandTotal: (side: number) => number,
  normalize: DiffJson['normalize'],
  chosen: { options: SampleTypeOption[]; key: string },
  diff: Omit<DiffJson, 'before' | 'after' | 'normalize' | 'unit' | 'sampleType' | 'sampleTypes'>,
): DiffJson {
  const summary = (side: number) => sideSummary(views[side].view, grandTotal(side) * views[side].scale);
  return {
    before: summary(0),
    after: summary(1),
    normalize,
    unit: views[1].view.unit,
    sampleType: chosen.key,
    sampleTypes: chosen.options,
    ...diff,
  };
}

/** Set (to anything but "" or "0") to draw every view from the raw profiles, as before prepared forms: for benchmarks and comparisons. */
const FORCE_RAW_ENV = 'HOTPATH_FLAME_RAW';

/** A 422 for a selection whose distinct call paths exceed what one view may hold. */
function tooLarge(err: CallTreeTooLargeError): HttpError {
  return new HttpError(422, 'too_large', `${err.message}; narrow the query or the time window, or lower "limit"`);
}

/** The flame graph answer but its tree, whichever path merged the profiles. */
function flameAnswer(
  view: { used: string[]; seconds: number; unit: string; mainModule: string | null; skipped: FlameJson['skipped'] },
  chosen: { options: SampleTypeOption[]; key: string },
  merged: { total: number; nodes: number; droppedNodes: number; top: FunctionTotalByName[] },
): Omit<FlameJson, 'tree'> {
  return {
    profiles: view.used.length,
    profileIds: view.used,
    seconds: view.seconds,
    sampleTypes: chosen.options,
    sampleType: chosen.key,
    unit: view.unit,
    mainModule: view.mainModule,
    total: merged.total,
    nodes: merged.nodes,
    droppedNodes: merged.droppedNodes,
    top: merged.top.slice(0, TOP_ROWS),
    skipped: view.skipped,
  };
}

/**
 * Registers the read-only views the web UI draws: GET /api/v1/flamegraph (render-ready tree and
 * top functions of one profile or of the profiles matching a query), GET /api/v1/flamegraph/pprof
 * (the same selection merged into one pprof), GET /api/v1/diff (two selections as one diff tree,
 * normalised per second or per profile) and GET /api/v1/facets.
 *
 * The flame graph and the diff merge prepared forms (src/flame/prepared-profiles.ts: stored at
 * ingest, or built once from the raw profile) and keep their serialized answers by the exact
 * selection (src/flame/answer-cache.ts); HOTPATH_FLAME_RAW=1 decodes every raw profile instead.
 * Both give the same answer.
 */
export const viewRoutes: FastifyPluginAsync<RouteContext> = async (app, ctx) => {
  const reader = () => new AttachmentReader(ctx.store, ctx.limits.maxDecompressedBytes);
  const viewOptions = { ...PROFILES_READ, schema: { querystring: VIEW_QUERY } };
  const forceRaw = !['', '0', undefined].includes(process.env[FORCE_RAW_ENV]);
  const prepared = new PreparedProfiles(ctx.store, ctx.limits.maxDecompressedBytes);
  const answers = new AnswerCache();

  const rawFlame = async (q: ViewQuery, records: ProfileRecord[]): Promise<FlameJson> => {
    const attachments = reader();
    const chosen = await chooseSampleType((r) => sampleTypeOptions(attachments, r), records, q.type);
    const accumulator = new FlameTreeAccumulator();
    const view = await accumulateProfiles(attachments, records, chosen.attachment, chosen.type, { accumulator });
    if (view.used.length === 0) throw unreadable(records.length, view.skipped);
    const full = accumulator.tree();
    const pruned = pruneFlameTree(full, q.maxNodes);
    const answer = flameAnswer(view, chosen, {
      total: accumulator.grandTotal(),
      nodes: full.name.length,
      droppedNodes: pruned.dropped,
      top: accumulator.functions(),
    });
    // The same fields in the same order as flameJsonText writes them.
    const { top, skipped, ...head } = answer;
    return { ...head, tree: treeJson(pruned.tree), top, skipped };
  };

  /** The prepared path's answer as JSON text (flameJsonText: the same text JSON.stringify gives). */
  const preparedFlame = async (q: ViewQuery, records: ProfileRecord[]): Promise<string> => {
    const dictionary = prepared.beginView();
    const chosen = await chooseSampleType((r) => preparedSampleTypeOptions(prepared, dictionary, r), records, q.type);
    const view = await preparedSide(prepared, dictionary, records, chosen.attachment, chosen.type);
    if (view.used.length === 0) throw unreadable(records.length, view.skipped);
    const merged = mergeCallTrees(dictionary, [view.inputs]);
    const flame = mergedFlameTree(merged, q.maxNodes);
    const answer = flameAnswer(view, chosen, {
      total: merged.total[0][0],
      nodes: flame.nodes,
      droppedNodes: flame.droppedNodes,
      top: mergedFunctionTotals(merged, 0),
    });
    return flameJsonText(answer, flame.tree);
  };

  app.get<{ Querystring: ViewQuery }>('/api/v1/flamegraph', viewOptions, async (req, reply) => {
    const q = req.query;
    const records = await selectRecords(ctx.store, selectionParams(q, 'id', 'query'));
    if (forceRaw) return rawFlame(q, records);
    const key = answerKey('flamegraph', [q.type ?? '', q.maxNodes], [records]);
    let json = answers.get(key);
    if (json === undefined) {
      try {
        json = await preparedFlame(q, records);
      } catch (err) {
        throw err instanceof CallTreeTooLargeError ? tooLarge(err) : err;
      }
      answers.set(key, json);
    }
    return reply.type('application/json; charset=utf-8').send(json);
  });

  app.get<{ Querystring: ViewQuery }>(
    '/api/v1/flamegraph/pprof',
    { ...PROFILES_READ, schema: { querystring: PPROF_QUERY } },
    async (req, reply) => {
      const q = req.query;
      const attachments = reader();
      const records = await selectRecords(ctx.store, selectionParams(q, 'id', 'query'));
      const chosen = await chooseSampleType((r) => sampleTypeOptions(attachments, r), records, q.type);
      const { profiles, skipped } = await readProfiles(attachments, records, chosen.attachment);
      if (profiles.length === 0) {
        throw new HttpError(422, 'no_data', `none of the ${records.length} selected profiles could be read: ${skipped[0].reason}`);
      }
      let merged: ReturnType<typeof mergeProfiles>;
      try {
        merged = mergeProfiles(profiles);
      } catch (err) {
        if (err instanceof ProfileError) throw new HttpError(409, 'incompatible', `the selected profiles cannot be merged: ${err.message}`);
        throw err;
      }
      const name = records.length === 1 ? `${records[0].id}-${chosen.attachment}` : `merged-${profiles.length}-${chosen.attachment}`;
      return reply
        .type('application/octet-stream')
        .header('content-disposition', `attachment; filename="${safeFileName(name)}.pb.gz"`)
        .header('x-hotpath-profiles', String(profiles.length))
        .send(await encodeProfileGzipAsync(merged));
    },
  );

  const rawDiff = async (q: ViewQuery, beforeRecords: ProfileRecord[], afterRecords: ProfileRecord[]): Promise<DiffJson> => {
    const normalize = q.normalize ?? 'second';
    const attachments = reader();
    const chosen = await chooseSampleType((r) => sampleTypeOptions(attachments, r), afterRecords, q.type);
    // Both sides in one tree, so every path has its before and after value, however small.
    const accumulator = new FlameTreeAccumulator(2);
    const views: Array<{ view: AccumulatedView; scale: number }> = [];
    for (const [side, records] of [beforeRecords, afterRecords].entries()) {
      const view = await accumulateProfiles(attachments, records, chosen.attachment, chosen.type, { accumulator, side });
      if (view.used.length === 0) throw unreadableSide(side, view.skipped);
      views.push({ view, scale: scaleOf(normalize, view) });
    }
    const diff = diffTree(accumulator, [views[0].scale, views[1].scale], q.maxNodes, CHANGE_ROWS);
    return diffAnswer(views, (side) => accumulator.grandTotal(side), normalize, chosen, diff);
  };

  const preparedDiff = async (q: ViewQuery, beforeRecords: ProfileRecord[], afterRecords: ProfileRecord[]): Promise<DiffJson> => {
    const normalize = q.normalize ?? 'second';
    const dictionary = prepared.beginView();
    const chosen = await chooseSampleType((r) => preparedSampleTypeOptions(prepared, dictionary, r), afterRecords, q.type);
    const views: Array<{ view: Awaited<ReturnType<typeof preparedSide>>; scale: number }> = [];
    for (const [side, records] of [beforeRecords, afterRecords].entries()) {
      const view = await preparedSide(prepared, dictionary, records, chosen.attachment, chosen.type);
      if (view.used.length === 0) throw unreadableSide(side, view.skipped);
      views.push({ view, scale: scaleOf(normalize, view) });
    }
    const merged = mergeCallTrees(dictionary, [views[0].view.inputs, views[1].view.inputs]);
    const diff = mergedDiffTree(merged, [views[0].scale, views[1].scale], q.maxNodes, CHANGE_ROWS);
    return diffAnswer(views, (side) => merged.total[side][0], normalize, chosen, diff);
  };

  app.get<{ Querystring: ViewQuery }>('/api/v1/diff', { ...PROFILES_READ, schema: { querystring: DIFF_QUERY } }, async (req, reply) => {
    const q = req.query;
    const beforeRecords = await selectRecords(ctx.store, selectionParams(q, 'beforeId', 'before'), 'before');
    const afterRecords = await selectRecords(ctx.store, selectionParams(q, 'afterId', 'after'), 'after');
    if (forceRaw) return rawDiff(q, beforeRecords, afterRecords);
    const key = answerKey('diff', [q.type ?? '', q.maxNodes, q.normalize ?? 'second'], [beforeRecords, afterRecords]);
    let json = answers.get(key);
    if (json === undefined) {
      try {
        json = JSON.stringify(await preparedDiff(q, beforeRecords, afterRecords));
      } catch (err) {
        throw err instanceof CallTreeTooLargeError ? tooLarge(err) : err;
      }
      answers.set(key, json);
    }
    return reply.type('application/json; charset=utf-8').send(json);
  });

  const facetsQuery = querySchema({ query: TEXT, from: TEXT, to: TEXT });
  app.get<{ Querystring: { query?: string; from?: string; to?: string } }>(
    '/api/v1/facets',
    { ...PROFILES_READ, schema: { querystring: facetsQuery } },
    async (req): Promise<FacetsJson> => {
      const q = req.query;
      const { from, to } = parseWindow(q, 'now-72h');
      // A bad query throws QuerySyntaxError, which the app answers 400 with its column.
      const filter = { query: parseQuery(q.query ?? ''), from, to };
      const [total, facets] = await Promise.all([ctx.store.index.countMatching(filter), ctx.store.index.facets(filter, 20)]);
      return { total, facets };
    },
  );
};
