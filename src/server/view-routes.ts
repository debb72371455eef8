import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type FlameTree, FlameTreeAccumulator, type FunctionTotalByName, pruneFlameTree } from '../flame/flame-tree.js';
import { encodeProfileGzipAsync } from '../pprof/encode.js';
import { ProfileError } from '../pprof/errors.js';
import { mergeProfiles } from '../pprof/merge.js';
import { QuerySyntaxError } from '../query/errors.js';
import type { ProfileStore } from '../store/store.js';
import type { ProfileRecord } from '../store/types.js';
import { HttpError } from './http-error.js';
import { integerParam } from './integer-param.js';
import {
  type AccumulatedView,
  AttachmentReader,
  accumulateProfiles,
  largestChanges,
  parseSampleTypeKey,
  readProfiles,
  type SampleTypeOption,
  sampleTypeOptions,
} from './profile-views.js';
import { parseWindow } from './time-params.js';

export interface ViewRouteContext {
  store: ProfileStore;
  /** Ceiling on the decompressed size of each attachment read. */
  maxDecompressedBytes: number;
}

/** Most profiles one aggregate or one side of a diff reads. */
const MAX_PROFILES = 1000;
const DEFAULT_PROFILES = 100;
/** Rows of the top-functions table and of the largest changes. */
const TOP_ROWS = 1000;
const CHANGE_ROWS = 200;

/** Largest tree a view sends by default: canvas stays smooth, and smaller frames are under a pixel wide anyway. */
const DEFAULT_MAX_NODES = 50_000;
const MAX_MAX_NODES = 1_000_000;

function maxNodesParam(q: Record<string, string | undefined>): number {
  return integerParam(q, 'maxNodes', { min: 1, max: MAX_MAX_NODES, fallback: DEFAULT_MAX_NODES });
}

/** Which profiles a view shows: one by id, or the newest `limit` matching a query in a window. */
interface SelectionParams {
  id?: string;
  query?: string;
  from: string;
  to: string;
  limit: number;
}

function selectionParams(q: Record<string, string | undefined>, idName: string, queryName: string): SelectionParams {
  const limit = integerParam(q, 'limit', { min: 1, max: MAX_PROFILES, fallback: DEFAULT_PROFILES });
  const id = q[idName];
  const query = q[queryName];
  if (id === undefined && query === undefined) {
    throw new HttpError(400, 'bad_parameter', `give a profile id ("${idName}") or a search query ("${queryName}")`);
  }
  return { id, query, from: q.from ?? 'now-72h', to: q.to ?? 'now', limit };
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

/** Picks the sample type to show: the requested key if the newest profile offers it, else its default. */
async function chooseSampleType(
  reader: AttachmentReader,
  records: readonly ProfileRecord[],
  requested: string | undefined,
): Promise<{ options: SampleTypeOption[]; key: string; attachment: string; type: string }> {
  const { options, preferred } = await sampleTypeOptions(reader, records[0]);
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
function treeJson(t: FlameTree): Record<string, unknown> {
  return { names: t.names, name: Array.from(t.name), depth: Array.from(t.depth), self: Array.from(t.self), total: Array.from(t.total) };
}

/**
 * Registers the read-only views the web UI draws: GET /api/v1/flamegraph (render-ready tree and
 * top functions of one profile or of the profiles matching a query), GET /api/v1/flamegraph/pprof
 * (the same selection merged into one pprof), GET /api/v1/diff (two selections as one diff tree,
 * normalised per second or per profile) and GET /api/v1/facets.
 */
export function registerViewRoutes(app: FastifyInstance, ctx: ViewRouteContext): void {
  const handle =
    (work: (q: Record<string, string | undefined>, reply: FastifyReply, reader: AttachmentReader) => Promise<unknown>) =>
    (req: FastifyRequest, reply: FastifyReply) =>
      work(req.query as Record<string, string | undefined>, reply, new AttachmentReader(ctx.store, ctx.maxDecompressedBytes));
  const read = { config: { access: 'profiles_read' } } as const;

  app.get(
    '/api/v1/flamegraph',
    read,
    handle(async (q, _reply, reader) => {
      const maxNodes = maxNodesParam(q);
      const records = await selectRecords(ctx.store, selectionParams(q, 'id', 'query'));
      const chosen = await chooseSampleType(reader, records, q.type);
      const accumulator = new FlameTreeAccumulator();
      const view = await accumulateProfiles(reader, records, chosen.attachment, chosen.type, { accumulator });
      if (view.used.length === 0) {
        throw new HttpError(422, 'no_data', `none of the ${records.length} selected profiles could be read: ${view.skipped[0].reason}`, {
          details: {
            skipped: view.skipped,
          },
        });
      }
      const full = accumulator.tree();
      const pruned = pruneFlameTree(full, maxNodes);
      return {
        profiles: view.used.length,
        profileIds: view.used,
        seconds: view.seconds,
        sampleTypes: chosen.options,
        sampleType: chosen.key,
        unit: view.unit,
        total: accumulator.grandTotal(),
        nodes: full.name.length,
        droppedNodes: pruned.dropped,
        tree: treeJson(pruned.tree),
        top: accumulator.functions().slice(0, TOP_ROWS),
        skipped: view.skipped,
      };
    }),
  );

  app.get(
    '/api/v1/flamegraph/pprof',
    read,
    handle(async (q, reply, reader) => {
      const records = await selectRecords(ctx.store, selectionParams(q, 'id', 'query'));
      const chosen = await chooseSampleType(reader, records, q.type);
      const { profiles, skipped } = await readProfiles(reader, records, chosen.attachment);
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
        .header('content-disposition', `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}.pb.gz"`)
        .header('x-hotpath-profiles', String(profiles.length))
        .send(await encodeProfileGzipAsync(merged));
    }),
  );

  app.get(
    '/api/v1/diff',
    read,
    handle(async (q, _reply, reader) => {
      const normalize = q.normalize ?? 'second';
      if (normalize !== 'second' && normalize !== 'profile' && normalize !== 'none') {
        throw new HttpError(400, 'bad_parameter', `"normalize" must be second, profile or none, got ${JSON.stringify(normalize)}`);
      }
      // Every parameter is checked before any profile is read.
      const maxNodes = maxNodesParam(q);
      const beforeSelection = selectionParams(q, 'beforeId', 'before');
      const afterSelection = selectionParams(q, 'afterId', 'after');
      const beforeRecords = await selectRecords(ctx.store, beforeSelection, 'before');
      const afterRecords = await selectRecords(ctx.store, afterSelection, 'after');
      const chosen = await chooseSampleType(reader, afterRecords, q.type);
      // Both sides in one tree, so every path has its before and after value, however small.
      const accumulator = new FlameTreeAccumulator(2);
      const views: Array<{ view: AccumulatedView; scale: number }> = [];
      for (const [side, records] of [beforeRecords, afterRecords].entries()) {
        const view = await accumulateProfiles(reader, records, chosen.attachment, chosen.type, { accumulator, side });
        if (view.used.length === 0) {
          throw new HttpError(
            422,
            'no_data',
            `${side === 0 ? 'before' : 'after'}: none of the selected profiles could be read: ${view.skipped[0].reason}`,
          );
        }
        const divisor = normalize === 'second' ? view.seconds : normalize === 'profile' ? view.used.length : 1;
        views.push({ view, scale: divisor > 0 ? 1 / divisor : 1 });
      }
      const [before, after] = views;
      const beforeTree = accumulator.tree(0);
      const afterTree = accumulator.tree(1);
      const n = beforeTree.name.length;
      const beforeTotal = beforeTree.total.map((v) => v * before.scale);
      const afterTotal = afterTree.total.map((v) => v * after.scale);
      // Drawn width is the mean of the two sides, so that is what pruning ranks by.
      const rank = new Float64Array(n);
      for (let i = 0; i < n; i++) rank[i] = (beforeTotal[i] + afterTotal[i]) / 2;
      const pruned = pruneFlameTree(beforeTree, maxNodes, rank);
      const pick = (values: Float64Array): number[] =>
        pruned.kept === null ? Array.from(values) : Array.from(pruned.kept, (i) => values[i]);
      const scaleRows = (rows: FunctionTotalByName[], k: number) => rows.map((r) => ({ name: r.name, flat: r.flat * k, cum: r.cum * k }));
      const summary = (side: number) => ({
        profiles: views[side].view.used.length,
        profileIds: views[side].view.used,
        seconds: views[side].view.seconds,
        total: accumulator.grandTotal(side) * views[side].scale,
        skipped: views[side].view.skipped,
      });
      return {
        before: summary(0),
        after: summary(1),
        normalize,
        unit: after.view.unit,
        sampleType: chosen.key,
        sampleTypes: chosen.options,
        nodes: n,
        droppedNodes: pruned.dropped,
        tree: {
          names: pruned.tree.names,
          name: Array.from(pruned.tree.name),
          depth: Array.from(pruned.tree.depth),
          before: pick(beforeTotal),
          after: pick(afterTotal),
        },
        changes: largestChanges(
          scaleRows(accumulator.functions(0), before.scale),
          scaleRows(accumulator.functions(1), after.scale),
          CHANGE_ROWS,
        ),
      };
    }),
  );

  app.get(
    '/api/v1/facets',
    read,
    handle(async (q) => {
      const { from, to } = parseWindow(q, 'now-72h');
      const filter = { query: q.query ?? '', from, to };
      // A bad query rejects with QuerySyntaxError, which the app answers 400 with its column.
      const [total, facets] = await Promise.all([ctx.store.index.countMatching(filter), ctx.store.index.facets(filter, 20)]);
      return { total, facets };
    }),
  );
}
