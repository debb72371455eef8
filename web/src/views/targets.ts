import { getJson, type TargetJson, type TargetsJson } from '../api.js';
import { h, replace } from '../dom.js';
import { formatTime } from '../format.js';
import { href } from '../route.js';
import { loadForView, type View } from '../view.js';

/** How often the page asks again: a scrape's state changes every few seconds. */
const REFRESH_MS = 5000;

/** "12 s ago" / "in 40 s" relative to now, with the time itself in the title. */
function relative(iso: string | null, now: number): string {
  if (iso === null) return '';
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const abs = Math.abs(seconds);
  const span = abs < 120 ? `${abs} s` : abs < 7200 ? `${Math.round(abs / 60)} min` : `${Math.round(abs / 3600)} h`;
  return seconds <= 0 ? `${span} ago` : `in ${span}`;
}

function healthBadge(t: TargetJson): HTMLElement {
  if (t.health === 'up') return h('span', { class: 'badge yes' }, 'up');
  if (t.health === 'down') return h('span', { class: 'badge no' }, 'down');
  return h('span', { class: 'badge' }, t.scraping ? 'first scrape…' : 'not scraped yet');
}

const COLUMNS = ['Job', 'Instance', 'Labels', 'Health', 'Last scrape', 'Duration', 'Failures', 'Next scrape', ''];

/** A target's row, and below it a full-width row with its error when it has one (errors are read whole). */
function targetRows(t: TargetJson, now: number): HTMLTableRowElement[] {
  const labels = Object.entries(t.labels)
    .filter(([k]) => !k.startsWith('__'))
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const ids = { 'data-job': t.job, 'data-instance': t.instance };
  const main = h(
    'tr',
    { class: t.health === 'down' ? 'flagged' : undefined, ...ids, 'data-health': t.health },
    h('td', {}, t.job),
    h('td', {}, h('span', { title: t.url }, t.instance), t.source === 'static_configs' ? null : h('div', { class: 'muted' }, t.source)),
    h('td', { class: 'wrap' }, labels),
    h('td', {}, healthBadge(t), t.scraping && t.health !== 'unknown' ? h('span', { class: 'muted' }, ' scraping…') : null),
    h('td', { title: t.lastScrape === null ? '' : formatTime(t.lastScrape) }, relative(t.lastScrape, now)),
    h('td', { class: 'num' }, t.lastDurationSeconds === null ? '' : `${t.lastDurationSeconds.toFixed(2)} s`),
    h('td', { class: 'num' }, t.consecutiveFailures === 0 ? '' : t.consecutiveFailures),
    h('td', { title: t.nextScrape === null ? '' : formatTime(t.nextScrape) }, relative(t.nextScrape, now)),
    h('td', {}, t.lastProfileId ? h('a', { href: href(['profile', t.lastProfileId]) }, 'last profile') : ''),
  );
  if (t.lastError === null) return [main];
  const error = h(
    'tr',
    { class: `target-error-row${t.health === 'down' ? ' flagged' : ''}`, ...ids, 'data-testid': 'target-error' },
    h('td', { colspan: COLUMNS.length }, t.lastError),
  );
  return [main, error];
}

/**
 * The net/http/pprof targets of `hotpath serve --scrape`: each one's health, last scrape, its
 * duration, failures in a row, next scrape and last error, refreshed every few seconds, with
 * the target files that could not be read above them.
 */
export const targetsView: View = async (root, ctx) => {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading targets…'));
  replace(root, h('h1', {}, 'Scrape targets'), body);
  let timer: number | undefined;
  ctx.onDispose(() => window.clearTimeout(timer));
  const draw = async (): Promise<void> => {
    const loaded = await loadForView(ctx, body, 'Targets could not be loaded.', () => getJson<TargetsJson>('targets'));
    if (loaded === undefined) return;
    if (!loaded.scraping) {
      replace(
        body,
        h(
          'p',
          { class: 'empty', 'data-testid': 'empty' },
          'This server scrapes no targets. Start it with hotpath serve --scrape scrape.yaml to pull CPU profiles from Go services that import net/http/pprof (see "Scrape net/http/pprof" in the README).',
        ),
      );
      return;
    }
    const now = Date.now();
    const down = loaded.targets.filter((t) => t.health === 'down').length;
    replace(
      body,
      h(
        'p',
        { 'data-testid': 'targets-summary' },
        `${loaded.targets.length} target${loaded.targets.length === 1 ? '' : 's'} from ${loaded.configFile ?? 'the scrape config'}`,
        down === 0 ? '.' : `; ${down} down.`,
      ),
      ...loaded.discoveryErrors.map((e) =>
        h('p', { class: 'discovery-error', 'data-testid': 'discovery-error' }, `Job ${e.job}: ${e.error}`),
      ),
      loaded.targets.length === 0
        ? h('p', { class: 'empty' }, 'No targets yet: the jobs list none, or their target files are empty.')
        : h(
            'table',
            { 'data-testid': 'targets-table' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...COLUMNS.map((t) => h('th', { scope: 'col', class: t === 'Duration' || t === 'Failures' ? 'num' : undefined }, t)),
              ),
            ),
            h('tbody', {}, ...loaded.targets.flatMap((t) => targetRows(t, now))),
          ),
    );
    if (!ctx.isStale()) timer = window.setTimeout(() => void draw(), REFRESH_MS);
  };
  await draw();
};
