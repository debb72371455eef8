// Web UI benchmark: time to first render of the flame graph in Chromium, for the large fixture
// profile and for an aggregate of 100 profiles, split into the server's answer and the
// browser's work (parse + layout + draw), and the redraws a person triggers on the drawn graph
// (zoom, reset, search, hover). Not a test.
//
//   npm run bench:ui -- [--rounds 5] [--aggregate 100]
import { readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { chromium } from 'playwright-core';
import { type RunningServer, startServer } from '../../e2e/support/server.js';
import { largeProfile } from '../../e2e/support/workloads.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const rounds = flag('rounds', 5);
const aggregate = flag('aggregate', 100);
// page.evaluate bodies run in the browser; this file compiles without the DOM library.
declare const document: { querySelector(selector: string): { textContent: string | null } | null };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Inputs: the large fixture (cpuburn -variety 64 -rate 1000 -labels, 30 s; the one the trim test
// uses) and four more like it, cached under .cache/profiles (recording takes ~30 s each).
console.log('recording or reusing the large profiles (cpuburn, 30 s each)...');
const paths = [1, 2, 3, 4, 5].map((seed) => largeProfile({ seed, seconds: 30 }));
for (const p of paths) console.log(`  ${p} ${(statSync(p).size / 1e6).toFixed(2)} MB`);

const server: RunningServer = await startServer(['--allow-anonymous-read']);
const upload = async (path: string, tags: string): Promise<string> => {
  const res = await fetch(`${server.url}/api/v1/profiles?tags=${encodeURIComponent(tags)}`, {
    method: 'POST',
    body: readFileSync(path),
    headers: { authorization: `Bearer ${server.apiKey}` },
  });
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
};
const largeId = await upload(paths[0], 'service:large,env:bench');
// The aggregate: `aggregate` uploads of the five profiles in turn, as a service's recent hours.
for (let i = 0; i < aggregate; i++) await upload(paths[i % paths.length], `service:fleet,env:bench,host:host-${i}`);
console.log(`stored 1 + ${aggregate} profiles`);

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });

interface Timing {
  total: number;
  server: number;
  browser: number;
  frames: number;
  /** Frames of the full tree, before the server kept the largest (`maxNodes`). */
  fullFrames: number;
}

/** Loads the page fresh and returns navigation → flame graph drawn, and its split. */
async function measure(hash: string): Promise<Timing> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${server.url}/${hash}`);
  await page.locator('[data-testid="flame-summary"]').filter({ hasText: 'flame graph of' }).waitFor({ timeout: 120_000 });
  const t = await page.evaluate(() => {
    const rendered = performance.getEntriesByName('hotpath:flame-rendered')[0].startTime;
    const api = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/v1/flamegraph')) as unknown as {
      requestStart: number;
      responseEnd: number;
    };
    const summary = document.querySelector('[data-testid="flame-summary"]')?.textContent ?? '';
    const page = document.querySelector('main')?.textContent ?? '';
    return { rendered, requestStart: api.requestStart, responseEnd: api.responseEnd, summary, page };
  });
  await page.close();
  return {
    total: t.rendered,
    server: t.responseEnd - t.requestStart,
    browser: t.rendered - t.responseEnd,
    frames: Number(/flame graph of (\d+) frames/.exec(t.summary)?.[1]),
    fullFrames: Number((/showing the largest [\d,]+ of ([\d,]+) frames/.exec(t.page)?.[1] ?? '').replace(/,/g, '')),
  };
}

interface Interaction {
  zoom: number;
  reset: number;
  search: number;
  hover: number;
}

/**
 * Times what a person does on the drawn graph, each a synchronous redraw in the page: click to
 * zoom on a frame three rows down, Escape back to the root, type a search, move the pointer.
 * A string, because this file compiles without the DOM library.
 */
const INTERACT = `(() => {
  const canvas = document.querySelector('canvas[data-testid="flame-canvas"]');
  const search = document.querySelector('input[aria-label="Search frames"]');
  const r = canvas.getBoundingClientRect();
  const time = (f) => { const t0 = performance.now(); f(); return performance.now() - t0; };
  const at = (type, x, y) => canvas.dispatchEvent(new MouseEvent(type, { clientX: r.left + x, clientY: r.top + y, bubbles: true }));
  const zoom = time(() => at('click', r.width / 2, 18 * 3 + 9));
  const reset = time(() => canvas.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' })));
  const hover = time(() => at('mousemove', r.width / 3, 18 * 5 + 9));
  search.value = 'burn';
  const t = time(() => search.dispatchEvent(new Event('input')));
  search.value = '';
  search.dispatchEvent(new Event('input'));
  return { zoom, reset, search: t, hover };
})()`;

async function interact(hash: string): Promise<Interaction> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${server.url}/${hash}`);
  await page.locator('[data-testid="flame-summary"]').filter({ hasText: 'flame graph of' }).waitFor({ timeout: 120_000 });
  const t = await page.evaluate<Interaction>(INTERACT);
  await page.close();
  return t;
}

const cases: Array<[string, string]> = [
  ['large profile', `#/profile/${largeId}`],
  [`aggregate of ${aggregate}`, `#/aggregate?query=${encodeURIComponent('service:fleet')}&from=now-1h&limit=${aggregate}`],
];
const rows: string[] = [];
const interactionRows: string[] = [];
for (const [name, hash] of cases) {
  await measure(hash); // warm-up: module loading into the browser cache, the server's JIT
  const runs: Timing[] = [];
  for (let r = 0; r < rounds; r++) runs.push(await measure(hash));
  const sent = `${runs[0].frames.toLocaleString('en')} (${(runs[0].fullFrames || runs[0].frames).toLocaleString('en')})`;
  const row = `| ${name} | ${sent} | ${median(runs.map((x) => x.total)).toFixed(0)} ms | ${median(runs.map((x) => x.server)).toFixed(0)} ms | ${median(runs.map((x) => x.browser)).toFixed(0)} ms |`;
  rows.push(row);
  console.log(row);
  const inter: Interaction[] = [];
  for (let r = 0; r < rounds; r++) inter.push(await interact(hash));
  const m = (k: keyof Interaction) => `${median(inter.map((x) => x[k])).toFixed(1)} ms`;
  const irow = `| ${name} | ${sent} | ${m('zoom')} | ${m('reset')} | ${m('search')} | ${m('hover')} |`;
  interactionRows.push(irow);
  console.log(irow);
}
await browser.close();
await server.stop();

console.log(`\nmachine: ${cpus()[0].model}, nproc ${cpus().length}, node ${process.version}, ${rounds} rounds (median), 1400x900 viewport`);
console.log('| view | frames sent (of) | navigation → drawn | server (request → response end) | browser (response → drawn) |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
console.log('\nRedraws on the drawn graph (synchronous, in the page; median):');
console.log('| view | frames sent (of) | click to zoom | Escape to reset | type a search | hover |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of interactionRows) console.log(r);
