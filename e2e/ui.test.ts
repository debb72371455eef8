import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { parseProfile } from '../src/pprof/parse.js';
import { valueIndex } from '../src/pprof/profile.js';
import { functionTotals } from '../src/pprof/stats.js';
import { ddTraceGoUpload } from '../src/testing/dd-upload.js';
import { fixture, repoRoot } from './support/paths.js';
import { type RunningServer, startServer } from './support/server.js';

// The web UI as a person uses it: Debian's Chromium driven by playwright-core against a real
// `hotpath serve` holding CPU profiles written by real Go programs. Every view is screenshotted.

const CHROMIUM = process.env.HOTPATH_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(repoRoot, '.cache', 'screenshots');

/** The function with the most flat value (CPU time by default) in a fixture, as pprof -top would list it first. */
function hottest(name: string, type = 'cpu', unit = 'nanoseconds'): string {
  const p = parseProfile(readFileSync(fixture(name)));
  return functionTotals(p, valueIndex(p, type, unit)).flat[0].name;
}

interface CanvasPixels {
  colored: number;
  total: number;
  colors: number;
  red: number;
  green: number;
  /** Pixels of the search highlight (#c026d3). */
  magenta: number;
  /** Colour of the pixel at (x, y) in CSS pixels. */
  at?: [number, number, number];
}

/** The little of the DOM the pixel probe uses (this file compiles without the DOM library). */
interface PixelSource {
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
}
interface CanvasLike {
  width: number;
  height: number;
  clientWidth: number;
  getContext(kind: '2d'): PixelSource;
}
declare const document: { querySelectorAll(selector: string): ArrayLike<unknown> };

/** Samples the flame graph canvas: how much of it is painted, in how many colours, how much red and green. */
function canvasPixels(page: Page, index = 0, probe?: { x: number; y: number }): Promise<CanvasPixels> {
  return page.evaluate(
    ({ index, probe }) => {
      const canvas = document.querySelectorAll('canvas[data-testid="flame-canvas"]')[index] as CanvasLike;
      const ctx = canvas.getContext('2d');
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let colored = 0;
      let red = 0;
      let green = 0;
      let magenta = 0;
      const colors = new Set<number>();
      for (let i = 0; i < data.length; i += 16) {
        const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
        if (a === 0 || (r > 245 && g > 245 && b > 245)) continue;
        colored++;
        colors.add((r << 16) | (g << 8) | b);
        if (r > g + 60 && r > b + 60) red++;
        if (g > r + 40 && g > b + 20) green++;
        if (r > 150 && b > 150 && g < 90) magenta++;
      }
      let at: [number, number, number] | undefined;
      if (probe) {
        const ratio = canvas.width / canvas.clientWidth;
        const p = ctx.getImageData(Math.round(probe.x * ratio), Math.round(probe.y * ratio), 1, 1).data;
        at = [p[0], p[1], p[2]];
      }
      return { colored, total: data.length / 16, colors: colors.size, red, green, magenta, at };
    },
    { index, probe },
  );
}

describe('web UI in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const ids: Record<string, string> = {};
  const pageErrors: string[] = [];

  const shot = async (name: string, fullPage = true) => {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
  };
  const flameReady = (index = 0) =>
    page.locator('[data-testid="flame-summary"]').nth(index).filter({ hasText: 'flame graph of' }).waitFor();

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium; .ci/run does it)`);
    }
    mkdirSync(SHOTS, { recursive: true });
    server = await startServer();
    const upload = async (name: string, file: string, tags: string) => {
      const res = await fetch(`${server.url}/api/v1/profiles?tags=${encodeURIComponent(tags)}`, {
        method: 'POST',
        body: readFileSync(fixture(file)),
        headers: { authorization: `Bearer ${server.apiKey}` },
      });
      assert.equal(res.status, 201);
      ids[name] = ((await res.json()) as { id: string }).id;
    };
    // shop ran a JSON-heavy build without PGO, then a sort-heavy build with it: two different workloads.
    await upload('shopBefore', 'cpu-json.pprof', 'service:shop,env:prod,version:1.0,host:shop-1,pgo:false');
    await upload('shopAfter', 'cpu-sort.pprof', 'service:shop,env:prod,version:1.1,host:shop-1,pgo:true');
    await upload('api', 'cpu-small-1.pprof', 'service:api,env:prod,version:3.2,host:api-1,pgo:true');
    await upload('legacy', 'cpu-small-2.pprof', 'service:legacy,env:prod,version:0.9,host:old-1,pgo:false');
    // A dd-trace-go upload: a CPU profile and the heap profile of the same period, no pgo tag.
    const dd = ddTraceGoUpload({
      cpu: readFileSync(fixture('cpu-small-3.pprof')),
      heap: readFileSync(fixture('heap.pprof')),
      tags: 'service:dd,env:staging,version:2.0,host:dd-1',
    });
    const res = await fetch(`${server.url}/profiling/v1/input`, {
      method: 'POST',
      body: dd.body,
      headers: { 'content-type': dd.contentType, authorization: `Bearer ${server.apiKey}` },
    });
    assert.equal(res.status, 200, await res.clone().text());
    ids.dd = ((await res.json()) as { id: string }).id;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    // Clipboard access, so the test can read what the Copy buttons copied.
    page = await browser.newPage({ viewport: { width: 1400, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // The page runs under a content security policy: anything it blocks is a bug of the UI.
    page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) pageErrors.push(msg.text());
    });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    console.log(`screenshots: ${SHOTS}`);
  });

  it('asks for the application key when the API refuses, then lists profiles', async () => {
    await page.goto(`${server.url}/`);
    const dialog = page.getByRole('dialog', { name: 'Application key' });
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /application key/i);
    await dialog.getByLabel('Application key').fill(server.appKey);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('profiles-table').waitFor();
    assert.equal(await page.locator('[data-testid="profiles-table"] tbody tr').count(), 5);
  });

  it('types a query and sees only the matching rows, with facet counts', async () => {
    const input = page.getByRole('searchbox', { name: 'Search query' });
    await input.fill('service:shop');
    await input.press('Enter');
    await page.getByTestId('result-count').filter({ hasText: '2 profiles' }).waitFor();
    const rows = page.locator('[data-testid="profiles-table"] tbody tr');
    assert.equal(await rows.count(), 2);
    for (const text of await rows.allInnerTexts()) assert.match(text, /\bshop\b/);
    const facets = await page.getByRole('complementary', { name: 'Facets' }).innerText();
    assert.match(facets, /pgo\s+false\s+1\s+(−\s+)?true\s+1/i);
    assert.match(page.url(), /#\/explore\?query=service%3Ashop/);
    await shot('explorer');
  });

  it('narrows and widens the query from the facets', async () => {
    const facets = page.getByRole('complementary', { name: 'Facets' });
    await facets.getByRole('button', { name: /^false\s*1$/ }).click();
    await page.getByTestId('result-count').filter({ hasText: '1 profile ' }).waitFor();
    assert.equal(await page.getByRole('searchbox', { name: 'Search query' }).inputValue(), 'service:shop pgo:false');
    // The chosen value is shown as pressed; pressing it again takes the term out.
    await facets.getByRole('button', { name: /^false\s*1$/, pressed: true }).click();
    await page.getByTestId('result-count').filter({ hasText: '2 profiles' }).waitFor();
    await facets.getByRole('button', { name: 'Exclude version 1.1' }).click();
    await page.getByTestId('result-count').filter({ hasText: '1 profile ' }).waitFor();
    assert.equal(await page.getByRole('searchbox', { name: 'Search query' }).inputValue(), 'service:shop -version:1.1');
    assert.match(await page.locator('[data-testid="profiles-table"] tbody').innerText(), /\b1\.0\b/);
  });

  it('keeps a custom time range in the URL and applies it', async () => {
    await page.getByRole('combobox', { name: 'Time range' }).selectOption('custom');
    await page.getByRole('textbox', { name: 'From' }).fill('now-30d');
    await page.getByRole('textbox', { name: 'To' }).fill('now-7d');
    await page.getByRole('button', { name: 'Search' }).click();
    const empty = page.getByTestId('empty');
    await empty.waitFor();
    assert.match(await empty.innerText(), /between now-30d and now-7d/);
    assert.match(page.url(), /from=now-30d&to=now-7d/);
    await shot('explorer-custom-range', false);
    // A bookmark of this view opens the same window.
    await page.reload();
    await page.getByTestId('empty').waitFor();
    assert.equal(await page.getByRole('textbox', { name: 'To' }).inputValue(), 'now-7d');
    await page.getByRole('combobox', { name: 'Time range' }).selectOption('now-24h');
    await page.getByTestId('result-count').filter({ hasText: '1 profile ' }).waitFor();
    assert.doesNotMatch(page.url(), /to=/);
  });

  it('sorts by a column and pages through the results, all in the URL', async () => {
    await page.goto(`${server.url}/#/explore?sort=service&size=2`);
    const table = page.getByTestId('profiles-table');
    await table.waitFor();
    const services = async () => (await table.locator('tbody tr').allInnerTexts()).map((row) => row.split('\t').map((c) => c.trim())[2]);
    // Five profiles of four services, two per page, by service name ascending.
    assert.deepEqual(await services(), ['api', 'dd']);
    assert.equal(await page.getByTestId('page-range').innerText(), '1–2 of 5');
    await page.getByRole('button', { name: 'Next →' }).click();
    await page.getByTestId('page-range').filter({ hasText: '3–4 of 5' }).waitFor();
    assert.deepEqual(await services(), ['legacy', 'shop']);
    assert.match(page.url(), /page=2/);
    await page.getByRole('button', { name: 'Next →' }).click();
    await page.getByTestId('page-range').filter({ hasText: '5–5 of 5' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Next →' }).isDisabled(), true);
    // Sorting again (descending) starts over at the first page.
    await table.getByRole('columnheader', { name: 'Service' }).click();
    await page.getByTestId('page-range').filter({ hasText: '1–2 of 5' }).waitFor();
    assert.deepEqual(await services(), ['shop', 'shop']);
    assert.equal(await table.getByRole('columnheader', { name: 'Service' }).getAttribute('aria-sort'), 'descending');
    assert.match(page.url(), /sort=-service/);
    // A bookmark of a page past the end says so instead of drawing an empty table.
    await page.goto(`${server.url}/#/explore?size=2&page=9`);
    assert.match(await page.getByTestId('empty').innerText(), /Page 9 is past the end: 5 profiles match, 3 pages of 2/);
    await page.getByRole('link', { name: 'Go to the last page' }).click();
    await page.getByTestId('page-range').filter({ hasText: '5–5 of 5' }).waitFor();
  });

  it('shows a query error at its column', async () => {
    const input = page.getByRole('searchbox', { name: 'Search query' });
    await input.fill('service:(a OR');
    await input.press('Enter');
    const error = page.getByTestId('query-error');
    await error.waitFor();
    const text = await error.innerText();
    assert.match(text, /column 14/);
    // The caret line points under column 14.
    assert.match(text, /\n {13}\^/);
    await shot('explorer-query-error');
  });

  it('says so when nothing matches', async () => {
    const input = page.getByRole('searchbox', { name: 'Search query' });
    await input.fill('service:nothing-here');
    await input.press('Enter');
    const empty = page.getByTestId('empty');
    await empty.waitFor();
    assert.match(await empty.innerText(), /No profiles match "service:nothing-here"/);
  });

  it('opens a profile: the canvas shows frames, the summary describes them, the top table leads with the hottest function', async () => {
    await page.goto(`${server.url}/#/explore?query=${encodeURIComponent('service:shop version:1.0')}`);
    await page.locator('[data-testid="profiles-table"] tbody tr a', { hasText: 'flame graph' }).first().click();
    await flameReady();
    const summary = await page.getByTestId('flame-summary').innerText();
    const frames = Number(/flame graph of (\d+) frames/.exec(summary)?.[1]);
    assert.equal(await page.title(), 'shop prod 1.0 · Hotpath', 'bookmarks are named after the profile');
    assert.ok(frames > 100, summary);
    assert.match(summary, /total \d/);
    const pixels = await canvasPixels(page);
    assert.ok(pixels.colored > pixels.total * 0.1, `painted ${pixels.colored} of ${pixels.total} sampled pixels`);
    assert.ok(pixels.colors > 5, `${pixels.colors} colours`);
    assert.equal(await page.getByRole('img').first().getAttribute('aria-label'), summary);
    const firstRow = await page.locator('[data-testid="top-table"] tbody tr').first().innerText();
    assert.ok(firstRow.includes(hottest('cpu-json.pprof')), `first row: ${firstRow}`);
    await shot('profile');
    // The download is the profile itself: same hottest function, same CPU total.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download pprof' }).click();
    const file = await (await download).path();
    const downloaded = parseProfile(readFileSync(file));
    const original = parseProfile(readFileSync(fixture('cpu-json.pprof')));
    const cpuTotal = (p: typeof original) => functionTotals(p, valueIndex(p, 'cpu', 'nanoseconds'));
    assert.equal(cpuTotal(downloaded).flat[0].name, hottest('cpu-json.pprof'));
    assert.equal(cpuTotal(downloaded).flat[0].flat, cpuTotal(original).flat[0].flat);
  });

  it('zooms on the clicked frame', async () => {
    const canvas = page.getByTestId('flame-canvas');
    const box = await canvas.boundingBox();
    assert.ok(box);
    // A frame six rows down, under the middle of the graph.
    const y = 18 * 6 + 9;
    await canvas.click({ position: { x: box.width / 2, y } });
    await page.getByTestId('flame-summary').filter({ hasText: 'Zoomed on' }).waitFor();
    assert.match(page.url(), /zoom=[0-9a-z]+/);
    // The zoomed frame now spans its row from edge to edge, in one colour.
    const left = (await canvasPixels(page, 0, { x: 3, y })).at;
    const right = (await canvasPixels(page, 0, { x: box.width - 4, y })).at;
    assert.deepEqual(left, right);
    assert.notDeepEqual(left, [255, 255, 255]);
    await shot('profile-zoomed');
    // The zoom is part of the link: reloading it shows the same frame zoomed.
    const zoomed = /Zoomed on [^(]+/.exec(await page.getByTestId('flame-summary').innerText())?.[0];
    assert.ok(zoomed);
    await page.reload();
    await page.getByTestId('flame-summary').filter({ hasText: zoomed }).waitFor();
  });

  it('steps out of the zoom with the keyboard', async () => {
    await page.getByTestId('flame-canvas').press('Escape');
    await page.getByTestId('flame-summary').filter({ hasNotText: 'Zoomed on' }).waitFor();
    assert.doesNotMatch(page.url(), /zoom=/);
  });

  it('shows self, total and share of the frame under the pointer', async () => {
    const canvas = page.getByTestId('flame-canvas');
    const box = await canvas.boundingBox();
    assert.ok(box);
    // The second row, a third of the way across: under the root, so a real function.
    await canvas.hover({ position: { x: box.width / 3, y: 18 + 9 } });
    const tooltip = page.getByRole('tooltip');
    await tooltip.waitFor();
    assert.match(await tooltip.innerText(), /^\S+.*\ntotal [\d.]+ m?s \([\d.]+%\) · self [\d.]+ [mµn]?s \([\d.]+%\)$/s);
    await shot('profile-hover', false);
  });

  it('highlights search matches and filters the graph from the top table', async () => {
    await page.getByRole('searchbox', { name: 'Search frames' }).fill('json');
    await page.getByTestId('flame-summary').filter({ hasText: 'Search "json" matches' }).waitFor();
    // The share of the matches is shown beside the search box, and the matches are painted magenta.
    assert.match(await page.getByTestId('search-result').innerText(), /^matches \d+(\.\d+)?% of /);
    const pixels = await canvasPixels(page);
    assert.ok(pixels.magenta > 100, `${pixels.magenta} magenta pixels`);
    await shot('profile-search', false);
    const hot = hottest('cpu-json.pprof');
    await page.locator('[data-testid="top-table"] tbody tr', { hasText: hot }).first().click();
    await page
      .getByTestId('flame-summary')
      .filter({ hasText: `Only stacks through ${hot}` })
      .waitFor();
    assert.match(page.url(), /focus=/);
    // The rows work from the keyboard too: Enter on the selected row lifts the filter.
    const selected = page.locator('[data-testid="top-table"] tbody tr[aria-selected="true"]');
    await selected.focus();
    await selected.press('Enter');
    await page.getByTestId('flame-summary').filter({ hasNotText: 'Only stacks through' }).waitFor();
    assert.doesNotMatch(page.url(), /focus=/);
  });

  it('switches the sample type', async () => {
    await page.getByRole('combobox', { name: 'Sample type' }).selectOption('cpu.pprof:samples');
    await page.getByTestId('flame-summary').filter({ hasText: 'cpu.pprof:samples' }).waitFor();
    assert.match(page.url(), /type=cpu\.pprof%3Asamples/);
  });

  it('switches to the heap profile sent with the CPU profile, in bytes', async () => {
    await page.goto(`${server.url}/#/profile/${ids.dd}`);
    await flameReady();
    await page.getByRole('combobox', { name: 'Sample type' }).selectOption('delta-heap.pprof:alloc_space');
    await page.getByTestId('flame-summary').filter({ hasText: 'delta-heap.pprof:alloc_space' }).waitFor();
    assert.match(await page.getByTestId('flame-summary').innerText(), /total [\d.]+ MiB/);
    const firstRow = await page.locator('[data-testid="top-table"] tbody tr').first().innerText();
    assert.ok(firstRow.includes(hottest('heap.pprof', 'alloc_space', 'bytes')), `first row: ${firstRow}`);
    assert.match(firstRow, /[\d.]+ (MiB|KiB)/);
    const pixels = await canvasPixels(page);
    assert.ok(pixels.colored > pixels.total * 0.05, `painted ${pixels.colored} of ${pixels.total}`);
    await shot('profile-heap');
  });

  it('draws the flame graph of all profiles matching a query, merged on the server', async () => {
    await page.goto(`${server.url}/#/explore?query=service%3Ashop`);
    await page.getByRole('link', { name: 'Flame graph of the newest 2' }).click();
    await flameReady();
    assert.match(page.url(), /#\/aggregate\?query=service%3Ashop/);
    const summary = await page.getByTestId('flame-summary').innerText();
    assert.match(summary, /cpu\.pprof:cpu of 2 profiles: flame graph of \d+ frames/);
    // Its total is both profiles' CPU time.
    const cpu = (name: string) => {
      const p = parseProfile(readFileSync(fixture(name)));
      const vi = valueIndex(p, 'cpu', 'nanoseconds');
      let sum = 0;
      for (let i = 0; i < p.samples.count; i++) sum += p.samples.values[i * (p.sampleTypes.length >> 1) + vi];
      return sum;
    };
    const expected = (cpu('cpu-json.pprof') + cpu('cpu-sort.pprof')) / 1e9;
    const shown = Number(/total ([\d.]+) s\./.exec(summary)?.[1]);
    assert.ok(Math.abs(shown - expected) < 0.006, `total ${shown} s, expected ${expected} s`);
    const pixels = await canvasPixels(page);
    assert.ok(pixels.colored > pixels.total * 0.1, `painted ${pixels.colored} of ${pixels.total}`);
    assert.match(await page.locator('main').innerText(), /2 profiles, \d+ s profiled/);
    await shot('aggregate');
    // How many of the newest to merge is part of the URL; newest 1 is the sort-heavy build.
    await page.getByRole('combobox', { name: 'Profiles to merge' }).selectOption('1');
    await page.getByTestId('flame-summary').filter({ hasText: 'of 1 profile:' }).waitFor();
    assert.match(page.url(), /limit=1\b/);
    const firstRow = await page.locator('[data-testid="top-table"] tbody tr').first().innerText();
    assert.ok(firstRow.includes(hottest('cpu-sort.pprof')), `first row: ${firstRow}`);
  });

  it('compares two profiles picked in the explorer, the older one as before', async () => {
    await page.goto(`${server.url}/#/explore?query=service%3Ashop`);
    await page.getByTestId('profiles-table').waitFor();
    const compare = page.getByRole('button', { name: 'Compare 2 selected' });
    assert.equal(await compare.isDisabled(), true);
    for (const version of ['1.0', '1.1']) {
      await page
        .locator('[data-testid="profiles-table"] tbody tr', { hasText: `shop-1` })
        .filter({ hasText: version })
        .getByRole('checkbox')
        .check();
    }
    await compare.click();
    await page.getByTestId('diff-summary').waitFor();
    assert.match(page.url(), new RegExp(`beforeId=${ids.shopBefore}&afterId=${ids.shopAfter}`));
    assert.equal(await page.getByRole('searchbox', { name: 'Before query' }).inputValue(), `profile-id:${ids.shopBefore}`);
    assert.match(await page.getByTestId('diff-summary').innerText(), /Before: 1 profile, .* After: 1 profile, /);
  });

  it('compares before/after PGO for a service: a non-empty diff of two different workloads', async () => {
    await page.goto(`${server.url}/#/compare`);
    await page.getByRole('combobox', { name: 'Before/after PGO preset' }).selectOption('shop');
    await page.getByTestId('diff-summary').waitFor();
    // The impact report above the diff: these uploads carry no request counts, and it says so.
    await page.getByTestId('impact-summary').waitFor();
    assert.match(await page.getByTestId('impact').innerText(), /CPU cores \(load not accounted for\)/);
    assert.match(await page.getByTestId('no-counts').innerText(), /DD_PROFILING_ENDPOINT_COUNT_ENABLED=true/);
    await flameReady();
    assert.match(page.url(), /before=service%3Ashop(%20|\+)pgo%3Afalse/);
    const pixels = await canvasPixels(page);
    assert.ok(pixels.red > 100 && pixels.green > 100, `red ${pixels.red}, green ${pixels.green}`);
    const changes = page.locator('[data-testid="changes-table"] tbody tr');
    assert.ok((await changes.count()) > 5);
    // Values are normalised, and the tooltip says per what.
    const canvas = page.getByTestId('flame-canvas').first();
    const box = await canvas.boundingBox();
    assert.ok(box);
    await canvas.hover({ position: { x: box.width / 2, y: 18 + 9 } });
    assert.match(await page.getByRole('tooltip').innerText(), /before [\d.]+ [mµn]?s\/s · after [\d.]+ [mµn]?s\/s · [+-]/);
    // Both sides' own graphs are drawn too.
    await flameReady(2);
    await shot('compare');
    // A row of the largest changes keeps only the stacks through its function in the diff graph.
    const top = await changes.first().locator('td').first().innerText();
    await changes.first().click();
    await page
      .getByTestId('flame-summary')
      .first()
      .filter({ hasText: `Only stacks through ${top}` })
      .waitFor();
    assert.match(page.url(), /focus=/);
    const focused = await canvasPixels(page);
    assert.ok(focused.colored < pixels.colored, `focused ${focused.colored} < all ${pixels.colored} painted pixels`);
  });

  it('shows a compare error under the side it is about', async () => {
    await page.goto(`${server.url}/#/compare?before=${encodeURIComponent('service:(a OR')}&after=service%3Ashop`);
    const beforeError = page.getByRole('alert').filter({ hasText: 'before: query:' });
    await beforeError.waitFor();
    assert.match(await beforeError.innerText(), /column 14[\s\S]*\n {13}\^/);
    assert.match(await page.locator('main').innerText(), /Fix the before side to compare/);
    await page.goto(`${server.url}/#/compare?before=service%3Ashop&after=service%3Anobody`);
    const afterError = page.getByRole('alert').filter({ hasText: 'after: no profiles match "service:nobody"' });
    await afterError.waitFor();
    assert.equal(await page.getByRole('searchbox', { name: 'After query' }).getAttribute('aria-invalid'), 'true');
    await shot('compare-error', false);
  });

  it('flags the service whose newest profiles say pgo:false', async () => {
    await page.goto(`${server.url}/#/services`);
    const table = page.getByTestId('services-table');
    await table.waitFor();
    const legacy = table.locator('tr[data-service="legacy"]');
    assert.equal(await legacy.getAttribute('class'), 'flagged');
    assert.match(await legacy.innerText(), /no PGO/);
    assert.equal(await table.locator('tr.flagged').count(), 1, 'only legacy is flagged');
    // shop runs builds with and without PGO: it links to their comparison, legacy has nothing to compare.
    assert.equal(await table.locator('tr[data-service="shop"]').getByRole('link', { name: 'before/after PGO' }).count(), 1);
    assert.equal(await legacy.getByRole('link', { name: 'before/after PGO' }).count(), 0);
    assert.equal(await page.title(), 'Services and PGO · Hotpath');
    await shot('services');
  });

  it('shows the default.pgo the CLI would build for a service, with hot call sites and the CI command', async () => {
    await page.getByRole('link', { name: 'shop' }).click();
    const sites = page.locator('[data-testid="hot-call-sites"] tbody tr');
    await sites.first().waitFor();
    assert.ok((await sites.count()) > 5);
    assert.equal(
      await page.getByTestId('ci-command').innerText(),
      `hotpath pgo --server ${server.url} 'service:shop env:prod' ./default.pgo`,
    );
    await page.getByRole('button', { name: 'Copy' }).first().click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    assert.equal(
      await page.evaluate('navigator.clipboard.readText()'),
      `hotpath pgo --server ${server.url} 'service:shop env:prod' ./default.pgo`,
    );
    assert.match(
      await page.getByTestId('ci-actions').innerText(),
      /run: npx --yes hotpath pgo --server .* 'service:shop env:prod' \.\/default\.pgo\n {2}env:\n {4}HOTPATH_APP_KEY: \$\{\{ secrets\.HOTPATH_APP_KEY \}\}/,
    );
    // The profiles it uses are listed by who they are, biggest CPU first.
    const used = page.locator('[data-testid="pgo-profiles"] tbody tr');
    await used.first().waitFor();
    assert.equal(await used.count(), 2);
    assert.match(await used.first().innerText(), /shop-1/);
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download default.pgo' }).click();
    const file = await (await download).path();
    assert.ok(file && parseProfile(readFileSync(file)).samples.count > 0, 'the download is a profile');
    await shot('service-pgo');
  });

  it('shows a server error instead of swallowing it', async () => {
    await page.goto(`${server.url}/#/profile/no-such-profile`);
    const banner = page.getByRole('alert').filter({ hasText: 'no profile with id no-such-profile' });
    await banner.waitFor();
    assert.match(await banner.innerText(), /Server answered 404/);
    await shot('error');
  });

  it('shows the message of a failing server (5xx), not an empty page', async () => {
    await page.route('**/api/v1/services?*', (route) =>
      route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ error: 'index is being rebuilt' }) }),
    );
    await page.goto(`${server.url}/#/services?from=now-1h`);
    const banner = page.getByRole('alert').filter({ hasText: 'index is being rebuilt' });
    await banner.waitFor();
    assert.match(await banner.innerText(), /Server answered 500: index is being rebuilt/);
    assert.match(await page.locator('main').innerText(), /Services could not be loaded/);
    await page.unrouteAll();
  });

  it('says the server cannot be reached when it is down', async () => {
    await page.goto(`${server.url}/#/services`);
    await page.getByTestId('services-table').waitFor();
    await server.stop({ keepData: false });
    await page.getByRole('combobox', { name: 'Time range' }).selectOption('now-30d');
    const banner = page.getByRole('alert').filter({ hasText: 'cannot reach the Hotpath server' });
    await banner.waitFor();
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  });
});
