import { ApiError, appKey, setAppKey } from './api.js';
import { h, replace } from './dom.js';
import { currentRoute } from './route.js';
import type { View, ViewContext } from './view.js';
import { compareView } from './views/compare.js';
import { explorerView } from './views/explorer.js';
import { flameView } from './views/flame-view.js';
import { servicesView } from './views/services.js';
import { targetsView } from './views/targets.js';

const VIEWS: Record<string, View> = {
  explore: explorerView,
  profile: flameView,
  aggregate: flameView,
  compare: compareView,
  services: servicesView,
  targets: targetsView,
};

const viewRoot = document.getElementById('view') as HTMLElement;
const errorBox = document.getElementById('error') as HTMLElement;
let generation = 0;
let disposers: Array<() => void> = [];

/** Shows an error in the banner: the server's own message, never swallowed. */
function showError(err: unknown): void {
  const message =
    err instanceof ApiError
      ? `${err.status === 0 ? '' : `Server answered ${err.status}: `}${err.message}`
      : `Unexpected error: ${err instanceof Error ? err.message : String(err)}`;
  errorBox.hidden = false;
  replace(errorBox, message);
}

/** Asks for the application key (kept in localStorage), then reloads the view. */
function askForKey(reason?: string): void {
  const input = h('input', {
    type: 'password',
    value: appKey(),
    'aria-label': 'Application key',
    style: 'width: 100%',
    autocomplete: 'off',
  });
  const dialog = h(
    'dialog',
    { 'aria-label': 'Application key' },
    h(
      'form',
      { method: 'dialog' },
      h('h2', {}, 'Application key'),
      reason ? h('p', { class: 'query-error' }, reason) : null,
      h(
        'p',
        { class: 'muted' },
        'Reading profiles needs an application key with the profiles_read scope (pgo_read for the PGO views). `hotpath serve` prints one on first start; `hotpath keys create` makes more. It is kept in this browser only.',
      ),
      input,
      h('div', { class: 'toolbar' }, h('button', { class: 'primary', value: 'save' }, 'Save'), h('button', { value: 'cancel' }, 'Cancel')),
    ),
  );
  dialog.addEventListener('close', () => {
    if (dialog.returnValue === 'save') {
      setAppKey(input.value.trim());
      void render();
    }
    dialog.remove();
  });
  document.body.append(dialog);
  dialog.showModal();
}

async function render(): Promise<void> {
  for (const d of disposers) d();
  disposers = [];
  const mine = ++generation;
  lastHash = location.hash;
  errorBox.hidden = true;
  const route = currentRoute();
  if (route.path.length === 0) route.path = ['explore'];
  for (const a of document.querySelectorAll<HTMLAnchorElement>('header nav a')) {
    const active =
      a.dataset.view === route.path[0] || (a.dataset.view === 'explore' && (route.path[0] === 'profile' || route.path[0] === 'aggregate'));
    a.classList.toggle('active', active);
    if (active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const view = VIEWS[route.path[0]];
  if (!view) {
    replace(
      viewRoot,
      h('p', { class: 'empty' }, `No view "${route.path[0]}".`),
      h('p', {}, h('a', { href: '#/explore' }, 'Go to the explorer')),
    );
    return;
  }
  const ctx: ViewContext = {
    route,
    showError: (err) => {
      if (mine === generation) showError(err);
    },
    onDispose: (fn) => disposers.push(fn),
    isStale: () => mine !== generation,
  };
  document.title = 'Hotpath';
  try {
    await view(viewRoot, ctx);
  } catch (err) {
    ctx.showError(err);
  }
  // Bookmarks and history entries are named after what the view shows.
  const heading = viewRoot.querySelector('h1')?.textContent?.trim();
  if (mine === generation && heading) document.title = `${heading} · Hotpath`;
}

// A back/forward step can fire both popstate and hashchange: draw once per URL.
let lastHash: string | null = null;
const onUrlChange = () => {
  if (location.hash !== lastHash) void render();
};
window.addEventListener('hashchange', onUrlChange);
window.addEventListener('popstate', onUrlChange);
window.addEventListener('hotpath:route', () => void render());
window.addEventListener('hotpath:auth', (e) => {
  if (!document.querySelector('dialog[open]')) askForKey((e as CustomEvent<string>).detail);
});
document.getElementById('key-button')?.addEventListener('click', () => askForKey());
void render();
