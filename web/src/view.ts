import type { ApiError } from './api.js';
import { h, replace } from './dom.js';
import type { Route } from './route.js';

/** What a view gets from the app shell. */
export interface ViewContext {
  route: Route;
  /** Shows an error the user must see (server errors, unreachable server). */
  showError: (err: unknown) => void;
  /** Registers cleanup for when the view is left. */
  onDispose: (fn: () => void) => void;
  /** True once the user navigated elsewhere: late answers must not draw. */
  isStale: () => boolean;
}

/** A view draws itself into `root` for the route in `ctx`. */
export type View = (root: HTMLElement, ctx: ViewContext) => Promise<void>;

/** True for an ApiError that carries a query column (shown at the query bar instead of globally). */
export function isQueryError(err: unknown): err is ApiError {
  return typeof err === 'object' && err !== null && 'column' in err && (err as ApiError).column !== undefined;
}

/**
 * Runs `load` for a view. On failure shows the error and puts `failed` into `into` as its empty
 * state; returns undefined when the view must stop drawing: `load` failed, or the user left.
 */
export async function loadForView<T>(ctx: ViewContext, into: HTMLElement, failed: string, load: () => Promise<T>): Promise<T | undefined> {
  let value: T;
  try {
    value = await load();
  } catch (err) {
    if (ctx.isStale()) return undefined;
    ctx.showError(err);
    replace(into, h('p', { class: 'empty' }, failed));
    return undefined;
  }
  return ctx.isStale() ? undefined : value;
}
