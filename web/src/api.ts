/** An answer from the API that was not 2xx: the server's message, and the query column for a query error. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly column?: number,
  ) {
    super(message);
  }
}

const KEY_STORAGE = 'hotpath.appKey';

/** The application key the UI sends, kept in this browser only. */
export function appKey(): string {
  return localStorage.getItem(KEY_STORAGE) ?? '';
}
export function setAppKey(key: string): void {
  if (key === '') localStorage.removeItem(KEY_STORAGE);
  else localStorage.setItem(KEY_STORAGE, key);
}

function headers(): HeadersInit {
  const key = appKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** Returns the API URL of `path` with the non-empty parameters. */
export function apiUrl(path: string, params: Record<string, string | number | undefined | null> = {}): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const qs = search.toString();
  return `/api/v1/${path}${qs ? `?${qs}` : ''}`;
}

async function check(res: Response): Promise<Response> {
  if (res.ok) return res;
  let message = `${res.status} ${res.statusText}`;
  let column: number | undefined;
  try {
    const body = (await res.json()) as { error?: string; column?: number };
    if (body.error) message = body.error;
    column = body.column;
  } catch {
    // Not JSON (a proxy's page): keep the status line.
  }
  if (res.status === 401 || res.status === 403) window.dispatchEvent(new CustomEvent('hotpath:auth', { detail: message }));
  throw new ApiError(res.status, message, column);
}

/** GETs JSON from the API; rejects with ApiError carrying the server's message. */
export async function getJson<T>(path: string, params: Record<string, string | number | undefined | null> = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(apiUrl(path, params), { headers: headers() });
  } catch (err) {
    throw new ApiError(0, `cannot reach the Hotpath server: ${(err as Error).message}`);
  }
  return (await check(res)).json() as Promise<T>;
}

/** Fetches bytes (GET, or POST with a JSON body) and saves them as a download named `filename`. */
export async function download(path: string, filename: string, body?: unknown): Promise<void> {
  const init: RequestInit =
    body === undefined
      ? { headers: headers() }
      : { method: 'POST', headers: { ...headers(), 'content-type': 'application/json' }, body: JSON.stringify(body) };
  const res = await check(await fetch(path.startsWith('/') ? path : apiUrl(path), init));
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// The API's answers, declared once beside the server (src/api/types.d.ts) and compiled here too.
export type {
  DiffJson,
  DiffSide,
  ExplainJson,
  FacetsJson,
  FacetValue,
  FlameJson,
  ImpactIntervalJson,
  ImpactJson,
  ProfileJson,
  ProfileListJson,
  SampleTypeJson,
  ServiceJson,
  ServicesJson,
  TargetJson,
  TargetsJson,
  TimelineJson,
  TreeJson,
} from '../../src/api/types.js';
