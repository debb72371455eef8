import type { AppScope, KeyInfo } from '../store/key-scopes.js';
import type { KeyStore } from '../store/keys.js';

type Headers = Record<string, string | string[] | undefined>;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Returns the key a request presents, in the ways existing clients send one: DD-API-KEY or
 * DD-APPLICATION-KEY headers, `Authorization: Bearer KEY`, or the password of Basic auth (Go's
 * HTTP client sends `http://user:KEY@host` as Basic auth, so DD_TRACE_AGENT_URL can carry it).
 */
export function presentedKeys(headers: Headers): { api?: string; app?: string; any?: string } {
  const api = first(headers['dd-api-key']);
  const app = first(headers['dd-application-key']);
  let any: string | undefined;
  const authorization = first(headers.authorization);
  if (authorization) {
    const [scheme, value] = authorization.split(/\s+/, 2);
    if (/^bearer$/i.test(scheme) && value) any = value;
    if (/^basic$/i.test(scheme) && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      any = colon >= 0 ? decoded.slice(colon + 1) : decoded;
    }
  }
  return { api, app, any };
}

export type AuthResult = { ok: true; key: KeyInfo | null } | { ok: false; status: 401 | 403; message: string };

/**
 * Decides whether a request may write (send profiles) or read with `scope`. Writing needs a
 * live API key (or an app key with admin); reading needs an app key with the scope or admin.
 * `anonymous` lets requests without any key through (the server's --allow-anonymous-* flags).
 */
export async function authorize(
  keys: KeyStore,
  headers: Headers,
  need: { write: true } | { scope: AppScope },
  anonymous: boolean,
): Promise<AuthResult> {
  const presented = presentedKeys(headers);
  const candidates = 'write' in need ? [presented.api, presented.any, presented.app] : [presented.app, presented.any, presented.api];
  const secrets = candidates.filter((s): s is string => typeof s === 'string' && s !== '');
  if (secrets.length === 0) {
    if (anonymous) return { ok: true, key: null };
    return {
      ok: false,
      status: 401,
      message:
        'write' in need
          ? 'missing API key: send DD-API-KEY, Authorization: Bearer, or put the key in the URL (http://hotpath:KEY@host)'
          : 'missing application key: send DD-APPLICATION-KEY or Authorization: Bearer',
    };
  }
  let found: KeyInfo | null = null;
  for (const secret of secrets) {
    found = await keys.verify(secret);
    if (found) break;
  }
  if (!found) return { ok: false, status: 401, message: 'unknown or revoked key' };
  if ('write' in need) {
    if (found.kind === 'api' || found.scopes.includes('admin')) return { ok: true, key: found };
    return { ok: false, status: 403, message: `key ${found.id} is an application key: sending profiles needs an API key` };
  }
  if (found.kind === 'app' && (found.scopes.includes(need.scope) || found.scopes.includes('admin'))) return { ok: true, key: found };
  return { ok: false, status: 403, message: `key ${found.id} lacks the scope ${need.scope}` };
}
