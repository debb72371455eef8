import type { FastifyInstance } from 'fastify';
import type { KeyStore } from '../store/keys.js';
import { authorize } from './auth.js';
import { HttpError } from './http-error.js';

/**
 * Who may call a route: anyone (`public`), a sender of profiles (`intake`: an API key, or an
 * application key with admin), or a reader holding an application key with the scope
 * (`profiles_read`, `pgo_read`, `admin`; admin grants every scope).
 */
export const ACCESS_LEVELS = ['public', 'intake', 'profiles_read', 'pgo_read', 'admin'] as const;
export type Access = (typeof ACCESS_LEVELS)[number];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; every route must say (see registerAccessControl). */
    access?: Access;
  }
}

/** One registered route and who may call it. */
export interface RouteAccess {
  method: string;
  url: string;
  access: Access;
}

export interface AccessOptions {
  keys: KeyStore;
  /** Intake without a key (--allow-anonymous-intake). */
  anonymousIntake: boolean;
  /** profiles_read and pgo_read routes without a key (--allow-anonymous-read); admin routes still need a key. */
  anonymousRead: boolean;
}

const tables = new WeakMap<FastifyInstance, RouteAccess[]>();

/** The routes registered on `app` so far with their access, in registration order (HEAD twins included). */
export function registeredRoutes(app: FastifyInstance): readonly RouteAccess[] {
  return tables.get(app) ?? [];
}

/**
 * Enforces each route's declared access in one onRequest hook. Fastify runs onRequest before it
 * reads or parses the body, so a refused request costs no more memory than its headers: once the
 * refusal is sent, Node reads the rest of the body off the wire in small chunks and drops them
 * (the request timeout still bounds how long that may take). The connection is kept rather than
 * closed so that a client still sending reliably reads the 401 instead of a connection reset.
 * Requests for no route are answered 404 the same way, before their body is read. Must be called before any route is added: a route added
 * afterwards without `config.access` makes registration throw, so no route is open by mistake.
 */
export function registerAccessControl(app: FastifyInstance, options: AccessOptions): void {
  const table: RouteAccess[] = [];
  tables.set(app, table);

  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (access === undefined || !(ACCESS_LEVELS as readonly string[]).includes(access)) {
      throw new Error(
        `route ${methods.join(',')} ${route.url} declares no access: add config: { access: ${ACCESS_LEVELS.map((a) => `'${a}'`).join(' | ')} }`,
      );
    }
    for (const method of methods) table.push({ method, url: route.url, access });
  });

  app.addHook('onRequest', async (req) => {
    if (req.is404) {
      throw new HttpError(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`);
    }
    const access = req.routeOptions.config.access;
    if (access === 'public') return;
    const result =
      access === 'intake'
        ? await authorize(options.keys, req.headers, { write: true }, options.anonymousIntake)
        : await authorize(
            options.keys,
            req.headers,
            { scope: access ?? 'admin' },
            options.anonymousRead && (access === 'profiles_read' || access === 'pgo_read'),
          );
    if (!result.ok) {
      throw new HttpError(result.status, result.status === 401 ? 'unauthenticated' : 'forbidden', result.message);
    }
  });
}
