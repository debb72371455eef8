import { apiUrl, download, type FlameJson, getJson, type ProfileJson } from '../api.js';
import { packageLegend } from '../components/package-legend.js';
import { sandwichPanel } from '../components/sandwich-panel.js';
import { timeRange, windowOf, windowParams } from '../components/time-range.js';
import { topTable } from '../components/top-table.js';
import { h, replace } from '../dom.js';
import { FlameGraph } from '../flame/flame-graph.js';
import { describeRange, formatTime, formatValue } from '../format.js';
import { serviceQuery } from '../query-terms.js';
import { href, navigate, updateParams, withParams } from '../route.js';
import { loadForView, type View } from '../view.js';

/** Human names of common Go sample types. */
function sampleTypeLabel(t: { attachment: string; type: string; unit: string }): string {
  return `${t.attachment.replace(/\.pprof$/, '')}: ${t.type} (${t.unit})`;
}

/** Most profiles the server merges into one pprof download (the flame graph takes up to 10,000). */
const MAX_PPROF_DOWNLOAD = 1000;

/**
 * One profile (`#/profile/<id>`) or the aggregate of the newest profiles matching a query
 * (`#/aggregate?query=`): flame graph, sample-type switch, search, function filter and download.
 */
export const flameView: View = async (root, ctx) => {
  const route = ctx.route;
  const p = route.params;
  const id = route.path[0] === 'profile' ? route.path[1] : undefined;
  const query = p.get('query') ?? '';
  const range = windowOf(p, 'now-24h');
  const limit = Math.min(10_000, Math.max(1, Math.floor(Number(p.get('limit') ?? 100)) || 100));
  const selection = id !== undefined ? { id } : { query, from: range.from, to: range.to, limit };
  performance.clearMarks();
  performance.mark('hotpath:view-start');
  const title = h(
    'h1',
    {},
    id !== undefined ? `Profile ${id}` : `Aggregate of "${query || 'all profiles'}" ${describeRange(range.from, range.to)}`,
  );
  const meta = h('p', { class: 'muted' });
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading the flame graph…'));
  replace(root, title, meta, body);

  const loaded = await loadForView(ctx, body, 'The flame graph could not be built.', () =>
    Promise.all([
      getJson<FlameJson>('flamegraph', { ...selection, type: p.get('type') }),
      id !== undefined ? getJson<ProfileJson>(`profiles/${encodeURIComponent(id)}`) : Promise.resolve(null),
    ]),
  );
  if (loaded === undefined) return;
  const [data, record] = loaded;
  performance.mark('hotpath:data-loaded');

  if (record) {
    title.textContent = `${record.service} ${record.env} ${record.version}`.trim() || `Profile ${record.id}`;
    replace(
      meta,
      `${formatTime(record.start)} · host ${record.host || '?'} · ${record.cpuCores === null ? '' : `${record.cpuCores.toFixed(2)} CPU cores · `}pgo ${record.pgo ?? 'unknown'} · id ${record.id}`,
      record.service
        ? h(
            'span',
            {},
            ' · ',
            h('a', { href: href(['explore'], { query: serviceQuery(record.service, record.env) }) }, `other profiles of ${record.service}`),
          )
        : null,
    );
  } else {
    meta.textContent = `${data.profiles} profile${data.profiles === 1 ? '' : 's'}, ${data.seconds.toFixed(0)} s profiled${data.skipped.length ? `, ${data.skipped.length} skipped (${data.skipped[0].reason})` : ''}`;
  }

  const searchResult = h('span', { class: 'search-result', 'data-testid': 'search-result', 'aria-live': 'polite' });
  const graph = new FlameGraph(data.tree, {
    unit: data.unit,
    onSearchResult: (text) => {
      searchResult.textContent = text === null ? '' : `matches ${text}`;
    },
    title: `${data.sampleType} of ${id !== undefined ? `profile ${id}` : `${data.profiles} profile${data.profiles === 1 ? '' : 's'}`}`,
    onZoom: (key) => updateParams(route, { zoom: key || null }),
    mainModule: data.mainModule,
    onSandwich: (fn) => openSandwich(fn),
  });
  ctx.onDispose(() => graph.dispose());

  // The sandwich of one function (its callers and callees), above the graph, kept in the URL.
  const sandwichSlot = h('div');
  let closeSandwich: () => void = () => undefined;
  const openSandwich = (fn: string | null) => {
    closeSandwich();
    closeSandwich = () => undefined;
    sandwichSlot.replaceChildren();
    updateParams(route, { sandwich: fn });
    if (fn === null) return;
    const panel = sandwichPanel(data.tree, fn, {
      unit: data.unit,
      mainModule: data.mainModule,
      droppedNodes: data.droppedNodes,
      onClose: () => openSandwich(null),
      onSandwich: (other) => openSandwich(other),
    });
    closeSandwich = panel.dispose;
    sandwichSlot.append(panel.element);
    panel.element.scrollIntoView({ block: 'nearest' });
  };
  ctx.onDispose(() => closeSandwich());

  const typeSelect = h('select', {
    'aria-label': 'Sample type',
    onchange: (e: Event) =>
      // The zoom names a path of functions, which the other sample type may have too: keep it.
      navigate(route.path, withParams(route, { type: (e.target as HTMLSelectElement).value, focus: null })),
  });
  for (const t of data.sampleTypes)
    typeSelect.append(h('option', { value: t.key, selected: t.key === data.sampleType }, sampleTypeLabel(t)));
  const search = h('input', {
    type: 'search',
    placeholder: 'Highlight frames (name contains)',
    'aria-label': 'Search frames',
    value: p.get('search') ?? '',
    oninput: (e: Event) => {
      const v = (e.target as HTMLInputElement).value;
      graph.setSearch(v);
      updateParams(route, { search: v || null });
    },
  });
  // The pprof download merges raw profiles, which the server caps lower than the flame graph.
  const downloadSelection =
    'limit' in selection && (selection.limit ?? 0) > MAX_PPROF_DOWNLOAD ? { ...selection, limit: MAX_PPROF_DOWNLOAD } : selection;
  const pprofName = id !== undefined ? `${id}.pb.gz` : 'aggregate.pb.gz';
  const downloadButton = h(
    'button',
    {
      type: 'button',
      onclick: () => {
        download(apiUrl('flamegraph/pprof', { ...downloadSelection, type: data.sampleType }), pprofName).catch(ctx.showError);
      },
    },
    downloadSelection === selection ? 'Download pprof' : `Download pprof (newest ${MAX_PPROF_DOWNLOAD})`,
  );
  // An aggregate's window and how many of the newest profiles it merges; the zoom (a path of
  // functions) and the function filter carry over to the new selection.
  const aggregateControls = () => {
    const picker = timeRange(range, (w) => navigate(route.path, withParams(route, { ...windowParams(w) })));
    const limitSelect = h('select', {
      'aria-label': 'Profiles to merge',
      onchange: (e: Event) => {
        const v = Number((e.target as HTMLSelectElement).value);
        navigate(route.path, withParams(route, { limit: v === 100 ? null : v }));
      },
    });
    for (const n of [...new Set([1, 10, 50, 100, 500, 1000, 5000, 10_000, limit])].sort((a, b) => a - b)) {
      limitSelect.append(h('option', { value: n, selected: n === limit }, `newest ${n}`));
    }
    return [picker.element, limitSelect, h('a', { href: href(['explore'], { query, ...windowParams(range) }) }, 'List these profiles')];
  };
  const focusNote = h('span', { class: 'muted' });
  const clearFocus = h('button', { type: 'button', class: 'link', hidden: true }, 'Clear function filter');
  const setFocus = (fn: string | null) => {
    graph.setFocus(fn);
    focusNote.textContent = fn ? `showing stacks through ${fn} ` : '';
    clearFocus.hidden = fn === null;
    updateParams(route, { focus: fn });
    drawTable(fn);
  };
  const tableSlot = h('div');
  const drawTable = (selected: string | null) =>
    replace(
      tableSlot,
      topTable(data.top, data.total, data.unit, selected, setFocus, (fn) => openSandwich(fn)),
    );

  replace(
    body,
    h(
      'div',
      { class: 'toolbar' },
      typeSelect,
      search,
      searchResult,
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            graph.zoomTo(0);
            updateParams(route, { zoom: null });
          },
        },
        'Reset zoom',
      ),
      focusNote,
      clearFocus,
      h('span', { class: 'grow' }),
      ...(id === undefined ? aggregateControls() : []),
      downloadButton,
    ),
    h(
      'p',
      { class: 'muted' },
      `Total ${formatValue(data.total, data.unit)} · click a frame to zoom, click it again (or Backspace) to step out, Escape to reset; right-click a frame (or S on a zoomed one) for its callers and callees`,
      data.droppedNodes > 0
        ? ` · showing the largest ${data.tree.name.length.toLocaleString('en')} of ${data.nodes.toLocaleString('en')} frames (the rest are under ${formatValue(
            (data.tree.total ?? [0]).reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY),
            data.unit,
          )} each)`
        : '',
    ),
    packageLegend(data.tree, data.mainModule),
    sandwichSlot,
    graph.element,
    tableSlot,
  );
  clearFocus.addEventListener('click', () => setFocus(null));
  const focus = p.get('focus');
  if (focus) {
    graph.setFocus(focus);
    focusNote.textContent = `showing stacks through ${focus} `;
    clearFocus.hidden = false;
  }
  drawTable(focus);
  const sandwich = p.get('sandwich');
  if (sandwich) openSandwich(sandwich);
  if (p.get('search')) graph.setSearch(p.get('search') ?? '');
  // A zoom on a frame this data does not have (gone from the window, another sample type) shows the root.
  if (!graph.zoomToKey(p.get('zoom') ?? '')) updateParams(route, { zoom: null });
  performance.measure('hotpath:first-render', 'hotpath:view-start');
};
