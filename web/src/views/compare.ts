import { type ApiError, type DiffJson, type FlameJson, getJson, type ServicesJson } from '../api.js';
import { impactPanel } from '../components/impact-panel.js';
import { type TimeWindow, timeRange, windowOf, windowParams } from '../components/time-range.js';
import { clickableRow, h, replace } from '../dom.js';
import { FlameGraph } from '../flame/flame-graph.js';
import { describeRange, formatValue, percent } from '../format.js';
import { serviceQuery } from '../query-terms.js';
import { href, navigate, updateParams } from '../route.js';
import type { View } from '../view.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Compare two queries (or two profiles): one diff flame graph (growth red, shrink green),
 * normalised per second or per profile, the largest per-function changes, and both sides' own
 * flame graphs side by side. The PGO preset compares pgo:false with pgo:true for one service.
 */
export const compareView: View = async (root, ctx) => {
  const route = ctx.route;
  const p = route.params;
  const before = p.get('before') ?? '';
  const after = p.get('after') ?? '';
  const beforeId = p.get('beforeId') ?? '';
  const afterId = p.get('afterId') ?? '';
  const range = windowOf(p, 'now-24h');
  const { from, to } = range;
  const normalize = p.get('normalize') ?? 'second';

  /** The query field of one side: a profile id given in the URL shows as its profile-id: query. */
  const sideInput = (side: 'before' | 'after', query: string, id: string, pgo: boolean) =>
    h('input', {
      class: 'query',
      type: 'search',
      name: side,
      value: id ? `profile-id:${id}` : query,
      'aria-label': `${side === 'before' ? 'Before' : 'After'} query`,
      placeholder: `${side}: service:api pgo:${pgo}`,
    });
  const beforeInput = sideInput('before', before, beforeId, false);
  const afterInput = sideInput('after', after, afterId, true);
  const beforeError = h('div', { class: 'query-error', role: 'alert', hidden: true });
  const afterError = h('div', { class: 'query-error', role: 'alert', hidden: true });
  // A preset range re-runs the comparison with the fields as they are.
  const picker = timeRange(range, (w) => submit(w));
  const norm = h(
    'select',
    { 'aria-label': 'Normalise' },
    h('option', { value: 'second', selected: normalize === 'second' }, 'per second of profile'),
    h('option', { value: 'profile', selected: normalize === 'profile' }, 'per profile'),
  );
  const presetSelect = h(
    'select',
    { 'aria-label': 'Before/after PGO preset' },
    h('option', { value: '' }, 'Before/after PGO for service…'),
  );
  presetSelect.addEventListener('change', () => {
    const s = presetSelect.value;
    if (s === '') return;
    navigate(['compare'], {
      before: `${serviceQuery(s)} pgo:false`,
      after: `${serviceQuery(s)} pgo:true`,
      ...windowParams(picker.value()),
      normalize: norm.value,
    });
  });
  getJson<ServicesJson>('services', { from: 'now-30d' })
    .then((r) => {
      for (const s of r.services) presetSelect.append(h('option', { value: s.service }, s.service));
    })
    .catch(() => undefined); // the preset is a convenience; the comparison below reports errors

  const form = h(
    'form',
    { class: 'panel', 'aria-label': 'Comparison' },
    h(
      'div',
      { class: 'split' },
      h('div', {}, h('label', {}, 'Before'), beforeInput, beforeError),
      h('div', {}, h('label', {}, 'After'), afterInput, afterError),
    ),
    h(
      'div',
      { class: 'toolbar' },
      picker.element,
      norm,
      h('button', { type: 'submit', class: 'primary' }, 'Compare'),
      h('span', { class: 'grow' }),
      presetSelect,
    ),
  );
  const submit = (w: TimeWindow) => {
    const side = (v: string) => {
      const m = /^profile-id:(\S+)$/.exec(v.trim());
      return m ? { id: m[1], query: null } : { id: null, query: v.trim() };
    };
    const b = side(beforeInput.value);
    const a = side(afterInput.value);
    navigate(['compare'], { before: b.query, beforeId: b.id, after: a.query, afterId: a.id, ...windowParams(w), normalize: norm.value });
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit(picker.value());
  });
  norm.addEventListener('change', () => submit(picker.value()));
  const body = h('div', {});
  replace(root, h('h1', {}, 'Compare'), form, body);
  if (!(before || beforeId) || !(after || afterId)) {
    replace(
      body,
      h('p', { class: 'empty' }, 'Enter a query (or profile-id:<id>) for each side, or pick a service for the before/after PGO preset.'),
    );
    return;
  }
  replace(body, h('p', { class: 'muted' }, 'Comparing…'));
  const sel = (q: string, id: string) => (id ? { id } : { query: q, from, to });
  let diff: DiffJson;
  try {
    diff = await getJson<DiffJson>('diff', {
      before: beforeId ? undefined : before,
      beforeId: beforeId || undefined,
      after: afterId ? undefined : after,
      afterId: afterId || undefined,
      from,
      to,
      normalize,
      type: p.get('type'),
    });
  } catch (err) {
    if (ctx.isStale()) return;
    // The server names the side a selection error is about ("after: no profiles match ..."):
    // show it under that side's field, with a caret when it is a query syntax error.
    const e = err as ApiError;
    const side = e instanceof Error && e.status >= 400 && e.status < 500 ? /^(before|after): /.exec(e.message)?.[1] : undefined;
    if (side !== undefined) {
      const [box, input] = side === 'after' ? [afterError, afterInput] : [beforeError, beforeInput];
      box.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      replace(
        box,
        e.message,
        e.column !== undefined ? h('pre', { 'aria-hidden': 'true' }, `${input.value}\n${' '.repeat(Math.max(0, e.column - 1))}^`) : null,
      );
      replace(body, h('p', { class: 'empty' }, `Fix the ${side} side to compare.`));
    } else {
      ctx.showError(err);
      replace(body, h('p', { class: 'empty' }, 'The comparison could not be built.'));
    }
    return;
  }
  if (ctx.isStale()) return;
  const unit = diff.unit;
  const per = normalize === 'second' ? '/s' : '/profile';
  const fmt = (v: number) => `${formatValue(v, unit)}${per}`;
  const graph = new FlameGraph(diff.tree, {
    unit,
    valueSuffix: per,
    title: `Diff of ${diff.sampleType}, ${normalize === 'second' ? 'per second' : 'per profile'}`,
    onZoom: (key) => updateParams(route, { zoom: key || null }),
  });
  ctx.onDispose(() => graph.dispose());
  // A row of the changes table keeps only the stacks through its function in the diff graph.
  const changeRows = new Map<string, HTMLTableRowElement>();
  const focusNote = h('span', { class: 'muted' });
  const clearFocus = h('button', { type: 'button', class: 'link', hidden: true, onclick: () => focusOn(null) }, 'Clear function filter');
  const focusOn = (fn: string | null) => {
    graph.setFocus(fn);
    updateParams(route, { focus: fn });
    focusNote.textContent = fn ? `Showing stacks through ${fn}.` : '';
    clearFocus.hidden = fn === null;
    for (const [name, row] of changeRows) {
      row.classList.toggle('selected', name === fn);
      if (name === fn) row.setAttribute('aria-selected', 'true');
      else row.removeAttribute('aria-selected');
    }
  };
  const changes = h(
    'table',
    { 'data-testid': 'changes-table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'Function (flat)'),
        h('th', { class: 'num' }, 'Before'),
        h('th', { class: 'num' }, 'After'),
        h('th', { class: 'num' }, 'Change'),
        h('th', { class: 'num' }, '%'),
      ),
    ),
    h(
      'tbody',
      {},
      ...diff.changes.slice(0, 50).map((c) => {
        const row = h(
          'tr',
          {
            title: 'Show only the stacks through this function',
          },
          h('td', { class: 'fn' }, c.name),
          h('td', { class: 'num' }, fmt(c.before)),
          h('td', { class: 'num' }, fmt(c.after)),
          h('td', { class: `num ${c.delta > 0 ? 'grow-text' : 'shrink-text'}` }, `${c.delta > 0 ? '+' : ''}${fmt(c.delta)}`),
          h('td', { class: 'num' }, c.before === 0 ? 'new' : percent(c.delta, c.before)),
        );
        clickableRow(row, () => focusOn(row.classList.contains('selected') ? null : c.name));
        changeRows.set(c.name, row);
        return row;
      }),
    ),
  );
  const sides = h('div', { class: 'split' }, h('div', {}, h('h2', {}, 'Before')), h('div', {}, h('h2', {}, 'After')));
  const delta = diff.after.total - diff.before.total;
  replace(
    body,
    // Per second, a diff measures load as much as the build: the impact report divides by requests.
    beforeId || afterId ? null : impactPanel(before, after, from, to, ctx.isStale),
    h(
      'p',
      { 'data-testid': 'diff-summary' },
      `Before: ${plural(diff.before.profiles, 'profile')}, ${fmt(diff.before.total)}. After: ${plural(diff.after.profiles, 'profile')}, ${fmt(diff.after.total)} (${describeRange(from, to)}). `,
      h('b', { class: delta > 0 ? 'grow-text' : 'shrink-text' }, `${delta > 0 ? '+' : ''}${percent(delta, diff.before.total)}`),
    ),
    h(
      'p',
      { class: 'legend' },
      'Width: mean of both sides.',
      h('span', { class: 'sw', style: 'background:hsl(2,78%,55%)' }),
      'grew',
      h('span', { class: 'sw', style: 'background:hsl(140,55%,55%)' }),
      'shrank',
    ),
    h('div', { class: 'toolbar' }, focusNote, clearFocus),
    graph.element,
    h('h2', {}, 'Largest changes'),
    diff.changes.length === 0 ? h('p', { class: 'empty' }, 'No function changed.') : h('div', { class: 'scroll' }, changes),
    sides,
  );
  if (p.get('focus')) focusOn(p.get('focus'));
  if (!graph.zoomToKey(p.get('zoom') ?? '')) updateParams(route, { zoom: null });
  // Each side on its own, raw values, for a side-by-side look.
  const sideGraph = async (slot: HTMLElement, q: string, id: string, label: string) => {
    try {
      const data = await getJson<FlameJson>('flamegraph', { ...sel(q, id), type: diff.sampleType });
      if (ctx.isStale()) return;
      const g = new FlameGraph(data.tree, { unit: data.unit, title: `${label}: ${data.sampleType}` });
      ctx.onDispose(() => g.dispose());
      slot.append(
        h('p', {}, h('a', { href: id ? href(['profile', id]) : href(['aggregate'], { query: q, ...windowParams(range) }) }, 'open')),
        g.element,
      );
      g.render();
    } catch (err) {
      if (!ctx.isStale()) ctx.showError(err);
    }
  };
  await Promise.all([
    sideGraph(sides.children[0] as HTMLElement, before, beforeId, 'Before'),
    sideGraph(sides.children[1] as HTMLElement, after, afterId, 'After'),
  ]);
};
