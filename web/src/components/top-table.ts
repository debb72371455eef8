import { clickableRow, h, replace } from '../dom.js';
import { formatValue, percent } from '../format.js';

export interface TopRow {
  name: string;
  flat: number;
  cum: number;
}

/**
 * The top-functions table (flat and cumulative, sortable, filterable by name). Clicking a row
 * calls `onSelect` with the function (or null when the selected one is clicked again), which
 * the page uses to filter the flame graph.
 */
export function topTable(
  rows: TopRow[],
  total: number,
  unit: string,
  selected: string | null,
  onSelect: (name: string | null) => void,
  onSandwich?: (name: string) => void,
): HTMLElement {
  let sortBy: 'flat' | 'cum' = 'flat';
  let filter = '';
  const body = h('tbody');
  const flatHead = h('th', { class: 'num sortable sorted', scope: 'col' }, 'Flat');
  const cumHead = h('th', { class: 'num sortable', scope: 'col' }, 'Cum');
  const draw = () => {
    const f = filter.toLowerCase();
    const shown = rows
      .filter((r) => f === '' || r.name.toLowerCase().includes(f))
      .sort((a, b) => b[sortBy] - a[sortBy] || (a.name < b.name ? -1 : 1))
      .slice(0, 300);
    flatHead.classList.toggle('sorted', sortBy === 'flat');
    cumHead.classList.toggle('sorted', sortBy === 'cum');
    replace(
      body,
      ...shown.map((r) =>
        clickableRow(
          h(
            'tr',
            {
              class: r.name === selected ? 'selected' : undefined,
              'aria-selected': r.name === selected ? 'true' : undefined,
              title: 'Show only the stacks through this function',
            },
            h('td', { class: 'fn' }, r.name),
            h('td', { class: 'num' }, formatValue(r.flat, unit)),
            h('td', { class: 'num' }, percent(r.flat, total)),
            h('td', { class: 'num' }, formatValue(r.cum, unit)),
            h('td', { class: 'num' }, percent(r.cum, total)),
            onSandwich
              ? h(
                  'td',
                  {},
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'link',
                      title: `Callers and callees of ${r.name}`,
                      'aria-label': `Sandwich view of ${r.name}`,
                      onclick: (e: Event) => {
                        // The row's own click filters the graph: this button does only its own thing.
                        e.stopPropagation();
                        onSandwich(r.name);
                      },
                      onkeydown: (e: Event) => e.stopPropagation(),
                    },
                    'sandwich',
                  ),
                )
              : null,
          ),
          () => onSelect(r.name === selected ? null : r.name),
        ),
      ),
    );
    if (shown.length === 0)
      body.append(h('tr', {}, h('td', { colspan: onSandwich ? 6 : 5, class: 'muted' }, 'No function matches the filter.')));
  };
  flatHead.addEventListener('click', () => {
    sortBy = 'flat';
    draw();
  });
  cumHead.addEventListener('click', () => {
    sortBy = 'cum';
    draw();
  });
  const filterInput = h('input', {
    type: 'search',
    placeholder: 'Filter functions',
    'aria-label': 'Filter functions',
    oninput: (e: Event) => {
      filter = (e.target as HTMLInputElement).value;
      draw();
    },
  });
  draw();
  return h(
    'section',
    { 'aria-label': 'Top functions' },
    h('div', { class: 'row' }, h('h2', { class: 'grow' }, 'Top functions'), filterInput),
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { 'data-testid': 'top-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Function'),
            flatHead,
            h('th', { class: 'num' }, 'Flat %'),
            cumHead,
            h('th', { class: 'num' }, 'Cum %'),
            onSandwich ? h('th', {}, h('span', { class: 'visually-hidden' }, 'Sandwich')) : null,
          ),
        ),
        body,
      ),
    ),
  );
}
