import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { FlameJson, TimelineJson, TreeJson } from '../src/api/types.js';
import { parseProfile } from '../src/pprof/parse.js';
import { valueIndex } from '../src/pprof/profile.js';
import { functionTotals } from '../src/pprof/stats.js';
import { ddTraceGoUpload } from '../src/testing/dd-upload.js';
import type { FlameLayout } from '../web/src/flame/layout-types.js';
import { fixture, repoRoot } from './support/paths.js';
import { type RunningServer, startServer } from './support/server.js';

// The CPU timeline, the sandwich view and the package colours as a person sees them: Debian's
// Chromium against a real `hotpath serve` holding dd-trace-go uploads of CPU profiles written by
// real Go programs. What is drawn is checked by its pixels, where the numbers come from the API
// and from the profiles themselves.

const CHROMIUM = process.env.HOTPATH_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(repoRoot, '.cache', 'screenshots');
const MINUTE = 60_000;
/** Row height of the flame graph, in CSS px (web/src/flame/flame-graph.ts). */
const ROW = 18;

/** The little of the DOM the probes use (this file compiles without the DOM library). */
interface CanvasLike {
  width: number;
  clientWidth: number;
  clientHeight: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
declare const document: { querySelectorAll(selector: string): ArrayLike<unknown> };
declare const localStorage: { setItem(key: string, value: string): void };

/** The colour at (x, y) CSS px of the `index`th canvas matching `selector`. */
function pixelAt(page: Page, selector: string, x: number, y: number, index = 0): Promise<[number, number, number]> {
  return page.evaluate(
    ({ selector, x, y, index }) => {
      const canvas = document.querySelectorAll(selector)[index] as CanvasLike;
      const ratio = canvas.width / canvas.clientWidth;
      const p = canvas.getContext('2d').getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data;
      return [p[0], p[1], p[2]] as [number, number, number];
    },
    { selector, x, y, index },
  );
}

/** Hue in degrees (0–360) of an RGB colour. */
function hueOf([r, g, b]: [number, number, number]): number {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  if (max === min) return 0;
  const d = max - min;
  const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return (h * 60 + 360) % 360;
}

const near = (a: [number, number, number], b: [number, number, number], tolerance = 12) =>
  a.every((v, i) => Math.abs(v - b[i]) <= tolerance);

interface LayoutModule {
  layoutTree(tree: TreeJson): FlameLayout;
}

/** The deepest depth FlameGraph draws when frame `zoom` fills `cssWidth`: frames at least half a pixel wide, under drawn parents. */
function deepestDrawn(L: FlameLayout, zoom: number, cssWidth: number): number {
  const scale = cssWidth / L.width[zoom];
  let deepest = L.depth[zoom];
  for (let i = zoom; i < L.end[zoom]; ) {
    if (L.width[i] * scale < 0.5) {
      i = L.end[i];
      continue;
    }
    deepest = Math.max(deepest, L.depth[i]);
    i++;
  }
  return deepest;
}

describe('web UI in Chromium: CPU over time, sandwich view and package colours', () => {
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let layouts: LayoutModule;
  const pageErrors: string[] = [];
  const now = Date.now();
  /** shop ran 1.0 without PGO, then 2.0 with it from 30 minutes ago. */
  const plan = [
    { file: 'cpu-small-1.pprof', start: now - 50 * MINUTE, version: '1.0', pgo: false },
    { file: 'cpu-small-2.pprof', start: now - 45 * MINUTE, version: '1.0', pgo: false },
    { file: 'cpu-json.pprof', start: now - 30 * MINUTE, version: '2.0', pgo: true },
    { file: 'cpu-sort.pprof', start: now - 20 * MINUTE, version: '2.0', pgo: true },
  ];
  const ids: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${server.appKey}` } });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as T;
  };

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium; .ci/run does it)`);
    }
    mkdirSync(SHOTS, { recursive: true });
    layouts = (await import(pathToFileURL(join(repoRoot, 'dist', 'web', 'flame', 'layout.js')).href)) as LayoutModule;
    server = await startServer();
    for (const p of plan) {
      const dd = ddTraceGoUpload({
        cpu: readFileSync(fixture(p.file)),
        tags: `service:shop,env:prod,version:${p.version},pgo:${p.pgo},host:shop-1`,
        start: new Date(p.start),
        end: new Date(p.start + MINUTE),
      });
      const res = await fetch(`${server.url}/profiling/v1/input`, {
        method: 'POST',
        body: dd.body,
        headers: { 'content-type': dd.contentType, authorization: `Bearer ${server.apiKey}` },
      });
      assert.equal(res.status, 200, await res.clone().text());
      ids.push(((await res.json()) as { id: string }).id);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) pageErrors.push(msg.text());
    });
    // The application key is in the browser before the first view asks for it.
    await page.addInitScript((key) => localStorage.setItem('hotpath.appKey', key), server.appKey);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** Where the timeline plot is and which window it shows, as the chart publishes it. */
  const plotOf = async (index = 0) => {
    const chart = page.getByTestId('timeline').nth(index);
    const n = async (name: string) => Number(await chart.getAttribute(`data-${name}`));
    const [left, width, top, height, fromMs, toMs] = await Promise.all(
      ['plot-left', 'plot-width', 'plot-top', 'plot-height', 'from-ms', 'to-ms'].map(n),
    );
    const x = (t: number) => left + ((t - fromMs) / (toMs - fromMs)) * width;
    return { left, width, top, height, fromMs, toMs, x };
  };

  it('draws CPU over time above the explorer table, with a marker where version 2.0 and pgo:true start', async () => {
    await page.goto(`${server.url}/#/explore?query=${encodeURIComponent('service:shop')}&from=now-1h`);
    await page.getByTestId('timeline-summary').filter({ hasText: 'CPU over time of 4 profiles' }).waitFor();
    await page.getByTestId('profiles-table').waitFor();
    const plot = await plotOf();
    // The same timeline from the API, for the window the chart shows: one marker per kind, at the first 2.0 profile.
    const data = await api<TimelineJson>(`/api/v1/timeline?query=service:shop&from=${plot.fromMs}&to=${plot.toMs}`);
    assert.deepEqual(
      data.markers.map((m) => [m.kind, m.atMs, m.previous, m.value]),
      [
        ['version', plan[2].start, '1.0', '2.0'],
        ['pgo', plan[2].start, 'false', 'true'],
      ],
    );
    const summary = (await page.getByTestId('timeline-summary').textContent()) ?? '';
    assert.match(summary, /version 1\.0 → 2\.0/);
    assert.match(summary, /pgo false → true/);
    const selector = 'canvas[data-testid="timeline-canvas"]';
    const markerX = plot.x(plan[2].start);
    const marker: [number, number, number] = [0xd5, 0x5e, 0x00];
    // The marker is drawn over the whole plot height at the change, and nowhere near the 1.0 profiles.
    for (const f of [0.1, 0.5, 0.9]) {
      const c = await pixelAt(page, selector, markerX, plot.top + plot.height * f);
      assert.ok(near(c, marker), `marker pixel at ${f} of the height: ${c}`);
    }
    // Each version's CPU stacks up from the axis in its own colour: 1.0 first (blue), 2.0 next (orange).
    const bottom = plot.top + plot.height - 3;
    const v1 = await pixelAt(page, selector, plot.x(plan[0].start + MINUTE / 2), bottom);
    const v2 = await pixelAt(page, selector, plot.x(plan[3].start + MINUTE / 2), bottom);
    assert.ok(near(v1, [0x00, 0x72, 0xb2]), `1.0 is blue: ${v1}`);
    assert.ok(near(v2, [0xe6, 0x9f, 0x00]), `2.0 is orange: ${v2}`);
    const between = await pixelAt(page, selector, plot.x(plan[0].start + MINUTE / 2), plot.top + plot.height * 0.5);
    assert.ok(!near(between, marker), `no marker at the 1.0 profiles: ${between}`);
    // Split by pgo instead: the same bands, labelled by the flag.
    assert.match((await page.getByRole('list', { name: 'Series' }).textContent()) ?? '', /1\.0 \(2\)\s*2\.0 \(2\)/);
    await shot('timeline-explorer');
    assert.deepEqual(pageErrors, []);
  });

  it('brushing the chart sets the URL’s time range, and the table follows', async () => {
    const plot = await plotOf();
    const box = await page.getByTestId('timeline-canvas').boundingBox();
    assert.ok(box);
    const [t0, t1] = [now - 35 * MINUTE, now - 15 * MINUTE];
    const y = box.y + plot.top + plot.height / 2;
    await page.mouse.move(box.x + plot.x(t0), y);
    await page.mouse.down();
    await page.mouse.move(box.x + plot.x((t0 + t1) / 2), y, { steps: 4 });
    await page.mouse.move(box.x + plot.x(t1), y, { steps: 4 });
    await page.mouse.up();
    // Brushing rewrites the hash (history.pushState): no page load to wait for.
    await page.waitForFunction('/from=\\d{4}-/.test(location.hash)', undefined, { timeout: 10_000 });
    const params = new URLSearchParams(new URL(page.url()).hash.split('?')[1]);
    const from = Date.parse(params.get('from') ?? '');
    const to = Date.parse(params.get('to') ?? '');
    // Within two pixels of where the drag began and ended.
    const msPerPx = (plot.toMs - plot.fromMs) / plot.width;
    assert.ok(Math.abs(from - t0) <= 2 * msPerPx, `from ${new Date(from).toISOString()} vs ${new Date(t0).toISOString()}`);
    assert.ok(Math.abs(to - t1) <= 2 * msPerPx, `to ${new Date(to).toISOString()} vs ${new Date(t1).toISOString()}`);
    assert.equal(params.get('query'), 'service:shop', 'the query is kept');
    // Only the 2.0 profiles are in the new window, in the table and in the chart.
    await page.getByTestId('result-count').filter({ hasText: '2 profiles' }).waitFor();
    await page.getByTestId('timeline-summary').filter({ hasText: 'CPU over time of 2 profiles' }).waitFor();
    const rows = await page.locator('[data-testid="profiles-table"] tbody tr').allInnerTexts();
    for (const row of rows) assert.match(row, /\b2\.0\b/);
    const after = await plotOf();
    assert.equal(after.fromMs, from);
    assert.equal(after.toMs, to);
  });

  it('shows the timeline on the service page, split by the pgo flag on request', async () => {
    await page.goto(`${server.url}/#/services/shop?from=now-1h&split=pgo`);
    const summary = page.getByTestId('timeline-summary');
    await summary.filter({ hasText: 'by pgo' }).waitFor();
    assert.match((await page.getByRole('list', { name: 'Series' }).textContent()) ?? '', /pgo:false \(2\)\s*pgo:true \(2\)/);
    await shot('timeline-service');
  });

  it('opens the sandwich of a function from the top table: callers and callees both total its cum', async () => {
    const id = ids[2];
    const p = parseProfile(readFileSync(fixture('cpu-json.pprof')));
    const cum = functionTotals(p, valueIndex(p, 'cpu', 'nanoseconds')).cum;
    const flame = await api<FlameJson>(`/api/v1/flamegraph?id=${id}`);
    // A function that calls itself through others, as the JSON decoder does: the hardest case.
    const L = layouts.layoutTree(flame.tree);
    const recursive = new Set<number>();
    for (let i = 1; i < L.name.length; i++) {
      for (let q = L.parent[i]; q > 0; q = L.parent[q]) if (L.name[q] === L.name[i]) recursive.add(L.name[i]);
    }
    const fn = cum.find((f) => recursive.has(flame.tree.names.indexOf(f.name)))?.name;
    assert.ok(fn, 'the profile has a recursive function');
    const expected = cum.find((f) => f.name === fn)?.cum ?? Number.NaN;
    await page.goto(`${server.url}/#/profile/${id}`);
    await page.getByTestId('top-table').waitFor();
    await page.getByRole('searchbox', { name: 'Filter functions' }).fill(fn);
    await page.getByRole('button', { name: `Sandwich view of ${fn}`, exact: true }).click();
    const sandwich = page.getByTestId('sandwich');
    await sandwich.waitFor();
    assert.equal(await sandwich.getAttribute('data-function'), fn);
    // The profile's own cum (pprof's rule: a sample counts once however often the function is on its stack).
    assert.equal(Number(await sandwich.getAttribute('data-callers-total')), expected);
    assert.equal(Number(await sandwich.getAttribute('data-callees-total')), expected);
    assert.equal(flame.top.find((r) => r.name === fn)?.cum, expected, 'the top table shows the same cum');
    assert.match(page.url(), /sandwich=/);
    // Both halves are drawn, each as tall as what it holds: callers of a deep function are many rows, its callees another number.
    const heights = await page.evaluate(() =>
      Array.from(
        document.querySelectorAll('[data-testid="sandwich"] canvas[data-testid="flame-canvas"]'),
        (c) => (c as CanvasLike).clientHeight,
      ),
    );
    assert.equal(heights.length, 2);
    for (const h of heights) assert.ok(h > 0 && h % ROW === 0, `height ${h}`);
    // The callers half is inverted: its root, the function itself, is the bottom row.
    const callersCanvas = '[data-testid="sandwich-callers"] canvas';
    const bottomRow = await pixelAt(page, callersCanvas, 2, heights[0] - ROW / 2 + 7);
    const topRow = await pixelAt(page, callersCanvas, 2, 2);
    assert.ok(
      bottomRow.some((v) => v < 245),
      `the bottom row is painted: ${bottomRow}`,
    );
    assert.ok(
      topRow.some((v) => v < 245),
      `the top row is painted (the outermost callers): ${topRow}`,
    );
    await shot('sandwich');
    // Reloading the URL opens the same sandwich.
    await page.reload();
    await page.getByTestId('sandwich').waitFor();
    assert.equal(await page.getByTestId('sandwich').getAttribute('data-function'), fn);
    await page.getByRole('button', { name: 'Close sandwich' }).click();
    assert.equal(await page.getByTestId('sandwich').count(), 0);
    assert.doesNotMatch(page.url(), /sandwich=/);
  });

  it('opens the sandwich of a flame graph frame by right-click', async () => {
    const flame = await api<FlameJson>(`/api/v1/flamegraph?id=${ids[2]}`);
    const L = layouts.layoutTree(flame.tree);
    const canvas = page.locator('[data-testid="flame-canvas"]').first();
    const box = await canvas.boundingBox();
    assert.ok(box);
    // The widest frame below the root.
    let widest = 1;
    for (let i = 1; i < L.name.length; i = L.end[i]) if (L.width[i] > L.width[widest]) widest = i;
    const x = ((L.x[widest] + L.width[widest] / 2) / L.width[0]) * box.width;
    await canvas.click({ button: 'right', position: { x, y: ROW * L.depth[widest] + ROW / 2 } });
    await page.getByTestId('sandwich').waitFor();
    assert.equal(await page.getByTestId('sandwich').getAttribute('data-function'), L.names[L.name[widest]]);
  });

  it('colours frames by package class: runtime, standard library and the own module differ, with a legend', async () => {
    const flame = await api<FlameJson>(`/api/v1/flamegraph?id=${ids[2]}`);
    assert.equal(flame.mainModule, 'hotpath.local/e2e/workloads', 'the module of e2e/workloads, read from the profile');
    await page.goto(`${server.url}/#/profile/${ids[2]}`);
    await page.locator('[data-testid="flame-summary"]').first().filter({ hasText: 'flame graph of' }).waitFor();
    const legend = (await page.getByTestId('package-legend').textContent()) ?? '';
    assert.match(legend, /own module \(main, hotpath\.local\/e2e\/workloads\)/);
    assert.match(legend, /standard library/);
    assert.match(legend, /Go runtime/);
    const L = layouts.layoutTree(flame.tree);
    const cssWidth = await page.evaluate(
      () => (document.querySelectorAll('canvas[data-testid="flame-canvas"]')[0] as CanvasLike).clientWidth,
    );
    /** The widest frame whose function satisfies `test`, and the hue of its pixels (left edge, below the label). */
    const hueOfWidest = async (test: (name: string) => boolean): Promise<{ name: string; hue: number }> => {
      let best = -1;
      for (let i = 1; i < L.name.length; i++) if (test(L.names[L.name[i]]) && (best < 0 || L.width[i] > L.width[best])) best = i;
      assert.ok(best > 0 && (L.width[best] / L.width[0]) * cssWidth > 6, 'a frame wide enough to probe');
      const x = (L.x[best] / L.width[0]) * cssWidth + 2;
      const color = await pixelAt(page, 'canvas[data-testid="flame-canvas"]', x, L.depth[best] * ROW + ROW - 2);
      return { name: L.names[L.name[best]], hue: hueOf(color) };
    };
    const runtime = await hueOfWidest((n) => n.startsWith('runtime.'));
    const std = await hueOfWidest((n) => n.startsWith('encoding/json.'));
    const own = await hueOfWidest((n) => n.startsWith('hotpath.local/e2e/workloads/'));
    const hueGap = (a: number, b: number) => Math.min(Math.abs(a - b), 360 - Math.abs(a - b));
    // As web/src/flame/colors.ts assigns them: runtime blue (208°), std bluish green (165°), own orange (30°).
    assert.ok(hueGap(runtime.hue, 208) <= 10, `${runtime.name}: hue ${runtime.hue}`);
    assert.ok(hueGap(std.hue, 165) <= 10, `${std.name}: hue ${std.hue}`);
    assert.ok(hueGap(own.hue, 30) <= 10, `${own.name}: hue ${own.hue}`);
    await shot('package-colours');
  });

  it('sizes the flame graph to what is drawn: zooming on a shallow frame makes the canvas shorter', async () => {
    const flame = await api<FlameJson>(`/api/v1/flamegraph?id=${ids[2]}`);
    const L = layouts.layoutTree(flame.tree);
    const canvas = page.locator('[data-testid="flame-canvas"]').first();
    const height = () => canvas.evaluate((c) => (c as unknown as CanvasLike).clientHeight);
    const box = await canvas.boundingBox();
    assert.ok(box);
    const full = deepestDrawn(L, 0, box.width);
    assert.equal(await height(), (full + 1) * ROW);
    // A frame holding at least 5% of the time whose drawn subtree is the shallowest.
    let target = -1;
    let targetDeepest = Number.POSITIVE_INFINITY;
    for (let i = 1; i < L.name.length; i++) {
      if (L.width[i] < 0.05 * L.width[0]) continue;
      const d = deepestDrawn(L, i, box.width);
      if (d < targetDeepest) {
        target = i;
        targetDeepest = d;
      }
    }
    assert.ok(target > 0 && targetDeepest < full, 'a shallow frame to zoom on');
    const x = ((L.x[target] + L.width[target] / 2) / L.width[0]) * box.width;
    await canvas.click({ position: { x, y: L.depth[target] * ROW + ROW / 2 } });
    assert.equal(await height(), (targetDeepest + 1) * ROW);
    assert.ok((await height()) < (full + 1) * ROW);
  });
});
