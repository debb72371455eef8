import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { TreeJson } from '../src/api/types.js';
import { type FlameTree, FlameTreeAccumulator } from '../src/flame/flame-tree.js';
import { parseProfile } from '../src/pprof/parse.js';
import { valueIndex } from '../src/pprof/profile.js';
import { matchesQuery } from '../src/query/evaluate.js';
import { parseQuery } from '../src/query/parse.js';
import type { FlameLayout } from '../web/src/flame/layout-types.js';
import { fixture, repoRoot } from './support/paths.js';

// The web UI's pure transforms (flame layout, function focus, diff colours, formatting, URL
// state), run in Node on trees the server builds from real Go profiles, apart from any canvas:
// the browser tests check what is drawn, these check the numbers it is drawn from. They load the
// modules exactly as the browser does, from the build in dist/web.

interface LayoutModule {
  layoutTree(tree: TreeJson, weights?: Float64Array): FlameLayout;
  focusWeights(layout: FlameLayout, fn: string): Float64Array;
  frameKeys(layout: FlameLayout): string[];
  frameKey(layout: FlameLayout, node: number): string;
}
interface ColorsModule {
  frameColor(name: string): string;
  packageOf(name: string): string;
  diffColor(before: number, after: number): string;
}
interface FormatModule {
  formatValue(value: number, unit: string): string;
  percent(part: number, whole: number): string;
  describeRange(from: string, to?: string): string;
}
interface RouteModule {
  href(path: string[], params?: Record<string, string | number | null | undefined>): string;
  currentRoute(): { path: string[]; params: URLSearchParams };
}
interface QueryTermsModule {
  term(key: string, value: string, exclude?: boolean): string;
  queryTerms(query: string): string[];
  toggleTerm(query: string, t: string): string;
  serviceQuery(service: string, env?: string): string;
}
interface TimeRangeModule {
  windowOf(params: URLSearchParams, defaultFrom: string): { from: string; to: string };
  windowParams(w: { from: string; to: string }): { from: string; to: string | null };
}

const built = join(repoRoot, 'dist', 'web');
async function load<T>(relative: string): Promise<T> {
  const path = join(built, relative);
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build (it compiles web/ into dist/web)`);
  return (await import(pathToFileURL(path).href)) as T;
}

/** The tree the server would send for a fixture's CPU time, and the function totals beside it. */
function serverTree(name: string) {
  const p = parseProfile(readFileSync(fixture(name)));
  const acc = new FlameTreeAccumulator();
  acc.add(p, valueIndex(p, 'cpu', 'nanoseconds'));
  const tree = acc.tree();
  const json: TreeJson = {
    names: tree.names,
    name: Array.from(tree.name),
    depth: Array.from(tree.depth),
    self: Array.from(tree.self),
    total: Array.from(tree.total),
  };
  return { tree, json, functions: acc.functions() };
}

/** Every node's path of names from the root, as one string (a node's identity across trees). */
function paths(t: { names: string[]; name: ArrayLike<number>; parent: ArrayLike<number> }): string[] {
  const out: string[] = [];
  for (let i = 0; i < t.name.length; i++) out.push(t.parent[i] < 0 ? '' : `${out[t.parent[i]]};${t.names[t.name[i]]}`);
  return out;
}

const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

describe('web UI transforms on real flame trees', () => {
  let layout: LayoutModule;
  let colors: ColorsModule;
  let format: FormatModule;
  let route: RouteModule;
  let time: TimeRangeModule;
  let terms: QueryTermsModule;
  before(async () => {
    terms = await load<QueryTermsModule>('query-terms.js');
    layout = await load<LayoutModule>('flame/layout.js');
    colors = await load<ColorsModule>('flame/colors.js');
    format = await load<FormatModule>('format.js');
    route = await load<RouteModule>('route.js');
    time = await load<TimeRangeModule>('components/time-range.js');
  });

  for (const name of ['cpu-json.pprof', 'cpu-sort.pprof', 'cpu-small-1.pprof']) {
    it(`lays out ${name}: parents, subtree ends, and each frame right after its earlier siblings`, () => {
      const { tree, json } = serverTree(name);
      const L = layout.layoutTree(json);
      const n = tree.name.length;
      let maxDepth = 0;
      const next = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        assert.equal(L.parent[i], tree.parent[i], `parent of ${i}`);
        assert.equal(L.end[i], i + tree.size[i], `end of ${i}`);
        assert.equal(L.width[i], tree.total[i]);
        maxDepth = Math.max(maxDepth, tree.depth[i]);
        const p = tree.parent[i];
        if (p < 0) {
          assert.equal(L.x[i], 0);
          continue;
        }
        // The API's contract: x = parent's x + the totals of the earlier siblings.
        near(L.x[i], L.x[p] + next[p], `x of ${tree.names[tree.name[i]]}`);
        next[p] += tree.total[i];
        assert.ok(L.x[i] + L.width[i] <= L.x[p] + L.width[p] + 1e-6, 'a frame stays inside its parent');
      }
      assert.equal(L.maxDepth, maxDepth);
    });
  }

  it('focus on a function keeps exactly the samples through it (its cum), whole under it, partial above', () => {
    const { tree, json, functions } = serverTree('cpu-json.pprof');
    const L = layout.layoutTree(json);
    const path = paths(tree);
    // The ten functions with the most cumulative time, recursive ones (parser) among them.
    for (const f of [...functions].sort((a, b) => b.cum - a.cum).slice(0, 10)) {
      const w = layout.focusWeights(L, f.name);
      near(w[0], f.cum, `root width focused on ${f.name}`);
      const target = tree.names.indexOf(f.name);
      for (let i = 1; i < tree.name.length; i++) {
        const through = path[i].split(';').includes(f.name);
        if (through) near(w[i], tree.total[i], `${path[i]} is through ${f.name}`);
        else assert.ok(w[i] <= tree.total[i] + 1e-6);
        if (tree.name[i] === target) assert.ok(w[i] > 0 || tree.total[i] === 0);
      }
      // Focused widths still nest: children never exceed their parent.
      const children = new Float64Array(tree.name.length);
      for (let i = 1; i < tree.name.length; i++) children[tree.parent[i]] += w[i];
      for (let i = 0; i < tree.name.length; i++) assert.ok(children[i] <= w[i] + 1e-6 * Math.max(1, w[i]));
    }
    assert.deepEqual(
      Array.from(layout.focusWeights(L, 'no.such.function')).filter((v) => v !== 0),
      [],
    );
  });

  it('keys frames by their path, so a zoom in the URL finds the same frame in other data', () => {
    const json = serverTree('cpu-json.pprof');
    const sort = serverTree('cpu-sort.pprof');
    const jsonLayout = layout.layoutTree(json.json);
    const jsonKeys = layout.frameKeys(jsonLayout);
    for (let i = 0; i < jsonKeys.length; i++)
      assert.equal(layout.frameKey(jsonLayout, i), jsonKeys[i], 'one frame’s key = its key among all');
    const sortKeys = layout.frameKeys(layout.layoutTree(sort.json));
    assert.equal(jsonKeys[0], '', 'the root has the empty key');
    assert.equal(new Set(jsonKeys).size, jsonKeys.length, 'one key per frame');
    assert.ok(
      jsonKeys.slice(1).every((k) => /^[0-9a-z]{8,14}$/.test(k)),
      'short URL-safe keys',
    );
    // Paths both workloads have get the same key in both trees, and only those.
    const jsonPaths = paths(json.tree);
    const sortByKey = new Map(sortKeys.map((k, i) => [k, i]));
    const sortPaths = paths(sort.tree);
    let shared = 0;
    for (let i = 1; i < jsonKeys.length; i++) {
      const j = sortByKey.get(jsonKeys[i]);
      if (j === undefined) continue;
      assert.equal(sortPaths[j], jsonPaths[i]);
      shared++;
    }
    assert.equal(shared, jsonPaths.filter((x) => new Set(sortPaths).has(x)).length - 1);
    assert.ok(shared > 5, `${shared} shared paths`);
  });

  it('lays a diff tree out by the mean of both sides, which still nests', () => {
    const before = serverTree('cpu-json.pprof');
    const after = serverTree('cpu-sort.pprof');
    const acc = new FlameTreeAccumulator(2);
    for (const [side, name] of [
      [0, 'cpu-json.pprof'],
      [1, 'cpu-sort.pprof'],
    ] as const) {
      const p = parseProfile(readFileSync(fixture(name)));
      acc.add(p, valueIndex(p, 'cpu', 'nanoseconds'), 1, side);
    }
    const both: FlameTree = acc.tree(0);
    const afterTotals = acc.tree(1).total;
    const L = layout.layoutTree({
      names: both.names,
      name: Array.from(both.name),
      depth: Array.from(both.depth),
      before: Array.from(both.total),
      after: Array.from(afterTotals),
    });
    near(L.width[0], (before.tree.total[0] + after.tree.total[0]) / 2, 'root');
    for (let i = 1; i < both.name.length; i++) {
      const p = both.parent[i];
      assert.ok(L.x[i] >= L.x[p] - 1e-6 && L.x[i] + L.width[i] <= L.x[p] + L.width[p] + 1e-6, 'a diff frame stays inside its parent');
    }
  });

  it('colours diffs red for growth and green for shrinkage, stronger with the change; frames by package', () => {
    const hsl = (c: string) => (/hsl\(([\d.]+), [\d.]+%, ([\d.]+)%\)/.exec(c) ?? []).slice(1).map(Number);
    const [grewHue, grewLight] = hsl(colors.diffColor(100, 200));
    const [shrankHue] = hsl(colors.diffColor(200, 100));
    const [, doubledLight] = hsl(colors.diffColor(100, 1000));
    const [, sameLight] = hsl(colors.diffColor(100, 100));
    assert.ok(grewHue < 20, 'growth is red');
    assert.ok(shrankHue > 100 && shrankHue < 160, 'shrinkage is green');
    assert.ok(doubledLight < grewLight && grewLight < sameLight, 'a larger change is more intense');
    assert.equal(colors.packageOf('net/http.(*conn).serve'), 'net/http');
    assert.equal(colors.packageOf('encoding/json.(*decodeState).object'), 'encoding/json');
    assert.equal(colors.frameColor('encoding/json.Marshal'), colors.frameColor('encoding/json.Unmarshal'), 'one colour per package');
    assert.equal(colors.frameColor('runtime.mallocgc'), colors.frameColor('runtime.mallocgc'), 'deterministic');
  });

  it('formats values in pprof units and windows for people', () => {
    assert.equal(format.formatValue(5_660_000_000, 'nanoseconds'), '5.66 s');
    assert.equal(format.formatValue(290_000_000, 'nanoseconds'), '290 ms');
    assert.equal(format.formatValue(1536, 'bytes'), '1.5 KiB');
    assert.equal(format.formatValue(1200, 'count'), '1.2k');
    assert.equal(format.percent(1, 3), '33.3%');
    assert.equal(format.percent(1, 0), '0%');
    assert.equal(format.describeRange('now-24h'), 'in the last 24 hours');
    assert.equal(format.describeRange('now-30d', 'now-7d'), 'between now-30d and now-7d');
  });

  it('writes query terms the server parses back to the value clicked, however odd the value', () => {
    const profile = (host: string) => ({ id: 'x', tags: { host: [host], service: ['my api'] }, metrics: {} });
    for (const value of ['web-1', 'a b', 'rack[1]?', 'x"y', 'c\\d', 'web-*', '1.0 (beta)', 'OR', 'é.host/2']) {
      const t = terms.term('host', value);
      assert.equal(matchesQuery(parseQuery(t), profile(value)), true, `${t} matches ${value}`);
      assert.equal(matchesQuery(parseQuery(t), profile(`${value}x`)), false, `${t} matches only ${value}`);
      assert.equal(matchesQuery(parseQuery(terms.term('host', value, true)), profile(value)), false, `-${t}`);
      // A facet click on a value already in the query takes exactly that term out.
      const q = `service:api ${t} env:prod`;
      assert.deepEqual(terms.queryTerms(q), ['service:api', t, 'env:prod']);
      assert.equal(terms.toggleTerm(q, t), 'service:api env:prod');
      assert.equal(terms.toggleTerm('service:api', t), `service:api ${t}`);
    }
    assert.equal(terms.serviceQuery('my api', 'prod'), 'service:"my api" env:prod');
    assert.equal(matchesQuery(parseQuery(terms.serviceQuery('my api')), profile('h')), true);
  });

  it('keeps view state in the hash: what href writes, currentRoute reads back', () => {
    const hash = route.href(['profile', 'a/b c'], { query: 'service:api env:"a b"', page: 2, empty: '', none: null });
    assert.equal(hash, '#/profile/a%2Fb%20c?query=service%3Aapi+env%3A%22a+b%22&page=2');
    const g = globalThis as { location?: unknown };
    g.location = { hash };
    try {
      const r = route.currentRoute();
      assert.deepEqual(r.path, ['profile', 'a/b c']);
      assert.equal(r.params.get('query'), 'service:api env:"a b"');
      assert.equal(r.params.get('page'), '2');
    } finally {
      delete g.location;
    }
    assert.deepEqual(time.windowOf(new URLSearchParams('from=now-3d'), 'now-24h'), { from: 'now-3d', to: 'now' });
    assert.deepEqual(time.windowOf(new URLSearchParams(''), 'now-24h'), { from: 'now-24h', to: 'now' });
    assert.deepEqual(time.windowParams({ from: 'now-1h', to: 'now' }), { from: 'now-1h', to: null });
  });
});

interface SandwichModule {
  sandwichOf(layout: FlameLayout, fn: string): { callers: TreeJson; callees: TreeJson; total: number; occurrences: number };
}
type PackageClassName = 'runtime' | 'std' | 'own' | 'dependency' | 'other';
interface PackageColorsModule {
  packageClass(name: string, mainModule: string | null): PackageClassName;
  classColor(name: string, mainModule: string | null): string;
}
interface TimelineScaleModule {
  stack(values: number[][]): { lower: number[][]; upper: number[][]; max: number };
  valueTicks(max: number, wanted?: number): { top: number; ticks: number[] };
  timeTicks(from: number, to: number, wanted?: number): number[];
  xOfTime(area: PlotArea, t: number): number;
  timeOfX(area: PlotArea, x: number): number;
  brushRange(area: PlotArea, x0: number, x1: number): { from: string; to: string } | null;
  bucketAt(fromMs: number, stepMs: number, buckets: number, t: number): number;
}
interface PlotArea {
  left: number;
  width: number;
  fromMs: number;
  toMs: number;
}

/** Checks a tree is consistent: each node's total is its self plus its children's totals. */
function assertSums(t: TreeJson, what: string): void {
  const total = t.total ?? [];
  const self = t.self ?? [];
  const childSum = new Float64Array(t.name.length);
  const stack: number[] = [];
  for (let i = 0; i < t.name.length; i++) {
    while (stack.length > 0 && t.depth[stack[stack.length - 1]] >= t.depth[i]) stack.pop();
    if (stack.length > 0) childSum[stack[stack.length - 1]] += total[i];
    stack.push(i);
  }
  for (let i = 0; i < t.name.length; i++) {
    near(self[i] + childSum[i], total[i], `${what}: ${t.names[t.name[i]]} = self + children`);
  }
}

describe('web UI transforms of the views people compare us with', () => {
  let layout: LayoutModule;
  let sandwich: SandwichModule;
  let colors: PackageColorsModule;
  let scale: TimelineScaleModule;
  before(async () => {
    layout = await load<LayoutModule>('flame/layout.js');
    sandwich = await load<SandwichModule>('flame/sandwich.js');
    colors = await load<PackageColorsModule>('flame/colors.js');
    scale = await load<TimelineScaleModule>('chart/timeline-scale.js');
  });

  it('a sandwich’s callers and callees each total the function’s cum, recursive functions included', () => {
    const { tree, json, functions } = serverTree('cpu-json.pprof');
    const L = layout.layoutTree(json);
    // Functions that call themselves (through others): a frame with an ancestor of the same name.
    const recursive = new Set<string>();
    for (let i = 1; i < tree.name.length; i++) {
      for (let p = tree.parent[i]; p > 0; p = tree.parent[p]) {
        if (tree.name[p] === tree.name[i]) recursive.add(tree.names[tree.name[i]]);
      }
    }
    const byCum = [...functions].sort((a, b) => b.cum - a.cum);
    const chosen = [...byCum.slice(0, 15), ...functions.filter((f) => recursive.has(f.name))];
    assert.ok(
      chosen.some((f) => recursive.has(f.name)),
      'the fixture has a recursive function to check',
    );
    for (const f of chosen) {
      const s = sandwich.sandwichOf(L, f.name);
      assert.equal(s.callers.total?.[0], f.cum, `callers of ${f.name}`);
      assert.equal(s.callees.total?.[0], f.cum, `callees of ${f.name}`);
      assert.equal(s.callers.names[s.callers.name[0]], f.name);
      assert.equal(s.callees.names[s.callees.name[0]], f.name);
      assertSums(s.callers, `callers of ${f.name}`);
      assertSums(s.callees, `callees of ${f.name}`);
    }
  });

  it('a sandwich counts a recursive stack once: callers from the outermost call, recursion among the callees', () => {
    // main → f → g → f → h (5) and main → f (3, self).
    const json: TreeJson = {
      names: ['root', 'main', 'f', 'g', 'h'],
      name: [0, 1, 2, 3, 2, 4],
      depth: [0, 1, 2, 3, 4, 5],
      self: [0, 0, 3, 0, 0, 5],
      total: [8, 8, 8, 5, 5, 5],
    };
    const s = sandwich.sandwichOf(layout.layoutTree(json), 'f');
    assert.equal(s.total, 8);
    assert.equal(s.occurrences, 1);
    const shape = (t: TreeJson) => t.name.map((n, i) => `${'  '.repeat(t.depth[i])}${t.names[n]} ${t.total?.[i]}/${t.self?.[i]}`);
    assert.deepEqual(shape(s.callers), ['f 8/0', '  main 8/8']);
    assert.deepEqual(shape(s.callees), ['f 8/3', '  g 5/0', '    f 5/0', '      h 5/5']);
    const missing = sandwich.sandwichOf(layout.layoutTree(json), 'nowhere');
    assert.equal(missing.total, 0);
    assert.equal(missing.callers.names[missing.callers.name[0]], 'nowhere');
  });

  it('classes frames by package: runtime, standard library, own module and dependencies, in distinct colours', () => {
    const own = 'hotpath.local/e2e/workloads';
    const cases: Array<[string, string | null, PackageClassName]> = [
      ['runtime.mallocgc', own, 'runtime'],
      ['runtime/internal/atomic.Load', own, 'runtime'],
      ['internal/runtime/maps.(*Map).getWithKey', own, 'runtime'],
      ['encoding/json.(*decodeState).object', own, 'std'],
      ['slices.SortFunc[go.shape.[]encoding/json.reflectWithString,go.shape.struct { encoding/json.v reflect.Value }]', own, 'std'],
      ['main.main', null, 'own'],
      [`${own}/internal/burn.Run`, own, 'own'],
      [`${own}/internal/burn.Run`, null, 'dependency'],
      [`${own}x/other.F`, own, 'dependency'],
      ['github.com/DataDog/dd-trace-go/v2/profiler.(*profiler).collect', own, 'dependency'],
      ['__libc_start_main', own, 'other'],
      ['[unknown]', own, 'other'],
    ];
    for (const [name, module, expected] of cases) assert.equal(colors.packageClass(name, module), expected, name);
    const hue = (c: string) => Number(/^hsl\((\d+)/.exec(c)?.[1]);
    const hues = ['runtime.mallocgc', 'encoding/json.Marshal', 'main.main', 'github.com/x/y.F'].map((n) => hue(colors.classColor(n, own)));
    assert.equal(new Set(hues).size, 4, `one hue per class: ${hues.join(', ')}`);
    // Every pair of classes is at least 40° of hue apart.
    for (const a of hues)
      for (const b of hues) if (a !== b) assert.ok(Math.min(Math.abs(a - b), 360 - Math.abs(a - b)) >= 40, `${a} vs ${b}`);
  });

  it('stacks timeline series, scales the axis to round ticks, and turns a drag into a time range', () => {
    const s = scale.stack([
      [1, 2, 0],
      [0.5, Number.NaN, 3],
    ]);
    assert.deepEqual(s.lower, [
      [0, 0, 0],
      [1, 2, 0],
    ]);
    assert.deepEqual(s.upper, [
      [1, 2, 0],
      [1.5, 2, 3],
    ]);
    assert.equal(s.max, 3);
    for (const max of [0.003, 0.7, 1, 3.2, 17, 950, 12_345]) {
      const { top, ticks } = scale.valueTicks(max);
      assert.ok(top >= max && top <= max * 2.5 + 1e-12, `top ${top} for ${max}`);
      assert.equal(ticks[0], 0);
      assert.equal(ticks[ticks.length - 1], top);
      assert.ok(ticks.length >= 2 && ticks.length <= 7, `${ticks.length} ticks for ${max}`);
    }
    const from = Date.UTC(2026, 10, 30, 12);
    const area = { left: 50, width: 600, fromMs: from, toMs: from + 3_600_000 };
    assert.equal(scale.xOfTime(area, from + 1_800_000), 350);
    assert.equal(scale.timeOfX(area, 350), from + 1_800_000);
    assert.equal(scale.timeOfX(area, 0), from, 'clamped left');
    // A drag either way selects the same range; one too short to mean a range selects none.
    const range = scale.brushRange(area, 650, 350);
    assert.deepEqual(range, { from: new Date(from + 1_800_000).toISOString(), to: new Date(from + 3_600_000).toISOString() });
    assert.deepEqual(scale.brushRange(area, 350, 700), range, 'clamped to the plot');
    assert.equal(scale.brushRange(area, 200, 202), null);
    const ticks = scale.timeTicks(from, from + 3_600_000, 6);
    assert.ok(ticks.length >= 2 && ticks.every((t) => t % (ticks[1] - ticks[0]) === 0), ticks.join());
    assert.equal(scale.bucketAt(from, 60_000, 60, from + 59_999), 0);
    assert.equal(scale.bucketAt(from, 60_000, 60, from + 3_600_000), -1);
  });
});
