import { download, type ExplainJson, getJson, type ProfileListJson, type ServiceJson, type ServicesJson } from '../api.js';
import { copyButton } from '../components/copy-button.js';
import { impactPanel } from '../components/impact-panel.js';
import { timeRange, windowOf, windowParams } from '../components/time-range.js';
import { timelinePanel, timelineParams } from '../components/timeline-panel.js';
import { h, replace } from '../dom.js';
import { describeRange, formatTime } from '../format.js';
import { serviceQuery } from '../query-terms.js';
import { href, navigate, withParams } from '../route.js';
import { loadForView, type View } from '../view.js';

/** Quotes a query for a POSIX shell. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Every service with its PGO adoption; those whose newest profiles run without PGO are flagged. */
export const servicesView: View = async (root, ctx) => {
  if (ctx.route.path[1] !== undefined) return serviceDetail(root, ctx, ctx.route.path[1]);
  const win = windowOf(ctx.route.params, 'now-7d');
  const range = timeRange(win, (w) => navigate(['services'], windowParams(w))).element;
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading services…'));
  replace(root, h('div', { class: 'row' }, h('h1', { class: 'grow' }, 'Services and PGO'), range), body);
  const loaded = await loadForView(ctx, body, 'Services could not be loaded.', () => getJson<ServicesJson>('services', { ...win }));
  if (loaded === undefined) return;
  const services = loaded.services;
  if (services.length === 0) {
    replace(body, h('p', { class: 'empty', 'data-testid': 'empty' }, `No service sent profiles ${describeRange(win.from, win.to)}.`));
    return;
  }
  const without = services.filter((s) => s.withoutPgo).length;
  const unknown = services.filter((s) => s.latestPgo === null).map((s) => s.service);
  replace(
    body,
    h(
      'p',
      {},
      without === 0
        ? 'Every service with a known build runs with PGO.'
        : `${without} of ${services.length} services run builds without PGO: their newest profiles say pgo:false.`,
      unknown.length === 0
        ? null
        : ` ${unknown.length === 1 ? `${unknown[0]} sends` : `${unknown.length} services (${unknown.join(', ')}) send`} no pgo tag, so whether ${unknown.length === 1 ? 'it uses' : 'they use'} PGO is unknown (dd-trace-go adds the tag; other clients can send pgo:true or pgo:false).`,
    ),
    h(
      'table',
      { 'data-testid': 'services-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Service', 'Envs', 'Latest version', 'Profiles', 'CPU cores', 'pgo:true share', 'Status', ''].map((t) =>
            h('th', { scope: 'col', class: t === 'Profiles' || t === 'CPU cores' ? 'num' : undefined }, t),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        ...services.map((s) =>
          h(
            'tr',
            { class: s.withoutPgo ? 'flagged' : undefined, 'data-service': s.service },
            h('td', {}, h('a', { href: href(['services', s.service]) }, s.service)),
            h('td', {}, s.envs.join(', ')),
            h('td', {}, s.latestVersion),
            h('td', { class: 'num' }, s.profiles),
            h('td', { class: 'num' }, s.cpuCores === null ? '' : s.cpuCores.toFixed(2)),
            h(
              'td',
              {},
              h('span', { class: 'bar-track' }, h('span', { class: 'bar', style: `width:${Math.round(s.pgoShare * 80)}px` })),
              `${Math.round(s.pgoShare * 100)}%`,
            ),
            h(
              'td',
              {},
              s.withoutPgo
                ? h('span', { class: 'badge no' }, 'no PGO')
                : s.latestPgo
                  ? h('span', { class: 'badge yes' }, 'PGO')
                  : h('span', { class: 'badge' }, 'unknown'),
            ),
            h(
              'td',
              {},
              // Profiles with and without PGO in the window: their difference is what PGO bought.
              s.pgoShare > 0 && s.pgoShare < 1
                ? h(
                    'a',
                    {
                      href: href(['compare'], {
                        before: `${serviceQuery(s.service)} pgo:false`,
                        after: `${serviceQuery(s.service)} pgo:true`,
                        ...windowParams(win),
                      }),
                    },
                    'before/after PGO',
                  )
                : null,
            ),
          ),
        ),
      ),
    ),
  );
};

/** One service: the default.pgo the CLI would build now, its hot call sites, download and the CI command. */
async function serviceDetail(root: HTMLElement, ctx: Parameters<View>[1], service: string): Promise<void> {
  const env = ctx.route.params.get('env') ?? '';
  const body = h('div', {}, h('p', { class: 'muted' }, 'Building the default.pgo preview…'));
  replace(root, h('p', {}, h('a', { href: href(['services']) }, '← Services')), h('h1', {}, `${service}: default.pgo`), body);
  let info: ServiceJson | undefined;
  try {
    info = (await getJson<ServicesJson>('services', { from: 'now-30d' })).services.find((s) => s.service === service);
  } catch (err) {
    if (!ctx.isStale()) ctx.showError(err);
    return;
  }
  if (ctx.isStale()) return;
  const chosenEnv = env || (info?.envs.includes('prod') ? 'prod' : (info?.envs[0] ?? ''));
  const query = serviceQuery(service, chosenEnv);
  const envSelect = h('select', {
    'aria-label': 'Environment',
    onchange: (e: Event) => navigate(['services', service], { env: (e.target as HTMLSelectElement).value }),
  });
  for (const e of info?.envs ?? []) envSelect.append(h('option', { value: e, selected: e === chosenEnv }, e));
  const command = `hotpath pgo --server ${location.origin} ${shellQuote(query)} ./default.pgo`;
  const commandText = h('pre', { class: 'grow', 'data-testid': 'ci-command' }, command);
  const actionsText = h(
    'pre',
    { class: 'grow', 'data-testid': 'ci-actions' },
    [
      '- name: Fetch the PGO profile',
      `  run: npx --yes hotpath pgo --server ${location.origin} ${shellQuote(query)} ./default.pgo`,
      '  env:',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: GitHub Actions syntax, not a template.
      '    HOTPATH_APP_KEY: ${{ secrets.HOTPATH_APP_KEY }}',
    ].join('\n'),
  );
  let explain: ExplainJson;
  try {
    explain = await getJson<ExplainJson>('pgo/explain', { query, from: 'now-72h', limit: 5, top: 50 });
  } catch (err) {
    if (ctx.isStale()) return;
    ctx.showError(err);
    replace(
      body,
      h('div', { class: 'toolbar' }, 'Environment', envSelect),
      h('p', { class: 'empty' }, 'No default.pgo can be built for this service now.'),
    );
    return;
  }
  if (ctx.isStale()) return;
  // Who the profiles are (time, host, version, CPU), not only their ids; filled in when it arrives.
  const usedSlot = h('div', {}, h('ul', {}, ...explain.profileIds.map((id) => h('li', {}, h('a', { href: href(['profile', id]) }, id)))));
  getJson<ProfileListJson>('profiles', { query: explain.debugQuery, from: 'now-72h', sort: '-cpu', limit: 100 })
    .then(({ profiles }) => {
      if (ctx.isStale() || profiles.length === 0) return;
      replace(
        usedSlot,
        h(
          'table',
          { 'data-testid': 'pgo-profiles' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Time', 'Env', 'Version', 'Host', 'PGO', 'CPU cores'].map((t) =>
                h('th', { scope: 'col', class: t === 'CPU cores' ? 'num' : undefined }, t),
              ),
            ),
          ),
          h(
            'tbody',
            {},
            ...profiles.map((r) =>
              h(
                'tr',
                {},
                h('td', {}, h('a', { href: href(['profile', r.id]) }, formatTime(r.start))),
                h('td', {}, r.env),
                h('td', {}, r.version),
                h('td', {}, r.host),
                h('td', {}, r.pgo === null ? '' : String(r.pgo)),
                h('td', { class: 'num' }, r.cpuCores === null ? '' : r.cpuCores.toFixed(2)),
              ),
            ),
          ),
        ),
      );
    })
    .catch(() => undefined); // the ids above stay; the page's real errors come from explain
  replace(
    body,
    h(
      'div',
      { class: 'toolbar' },
      'Environment',
      envSelect,
      h('span', { class: 'grow' }),
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          onclick: () => download('/api/v1/pgo', 'default.pgo', { queries: [{ query, from: 'now-72h', limit: 5 }] }).catch(ctx.showError),
        },
        'Download default.pgo',
      ),
    ),
    info?.withoutPgo
      ? h('p', { class: 'badge no' }, 'The newest profiles of this service say pgo:false: its builds do not use a profile yet.')
      : null,
    timelinePanel(
      ctx,
      query,
      windowOf(ctx.route.params, 'now-7d'),
      timelineParams(ctx.route),
      (changes) => navigate(['services', service], withParams(ctx.route, changes)),
      ctx.route.params.has('from') || ctx.route.params.has('to')
        ? () => navigate(['services', service], withParams(ctx.route, { from: null, to: null }))
        : undefined,
    ),
    h('h2', {}, 'Did PGO help?'),
    impactPanel(`${query} pgo:false`, `${query} pgo:true`, 'now-7d', 'now', ctx.isStale),
    h('h2', {}, 'CI step'),
    h('div', { class: 'panel row' }, commandText, copyButton(commandText)),
    h('p', { class: 'muted' }, 'As a GitHub Actions step, before the go build step:'),
    h('div', { class: 'panel row' }, actionsText, copyButton(actionsText)),
    h(
      'p',
      { class: 'muted' },
      'Run it before go build, with HOTPATH_APP_KEY set to an application key with the pgo_read scope. It never fails the build unless --fail is given.',
    ),
    h('h2', {}, `Profiles used (${explain.profileIds.length}, the top by CPU cores in the last 3 days)`),
    usedSlot,
    h(
      'p',
      {},
      h('a', { href: href(['aggregate'], { query: explain.debugQuery, from: 'now-72h' }) }, 'Flame graph of these profiles'),
      ' · ',
      h('a', { href: href(['explore'], { query: explain.debugQuery, from: 'now-72h' }) }, 'list them in the explorer'),
    ),
    h('h2', {}, 'Hot call sites the compiler will see'),
    h(
      'p',
      {},
      `${explain.hotCount} of ${explain.edgeCount} call edges are hot: as go build decides with PGO, the heaviest edges that together make up 99% of the call-edge weight (${explain.valueType}), down to edges of ${explain.thresholdPercent.toFixed(2)}% each. At a hot call site the callee may be inlined up to cost 2000 instead of 80; at interface and function-value calls the compiler adds a guarded direct call to the hottest callee.`,
    ),
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { 'data-testid': 'hot-call-sites' },
        h('thead', {}, h('tr', {}, ...['Caller', 'Callee', 'Offset', 'Share', 'Hot'].map((t) => h('th', {}, t)))),
        h(
          'tbody',
          {},
          ...explain.edges.map((e) =>
            h(
              'tr',
              {},
              h('td', { class: 'fn' }, e.caller),
              h('td', { class: 'fn' }, e.callee),
              h('td', { class: 'num' }, e.offset),
              h('td', { class: 'num' }, `${e.sharePercent.toFixed(2)}%`),
              h('td', {}, e.hot ? h('span', { class: 'badge yes' }, 'hot') : ''),
            ),
          ),
        ),
      ),
    ),
  );
}
