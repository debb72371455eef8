import { type ApiError, type FacetsJson, getJson, type ProfileJson, type ProfileListJson } from '../api.js';
import { queryBar } from '../components/query-bar.js';
import { windowOf, windowParams } from '../components/time-range.js';
import { timelinePanel, timelineParams } from '../components/timeline-panel.js';
import { h, replace } from '../dom.js';
import { describeRange, formatTime } from '../format.js';
import { queryTerms, term, toggleTerm } from '../query-terms.js';
import { href, navigate, withParams } from '../route.js';
import { isQueryError, type View } from '../view.js';

/** Rows per page: the default, the sizes offered, and the API's limit. */
const PAGE = 50;
const PAGE_SIZES = [25, 50, 100, 200];
const MAX_PAGE = 1000;
const COLUMNS: Array<[string, string | null]> = [
  ['Time', 'start'],
  ['Service', 'service'],
  ['Env', 'env'],
  ['Version', 'version'],
  ['Host', 'host'],
  ['PGO', null],
  ['CPU cores', 'cpu'],
];

/** The explorer: query bar, facets, and the sortable, paged list of matching profiles. */
export const explorerView: View = async (root, ctx) => {
  const p = ctx.route.params;
  const query = p.get('query') ?? '';
  const range = windowOf(p, 'now-24h');
  const { from, to } = range;
  const sort = p.get('sort') ?? '-start';
  const page = Math.max(1, Math.floor(Number(p.get('page') ?? '1')) || 1);
  const size = Math.min(MAX_PAGE, Math.max(1, Math.floor(Number(p.get('size') ?? PAGE)) || PAGE));
  const go = (changes: Record<string, string | number | null>) => navigate(['explore'], withParams(ctx.route, changes));
  const bar = queryBar({ query, ...range }, (q, w) => go({ query: q, ...windowParams(w), page: null }));
  const facetsBox = h('aside', { class: 'facets', 'aria-label': 'Facets' });
  const results = h('section', { 'aria-label': 'Profiles', 'data-testid': 'results' }, h('p', { class: 'muted' }, 'Searching…'));
  // CPU over time above the table; brushing it narrows the window of the whole page.
  const timeline = timelinePanel(ctx, query, range, timelineParams(ctx.route), (changes) => go({ ...changes, page: null }));
  replace(
    root,
    h('h1', {}, 'Profiles'),
    bar.element,
    h('div', { class: 'layout' }, facetsBox, h('div', { class: 'main' }, timeline, results)),
  );

  let list: ProfileListJson;
  let facets: FacetsJson;
  try {
    [list, facets] = await Promise.all([
      getJson<ProfileListJson>('profiles', { query, from, to, sort, limit: size, offset: (page - 1) * size }),
      getJson<FacetsJson>('facets', { query, from, to }),
    ]);
  } catch (err) {
    if (ctx.isStale()) return;
    if (isQueryError(err)) {
      bar.showError(err as ApiError);
      replace(results, h('p', { class: 'empty' }, 'Fix the query to see profiles.'));
    } else {
      ctx.showError(err);
      replace(results, h('p', { class: 'empty' }, 'Profiles could not be loaded.'));
    }
    replace(facetsBox);
    return;
  }
  if (ctx.isStale()) return;

  const terms = new Set(queryTerms(query));
  for (const field of ['service', 'env', 'version', 'pgo']) {
    const values = facets.facets[field] ?? [];
    if (values.length === 0) continue;
    facetsBox.append(
      h('h3', {}, field),
      ...values.map((v) => {
        if (v.value === '') {
          return h('div', { class: 'facet' }, h('span', { class: 'muted' }, '(not set)'), h('span', { class: 'count' }, v.count));
        }
        const include = term(field, v.value);
        const exclude = term(field, v.value, true);
        const active = terms.has(include);
        return h(
          'div',
          { class: `facet${active ? ' active' : ''}` },
          h(
            'button',
            {
              type: 'button',
              class: 'facet-value',
              'aria-pressed': active ? 'true' : 'false',
              title: active ? `Remove ${include} from the query` : `Add ${include} to the query`,
              onclick: () => go({ query: toggleTerm(query, include), page: null }),
            },
            h('span', {}, v.value),
            h('span', { class: 'count' }, v.count),
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'facet-exclude',
              'aria-label': `Exclude ${field} ${v.value}`,
              title: `Add ${exclude} to the query`,
              onclick: () => go({ query: toggleTerm(query, exclude), page: null }),
            },
            '−',
          ),
        );
      }),
    );
  }

  if (list.total === 0) {
    replace(
      results,
      h(
        'p',
        { class: 'empty', 'data-testid': 'empty' },
        `No profiles match ${query === '' ? 'any query' : `"${query}"`} ${describeRange(from, to)}.`,
      ),
    );
    return;
  }
  const [sortColumn, descending] = sort.startsWith('-') ? [sort.slice(1), true] : [sort, false];
  const head = h(
    'tr',
    {},
    ...COLUMNS.map(([label, column]) => {
      if (column === null) return h('th', { scope: 'col' }, label);
      const active = column === sortColumn;
      return h(
        'th',
        {
          scope: 'col',
          class: `sortable${active ? ' sorted' : ''}${active && !descending ? ' asc' : ''}${column === 'cpu' ? ' num' : ''}`,
          'aria-sort': active ? (descending ? 'descending' : 'ascending') : undefined,
          onclick: () => go({ sort: active && descending ? column : `-${column}`, page: null }),
        },
        label,
      );
    }),
    h('th', {}, ''),
  );
  // Rows can be picked to compare two profiles or merge a few: the older one is "before".
  const picked = new Map<string, ProfileJson>();
  const compareButton = h('button', { type: 'button', disabled: true }, 'Compare 2 selected');
  const mergeButton = h('button', { type: 'button', disabled: true }, 'Flame graph of selected');
  const pickNote = h('span', { class: 'muted' }, 'Select profiles to compare two or merge several.');
  const onPick = () => {
    const n = picked.size;
    compareButton.disabled = n !== 2;
    mergeButton.disabled = n === 0;
    mergeButton.textContent = n === 0 ? 'Flame graph of selected' : `Flame graph of ${n} selected`;
    pickNote.textContent =
      n === 0 ? 'Select profiles to compare two or merge several.' : n === 2 ? '' : n === 1 ? 'Select one more to compare.' : '';
  };
  compareButton.addEventListener('click', () => {
    const [a, b] = [...picked.values()].sort((x, y) => (x.start < y.start ? -1 : x.start > y.start ? 1 : 0));
    navigate(['compare'], { beforeId: a.id, afterId: b.id });
  });
  mergeButton.addEventListener('click', () => {
    navigate(['aggregate'], { query: `profile-id:(${[...picked.keys()].join(' OR ')})`, ...windowParams(range) });
  });
  head.prepend(h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Select')));
  const rows = list.profiles.map((r) =>
    h(
      'tr',
      { 'data-id': r.id },
      h(
        'td',
        { class: 'pick' },
        h('input', {
          type: 'checkbox',
          'aria-label': `Select the profile of ${r.service} at ${formatTime(r.start)}`,
          onchange: (e: Event) => {
            if ((e.target as HTMLInputElement).checked) picked.set(r.id, r);
            else picked.delete(r.id);
            onPick();
          },
        }),
      ),
      h('td', {}, h('a', { href: href(['profile', r.id]) }, formatTime(r.start))),
      h('td', {}, r.service),
      h('td', {}, r.env),
      h('td', {}, r.version),
      h('td', {}, r.host),
      h('td', {}, r.pgo === null ? '' : h('span', { class: `badge ${r.pgo ? 'yes' : 'no'}` }, String(r.pgo))),
      h('td', { class: 'num' }, r.cpuCores === null ? '' : r.cpuCores.toFixed(2)),
      h('td', {}, h('a', { href: href(['profile', r.id]) }, 'flame graph')),
    ),
  );
  const lastPage = Math.ceil(list.total / size);
  // The server counts up to 10,000 matches (or the end of the page asked for): beyond, "10000+".
  const totalText = `${list.total}${list.totalExact === false ? '+' : ''}`;
  if (list.profiles.length === 0) {
    // A bookmark of page 9 after retention removed profiles: say so and offer the last page.
    replace(
      results,
      h(
        'p',
        { class: 'empty', 'data-testid': 'empty' },
        `Page ${page} is past the end: ${list.total} profile${list.total === 1 ? '' : 's'} match, ${lastPage} page${lastPage === 1 ? '' : 's'} of ${size}. `,
        h('a', { href: href(['explore'], withParams(ctx.route, { page: lastPage === 1 ? null : lastPage })) }, 'Go to the last page'),
      ),
    );
    return;
  }
  const first = (page - 1) * size + 1;
  const last = first + list.profiles.length - 1;
  const sizeSelect = h('select', {
    'aria-label': 'Profiles per page',
    onchange: (e: Event) =>
      go({ size: Number((e.target as HTMLSelectElement).value) === PAGE ? null : (e.target as HTMLSelectElement).value, page: null }),
  });
  for (const n of PAGE_SIZES.includes(size) ? PAGE_SIZES : [...PAGE_SIZES, size].sort((a, b) => a - b)) {
    sizeSelect.append(h('option', { value: n, selected: n === size }, `${n} per page`));
  }
  replace(
    results,
    h(
      'div',
      { class: 'row' },
      h(
        'p',
        { class: 'grow', 'data-testid': 'result-count' },
        `${totalText} profile${list.total === 1 && list.totalExact !== false ? '' : 's'} ${describeRange(from, to)}`,
      ),
      h('a', { href: href(['aggregate'], { query, ...windowParams(range) }) }, `Flame graph of the newest ${Math.min(list.total, 100)}`),
      h('a', { href: href(['compare'], { after: query, ...windowParams(range) }) }, 'Compare…'),
    ),
    h('div', { class: 'toolbar selection' }, compareButton, mergeButton, pickNote),
    h('table', { 'data-testid': 'profiles-table' }, h('thead', {}, head), h('tbody', {}, ...rows)),
    h(
      'div',
      { class: 'pager' },
      h('button', { type: 'button', disabled: page <= 1, onclick: () => go({ page: page - 1 }) }, '← Previous'),
      h('span', { 'data-testid': 'page-range' }, `${first}–${last} of ${totalText}`),
      h(
        'button',
        { type: 'button', disabled: last >= list.total && list.totalExact !== false, onclick: () => go({ page: page + 1 }) },
        'Next →',
      ),
      h('span', { class: 'grow' }),
      sizeSelect,
    ),
  );
};
