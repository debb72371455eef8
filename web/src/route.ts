/** The current view and its parameters, all held in the URL hash so every view can be bookmarked. */
export interface Route {
  /** Path segments after "#/", e.g. ["profile", "<id>"]. */
  path: string[];
  params: URLSearchParams;
}

/** Returns the route in `location.hash` ("#/explore?query=..."). */
export function currentRoute(): Route {
  const hash = location.hash.replace(/^#\/?/, '');
  const q = hash.indexOf('?');
  const path = (q < 0 ? hash : hash.slice(0, q))
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  return { path, params: new URLSearchParams(q < 0 ? '' : hash.slice(q + 1)) };
}

/** Returns the hash for a view and parameters; empty parameters are left out. */
export function href(path: string[], params: Record<string, string | number | null | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const qs = search.toString();
  return `#/${path.map(encodeURIComponent).join('/')}${qs ? `?${qs}` : ''}`;
}

/** Goes to a view; `replace` rewrites the current history entry (for changes like sorting). */
export function navigate(path: string[], params: Record<string, string | number | null | undefined> = {}, replace = false): void {
  const target = href(path, params);
  if (target === location.hash) return;
  if (replace) history.replaceState(null, '', target);
  else history.pushState(null, '', target);
  window.dispatchEvent(new Event('hotpath:route'));
}

/** The current parameters as a plain object, with `changes` applied (null removes a key). */
export function withParams(route: Route, changes: Record<string, string | number | null>): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
  for (const [k, v] of route.params) out[k] = v;
  return { ...out, ...changes };
}

/** Records parameter changes in the URL without reloading the view (zoom, search, focus). */
export function updateParams(route: Route, changes: Record<string, string | number | null>): void {
  const params = withParams(route, changes);
  history.replaceState(null, '', href(route.path, params));
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === '') route.params.delete(k);
    else route.params.set(k, String(v));
  }
}
