import { getJson, type TimelineJson } from '../api.js';
import { h, replace } from '../dom.js';
import type { Route } from '../route.js';
import type { ViewContext } from '../view.js';
import type { TimeWindow } from './time-range.js';
import { TimelineChart, type TimelineMode, timelineNote } from './timeline-chart.js';

/** The URL parameters the panel reads and sets: `split` (version or pgo) and `chart` (cores or per-request). */
export interface TimelineParams {
  split: 'version' | 'pgo';
  mode: TimelineMode;
}

/** Reads the panel's parameters from a route, with the defaults (by version, CPU cores). */
export function timelineParams(route: Route): TimelineParams {
  return {
    split: route.params.get('split') === 'pgo' ? 'pgo' : 'version',
    mode: route.params.get('chart') === 'per-request' ? 'per-request' : 'cores',
  };
}

/**
 * The "CPU over time" panel of a page: the timeline of `query` in `window`, with a split and a
 * mode switch. It loads on its own, so the page around it does not wait for it, and a failure
 * shows in the panel. `navigate` gets the URL parameters to change: the split or mode, or (after
 * brushing) `from` and `to`.
 */
export function timelinePanel(
  ctx: ViewContext,
  query: string,
  window: TimeWindow,
  params: TimelineParams,
  navigate: (changes: Record<string, string | null>) => void,
  /** When given, a button that undoes brushing (for pages without a range picker of their own). */
  resetRange?: () => void,
): HTMLElement {
  const slot = h('div', {}, h('p', { class: 'muted' }, 'Loading CPU over time…'));
  const splitSelect = h('select', {
    'aria-label': 'Split the timeline by',
    onchange: (e: Event) => navigate({ split: (e.target as HTMLSelectElement).value === 'pgo' ? 'pgo' : null }),
  });
  for (const [value, label] of [
    ['version', 'by version'],
    ['pgo', 'by pgo flag'],
  ]) {
    splitSelect.append(h('option', { value, selected: value === params.split }, label));
  }
  const modeSelect = h('select', {
    'aria-label': 'Timeline shows',
    onchange: (e: Event) => navigate({ chart: (e.target as HTMLSelectElement).value === 'per-request' ? 'per-request' : null }),
  });
  for (const [value, label] of [
    ['cores', 'CPU cores (stacked)'],
    ['per-request', 'CPU per request'],
  ]) {
    modeSelect.append(h('option', { value, selected: value === params.mode }, label));
  }
  const panel = h(
    'section',
    { class: 'timeline-panel', 'aria-label': 'CPU over time' },
    h(
      'div',
      { class: 'row' },
      h('h2', { class: 'grow' }, 'CPU over time'),
      h('span', { class: 'muted' }, 'drag across the chart to zoom in'),
      resetRange ? h('button', { type: 'button', onclick: () => resetRange() }, 'Reset range') : null,
      splitSelect,
      modeSelect,
    ),
    slot,
  );
  getJson<TimelineJson>('timeline', { query, from: window.from, to: window.to, split: params.split })
    .then((data) => {
      if (ctx.isStale()) return;
      if (data.profiles.used === 0) {
        timelineNote(slot, 'No profiles in this window.');
        return;
      }
      const noCounts = params.mode === 'per-request' && data.totals.cpuPerRequest === null;
      const chart = new TimelineChart(data, {
        mode: noCounts ? 'cores' : params.mode,
        onBrush: (range) => navigate({ from: range.from, to: range.to }),
      });
      ctx.onDispose(() => chart.dispose());
      replace(
        slot,
        noCounts
          ? h(
              'p',
              { class: 'muted', 'data-testid': 'timeline-note' },
              'None of these profiles carries request counts, so CPU per request is unknown: with dd-trace-go, run the tracer and set DD_PROFILING_ENDPOINT_COUNT_ENABLED=true. Showing CPU cores instead.',
            )
          : null,
        chart.element,
      );
      chart.render();
    })
    .catch((err: unknown) => {
      if (ctx.isStale()) return;
      timelineNote(slot, `CPU over time could not be loaded: ${err instanceof Error ? err.message : String(err)}`);
    });
  return panel;
}
