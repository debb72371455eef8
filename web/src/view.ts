import type { ApiError } from './api.js';
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
