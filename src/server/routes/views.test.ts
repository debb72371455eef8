import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { DiffJson, FlameJson } from '../../api/types.js';
import { buildFlameTree } from '../../flame/flame-tree.js';
import { parseProfile } from '../../pprof/parse.js';
import { type Profile, valueIndex } from '../../pprof/profile.js';
import { functionTotals } from '../../pprof/stats.js';
import { overwriteBlobRef } from '../../store/testing.js';
import { ddTraceGoUpload } from '../../testing/dd-upload.js';
import { fixture } from '../../testing/fixtures.js';
import { injectFetch, openTestApp, type TestApp } from '../testing.js';

// The views the web UI draws, in process (app.inject) over a real store holding profiles of real
// Go programs.

const json = readFileSync(fixture('cpu-json.pprof'));
const sort = readFileSync(fixture('cpu-sort.pprof'));
const small = readFileSync(fixture('cpu-small-1.pprof'));
const heap = readFileSync(fixture('heap.pprof'));

function cpuTotal(p: Profile): number {
  const vi = valueIndex(p, 'cpu', 'nanoseconds');
  let sum = 0;
  for (let i = 0; i < p.samples.count; i++) sum += p.samples.values[i * 2 + vi];
  return sum;
}

describe('UI views: flame graph, diff, facets and paging', () => {
  let server: TestApp;
  const ids: Record<string, string> = {};

  const get = (path: string, key: string | null = server.keys.admin): Promise<Response> =>
    injectFetch(server.app, path, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });
  const getJson = async <T>(path: string, status = 200): Promise<T> => {
    const res = await get(path);
    const body = (await res.json()) as T;
    assert.equal(res.status, status, JSON.stringify(body));
    return body;
  };

  before(async () => {
    server = await openTestApp();
    const upload = async (name: string, body: Uint8Array, tags: string) => {
      const res = await injectFetch(server.app, `/api/v1/profiles?tags=${encodeURIComponent(tags)}`, {
        method: 'POST',
        body,
        headers: { authorization: `Bearer ${server.keys.api}` },
      });
      assert.equal(res.status, 201);
      ids[name] = ((await res.json()) as { id: string }).id;
    };
    // Sequential, so "newest first" has a known order.
    await upload('json', json, 'service:shop,env:prod,version:1,pgo:false');
    await upload('sort', sort, 'service:shop,env:prod,version:2,pgo:true');
    await upload('small', small, 'service:api,env:staging,version:7');
    // dd-trace-go sends CPU and heap profiles of one period together.
    const dd = ddTraceGoUpload({ cpu: small, heap, tags: 'service:dd,env:prod', end: new Date(Date.now() - 2 * 3600_000) });
    const res = await injectFetch(server.app, '/profiling/v1/input', {
      method: 'POST',
      body: dd.body,
      headers: { 'content-type': dd.contentType, authorization: `Bearer ${server.keys.api}` },
    });
    assert.equal(res.status, 200);
    ids.dd = ((await res.json()) as { id: string }).id;
  });
  after(() => server.close());

  it('draws one profile: totals, tree layout and the top table match the profile itself', async () => {
    const body = await getJson<FlameJson>(`/api/v1/flamegraph?id=${ids.json}`);
    const p = parseProfile(json);
    assert.equal(body.sampleType, 'cpu.pprof:cpu');
    assert.equal(body.unit, 'nanoseconds');
    assert.deepEqual(
      body.sampleTypes.map((t) => t.key),
      ['cpu.pprof:samples', 'cpu.pprof:cpu'],
    );
    assert.deepEqual(body.profileIds, [ids.json]);
    assert.equal(body.total, cpuTotal(p));
    const expected = buildFlameTree(p, valueIndex(p, 'cpu', 'nanoseconds'));
    assert.equal(body.tree.name.length, expected.name.length);
    assert.equal(body.tree.total[0], body.total);
    for (let i = 0; i < expected.name.length; i++) {
      assert.equal(body.tree.names[body.tree.name[i]], expected.names[expected.name[i]]);
      assert.equal(body.tree.total[i], expected.total[i]);
    }
    const flat = functionTotals(p, valueIndex(p, 'cpu', 'nanoseconds')).flat;
    assert.equal(body.top[0].name, flat[0].name, 'the hottest function comes first');
    assert.equal(body.top[0].flat, flat[0].flat);
  });

  it('sends at most maxNodes frames, the largest, with totals unchanged', async () => {
    const full = await getJson<FlameJson>(`/api/v1/flamegraph?id=${ids.json}`);
    const small = await getJson<FlameJson>(`/api/v1/flamegraph?id=${ids.json}&maxNodes=100`);
    assert.equal(full.droppedNodes, 0);
    assert.equal(small.nodes, full.tree.name.length);
    assert.equal(small.tree.name.length, 100);
    assert.equal(small.droppedNodes, full.nodes - 100);
    assert.equal(small.tree.total[0], full.total);
    assert.deepEqual(small.top, full.top, 'the top table still covers every function');
  });

  it('aggregates every profile a query matches, newest first', async () => {
    const body = await getJson<FlameJson>(`/api/v1/flamegraph?query=${encodeURIComponent('service:shop')}&from=now-1h`);
    assert.deepEqual(body.profileIds, [ids.sort, ids.json]);
    assert.equal(body.total, cpuTotal(parseProfile(json)) + cpuTotal(parseProfile(sort)));
    assert.equal(body.tree.total[0], body.total);
    assert.ok(body.seconds > 0);
  });

  it('switches sample type: a dd-trace-go upload offers its heap profile too', async () => {
    const cpu = await getJson<FlameJson>(`/api/v1/flamegraph?id=${ids.dd}`);
    assert.equal(cpu.sampleType, 'cpu.pprof:cpu');
    const keys = cpu.sampleTypes.map((t) => t.key);
    assert.ok(keys.includes('delta-heap.pprof:alloc_space'), keys.join());
    const heap = await getJson<FlameJson>(`/api/v1/flamegraph?id=${ids.dd}&type=${encodeURIComponent('delta-heap.pprof:alloc_space')}`);
    assert.equal(heap.unit, 'bytes');
    assert.equal(heap.sampleType, 'delta-heap.pprof:alloc_space');
    assert.notEqual(heap.total, cpu.total);
  });

  it('downloads the merged pprof of a selection, with every sample value', async () => {
    const res = await get(`/api/v1/flamegraph/pprof?query=${encodeURIComponent('service:shop')}&from=now-1h`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-hotpath-profiles'), '2');
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="merged-2-cpu\.pprof\.pb\.gz"/);
    const merged = parseProfile(new Uint8Array(await res.arrayBuffer()));
    assert.equal(cpuTotal(merged), cpuTotal(parseProfile(json)) + cpuTotal(parseProfile(sort)));
  });

  it('diffs two workloads per profile, and a selection with itself is all zero', async () => {
    const d = await getJson<DiffJson>(`/api/v1/diff?beforeId=${ids.json}&afterId=${ids.sort}&normalize=profile`);
    assert.equal(d.before.total, cpuTotal(parseProfile(json)));
    assert.equal(d.after.total, cpuTotal(parseProfile(sort)));
    assert.equal(d.tree.before[0], d.before.total);
    assert.equal(d.tree.after[0], d.after.total);
    let grew = 0;
    let shrank = 0;
    for (let i = 1; i < d.tree.name.length; i++) {
      if (d.tree.after[i] > d.tree.before[i]) grew++;
      if (d.tree.after[i] < d.tree.before[i]) shrank++;
    }
    assert.ok(grew > 0 && shrank > 0, `grew ${grew}, shrank ${shrank}`);
    assert.ok(d.changes.length > 0);
    for (let i = 1; i < d.changes.length; i++) assert.ok(Math.abs(d.changes[i - 1].delta) >= Math.abs(d.changes[i].delta));

    // Per second: each side divided by its own profiled seconds.
    const perSecond = await getJson<DiffJson>(`/api/v1/diff?beforeId=${ids.json}&afterId=${ids.sort}&normalize=second`);
    assert.ok(Math.abs(perSecond.before.total - d.before.total / perSecond.before.seconds) < 1e-6 * d.before.total);

    const same = await getJson<DiffJson>(
      `/api/v1/diff?before=${encodeURIComponent('service:shop')}&after=${encodeURIComponent('service:shop')}`,
    );
    assert.equal(same.changes.length, 0);
    for (let i = 0; i < same.tree.name.length; i++) assert.equal(same.tree.after[i] - same.tree.before[i], 0);
  });

  it('takes up to 10,000 profiles a view and says how many it merged', async () => {
    const body = await getJson<FlameJson>(`/api/v1/flamegraph?query=&limit=10000&from=now-1d`);
    assert.equal(body.profiles, 4);
    const d = await getJson<DiffJson>(`/api/v1/diff?before=&after=&limit=10000&from=now-1d`);
    assert.equal(d.before.profiles, 4);
    assert.equal(d.after.profiles, 4);
  });

  it('answers a repeated view the same, and a changed parameter anew', async () => {
    const path = `/api/v1/flamegraph?query=${encodeURIComponent('service:shop')}&from=now-1h&maxNodes=300`;
    const first = await (await get(path)).text();
    const again = await get(path);
    assert.equal(again.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(await again.text(), first);
    const other = (await getJson<FlameJson>(path.replace('maxNodes=300', 'maxNodes=200'))).tree.name.length;
    assert.equal(other, 200);
    assert.equal((JSON.parse(first) as FlameJson).tree.name.length, 300);
  });

  it('answers exactly as the raw path does (HOTPATH_FLAME_RAW=1): flame graphs whole and pruned, heap, diffs', async () => {
    process.env.HOTPATH_FLAME_RAW = '1';
    const raw = await openTestApp();
    delete process.env.HOTPATH_FLAME_RAW;
    try {
      for (const [body, tags] of [
        [json, 'service:shop'],
        [sort, 'service:shop'],
        [small, 'service:api'],
      ] as const) {
        const res = await injectFetch(raw.app, `/api/v1/profiles?tags=${tags}`, {
          method: 'POST',
          body,
          headers: { authorization: `Bearer ${raw.keys.api}` },
        });
        assert.equal(res.status, 201);
      }
      // The same answer but for ids (each app stored its own copies) and the order of the names table.
      const comparable = (answer: FlameJson | DiffJson) => {
        const { names, name, ...tree } = answer.tree as { names: string[]; name: number[] };
        const strip = (side: { profileIds: string[]; skipped: unknown[] }) => ({
          ...side,
          profileIds: side.profileIds.length,
          skipped: side.skipped.length,
        });
        const out: Record<string, unknown> = { ...answer, tree: { ...tree, frames: name.map((n) => names[n]) } };
        if ('profileIds' in answer) Object.assign(out, { profileIds: answer.profileIds.length, skipped: answer.skipped.length });
        if ('before' in answer) Object.assign(out, { before: strip(answer.before), after: strip(answer.after) });
        return out;
      };
      const paths = [
        `/api/v1/flamegraph?query=${encodeURIComponent('service:shop OR service:api')}&from=now-1h`,
        `/api/v1/flamegraph?query=${encodeURIComponent('service:shop OR service:api')}&from=now-1h&maxNodes=150`,
        `/api/v1/flamegraph?query=${encodeURIComponent('service:shop')}&from=now-1h&type=${encodeURIComponent('cpu.pprof:samples')}&maxNodes=40`,
        `/api/v1/diff?before=${encodeURIComponent('service:shop')}&after=${encodeURIComponent('service:api')}&from=now-1h`,
        `/api/v1/diff?before=${encodeURIComponent('service:shop')}&after=${encodeURIComponent('service:api')}&from=now-1h&normalize=profile&maxNodes=120`,
      ];
      for (const path of paths) {
        const rawRes = await injectFetch(raw.app, path, { headers: { authorization: `Bearer ${raw.keys.admin}` } });
        assert.equal(rawRes.status, 200);
        const expected = comparable((await rawRes.json()) as FlameJson);
        assert.deepEqual(comparable(await getJson<FlameJson>(path)), expected, path);
      }
    } finally {
      await raw.close();
    }
  });

  it('draws a profile whose stored prepared form is damaged from its raw profile, the same as an intact one', async () => {
    // Forty days old, so no other test's time window sees it.
    const end = Date.now() - 40 * 86_400_000;
    const res = await injectFetch(server.app, `/api/v1/profiles?tags=service:damaged&end=${end}`, {
      method: 'POST',
      body: small,
      headers: { authorization: `Bearer ${server.keys.api}` },
    });
    const id = ((await res.json()) as { id: string }).id;
    const record = await server.store.getProfile(id);
    assert.ok(record?.preparedBlobKey, 'intake stored a prepared form');
    const damaged = ((await server.store.readPreparedOf(record)) as Uint8Array).slice();
    damaged[damaged.length >> 1] ^= 0x10;
    await overwriteBlobRef(server.store.blobs, record.preparedBlobKey, damaged);
    const fromRaw = await getJson<FlameJson>(`/api/v1/flamegraph?id=${id}&maxNodes=300`);
    const intact = await getJson<FlameJson>(`/api/v1/flamegraph?id=${ids.small}&maxNodes=300`);
    assert.deepEqual(fromRaw.tree, intact.tree);
    assert.deepEqual(fromRaw.top, intact.top);
    assert.deepEqual(fromRaw.skipped, []);
  });

  it('counts facets of the matching profiles, and pages the list with a total', async () => {
    const f = await getJson<{ total: number; facets: Record<string, Array<{ value: string; count: number }>> }>(
      `/api/v1/facets?query=${encodeURIComponent('env:prod')}&from=now-1h`,
    );
    assert.equal(f.total, 2);
    assert.deepEqual(f.facets.service, [{ value: 'shop', count: 2 }]);
    assert.deepEqual(f.facets.pgo, [
      { value: 'false', count: 1 },
      { value: 'true', count: 1 },
    ]);
    const page = await getJson<{ profiles: Array<{ id: string }>; total: number }>(
      `/api/v1/profiles?from=now-1h&limit=1&offset=1&sort=service`,
    );
    assert.equal(page.total, 3, 'the three uploads of the last hour');
    assert.deepEqual(
      page.profiles.map((p) => p.id),
      [ids.sort],
      'sorted by service (api, shop, shop), shop ties newest first',
    );
  });

  describe('bad requests: a 4xx that says what is wrong', () => {
    const cases: Array<[string, () => string, number, RegExp]> = [
      ['a query that does not parse', () => '/api/v1/flamegraph?query=service%3A(a%20OR', 400, /query: .*column 14/],
      ['a query with no matches', () => '/api/v1/flamegraph?query=service%3Anone', 404, /no profiles match "service:none"/],
      ['an unknown profile id', () => '/api/v1/flamegraph?id=nope', 404, /no profile with id nope/],
      ['neither id nor query', () => '/api/v1/flamegraph', 400, /give a profile id/],
      [
        'a sample type the profile lacks',
        () => `/api/v1/flamegraph?id=${ids.json}&type=cpu.pprof%3Aheap`,
        400,
        /it has: cpu.pprof:samples/,
      ],
      ['a malformed sample type', () => `/api/v1/flamegraph?id=${ids.json}&type=cpu`, 400, /<attachment>:<sample type>/],
      ['a limit out of range', () => '/api/v1/flamegraph?query=&limit=0', 400, /"limit" must be an integer/],
      [
        'a flame graph of more than 10,000 profiles',
        () => '/api/v1/flamegraph?query=&limit=10001',
        400,
        /"limit" must be an integer from 1 to 10000/,
      ],
      [
        'a diff side of more than 10,000 profiles',
        () => '/api/v1/diff?before=&after=&limit=10001',
        400,
        /"limit" must be an integer from 1 to 10000/,
      ],
      [
        'a pprof download of more than 1,000 profiles (it merges raw profiles)',
        () => '/api/v1/flamegraph/pprof?query=&limit=1001',
        400,
        /"limit" must be an integer from 1 to 1000\b/,
      ],
      ['a bad normalisation', () => `/api/v1/diff?beforeId=${ids.json}&afterId=${ids.sort}&normalize=hour`, 400, /"normalize"/],
      ['a bad query on one side of a diff', () => `/api/v1/diff?before=env%3A(&afterId=${ids.sort}`, 400, /^before: query/],
      ['a bad facets query', () => '/api/v1/facets?query=%40x%3A1', 400, /query/],
      ['a bad offset', () => '/api/v1/profiles?offset=-1', 400, /"offset"/],
      ['a bad maxNodes', () => `/api/v1/flamegraph?id=${ids.json}&maxNodes=0`, 400, /"maxNodes" must be an integer/],
      ['a bad sort', () => '/api/v1/profiles?sort=size', 400, /"sort" must be one of start, -start/],
    ];
    for (const [name, path, status, message] of cases) {
      it(name, async () => {
        const res = await get(path());
        const body = (await res.json()) as { error: string; column?: number };
        assert.equal(res.status, status, JSON.stringify(body));
        assert.match(body.error, message);
      });
    }

    it('reports the column of a query error as a field', async () => {
      const res = await get('/api/v1/flamegraph?query=service%3A(a%20OR');
      assert.equal(((await res.json()) as { column: number }).column, 14);
    });

    it('refuses reads without an application key', async () => {
      const res = await get(`/api/v1/flamegraph?id=${ids.json}`, null);
      assert.equal(res.status, 401);
    });
  });
});
