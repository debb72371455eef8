import { getJson, type ImpactIntervalJson, type ImpactJson } from '../api.js';
import { h, replace } from '../dom.js';
import { formatValue } from '../format.js';

function figure(i: ImpactIntervalJson | null, unit: ImpactJson['unit']): string {
  if (i === null) return '–';
  const f = (v: number) => (unit === 'cores' ? `${v.toFixed(3)} cores` : formatValue(v, 'nanoseconds'));
  return i.low === null || i.high === null ? f(i.value) : `${f(i.value)} ± ${f((i.high - i.low) / 2)}`;
}

function signed(fraction: number): string {
  return `${fraction >= 0 ? '+' : '−'}${Math.abs(fraction * 100).toFixed(1)}%`;
}

function change(i: ImpactIntervalJson | null): string {
  if (i === null || i.low === null || i.high === null) return '–';
  return `${signed(i.value)} [${signed(i.low)}, ${signed(i.high)}]`;
}

const VERDICT_CLASS: Record<string, string> = { less: 'shrink-text', more: 'grow-text' };

/**
 * The impact report of two queries (GET /api/v1/impact): did CPU per request change, with 95%
 * intervals, per endpoint too; or CPU cores with the note that load is not accounted for. Fills
 * itself in when the answer arrives; an error shows in the panel, not as the page's error.
 */
export function impactPanel(before: string, after: string, from: string, to: string, isStale: () => boolean): HTMLElement {
  const panel = h(
    'section',
    { class: 'panel', 'data-testid': 'impact', 'aria-label': 'Impact' },
    h('p', { class: 'muted' }, 'Computing CPU per request…'),
  );
  getJson<ImpactJson>('impact', { before, after, from, to })
    .then((r) => {
      if (isStale()) return;
      const perRequest = r.metric === 'cpu_per_request';
      const rows = (['before', 'after'] as const).map((name) => {
        const s = r[name];
        return h(
          'tr',
          {},
          h('th', { scope: 'row' }, name === 'before' ? 'Before' : 'After'),
          h('td', { class: 'num' }, String(s.profiles)),
          h('td', { class: 'num' }, perRequest ? String(s.requests) : '–'),
          h('td', { class: 'num' }, figure(perRequest ? s.cpuPerRequestNanos : s.cpuCores, r.unit)),
          h('td', { class: 'num' }, figure(s.cpuCores, 'cores')),
        );
      });
      const endpoints =
        r.endpoints.length === 0
          ? null
          : h(
              'table',
              { 'data-testid': 'impact-endpoints' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ...['Endpoint', 'Requests before', 'Requests after', 'CPU/request before', 'CPU/request after', 'Change [95% CI]'].map(
                    (t) => h('th', {}, t),
                  ),
                ),
              ),
              h(
                'tbody',
                {},
                ...r.endpoints.map((e) =>
                  h(
                    'tr',
                    {},
                    h('td', { class: 'fn' }, e.endpoint),
                    h('td', { class: 'num' }, String(e.beforeRequests)),
                    h('td', { class: 'num' }, String(e.afterRequests)),
                    h('td', { class: 'num' }, figure(e.beforeCpuPerRequestNanos, 'nanoseconds')),
                    h('td', { class: 'num' }, figure(e.afterCpuPerRequestNanos, 'nanoseconds')),
                    h(
                      'td',
                      { class: `num ${VERDICT_CLASS[e.difference.verdict] ?? ''}` },
                      `${change(e.difference.relative)} ${e.difference.verdict}`,
                    ),
                  ),
                ),
              ),
            );
      const uncounted = [r.before, r.after].some((s) => s.profilesWithCpu > 0 && s.profilesWithCounts === 0);
      replace(
        panel,
        uncounted
          ? h(
              'p',
              { class: 'badge no', 'data-testid': 'no-counts' },
              "These profiles carry no request counts, so CPU per request is unknown: run dd-trace-go's tracer beside its profiler and set DD_PROFILING_ENDPOINT_COUNT_ENABLED=true.",
            )
          : null,
        h('h2', {}, perRequest ? 'CPU per request' : 'CPU cores (load not accounted for)'),
        h('p', { 'data-testid': 'impact-summary' }, h('b', { class: VERDICT_CLASS[r.difference.verdict] ?? '' }, r.summary)),
        h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, ''),
              h('th', { class: 'num' }, 'Profiles'),
              h('th', { class: 'num' }, 'Requests'),
              h('th', { class: 'num' }, perRequest ? 'CPU/request (95% CI)' : 'CPU cores (95% CI)'),
              h('th', { class: 'num' }, 'CPU cores'),
            ),
          ),
          h('tbody', {}, ...rows),
        ),
        ...r.notes.map((n) => h('p', { class: 'muted', 'data-testid': 'impact-note' }, n)),
        endpoints === null ? null : h('div', { class: 'scroll' }, endpoints),
      );
    })
    .catch((err: Error) => {
      if (!isStale()) replace(panel, h('p', { class: 'muted' }, `No impact report: ${err.message}`));
    });
  return panel;
}
