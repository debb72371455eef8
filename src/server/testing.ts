import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { SqliteKeyStore } from '../store/sqlite-keys.js';
import { openSqliteStore, type ProfileStore } from '../store/store.js';
import { type AppOptions, buildApp } from './app.js';

/** One secret of each kind a test needs to tell access levels apart. */
export interface TestKeys {
  api: string;
  admin: string;
  profilesRead: string;
  pgoRead: string;
  /** profiles_read and pgo_read, but not admin: may read everything and send nothing. */
  readBoth: string;
}

export interface TestApp {
  app: FastifyInstance;
  store: ProfileStore;
  keys: TestKeys;
  dataDir: string;
  /** Closes the app, the store and the keys and removes the data directory. */
  close: () => Promise<void>;
}

/**
 * For tests: the real app (app.inject) on a real SQLite store and key store in a fresh
 * temporary data directory, with one key of each kind. `configure` may replace parts of the
 * store (to inject a fault) before the app is built.
 */
export async function openTestApp(
  options: Partial<Omit<AppOptions, 'store' | 'keys'>> = {},
  configure: (store: ProfileStore) => void = () => undefined,
): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hotpath-app-'));
  const store = await openSqliteStore(dataDir);
  configure(store);
  const keyStore = new SqliteKeyStore(join(dataDir, 'keys.sqlite'));
  const keys: TestKeys = {
    api: (await keyStore.create('api', 'api')).secret,
    admin: (await keyStore.create('app', 'admin', ['admin'])).secret,
    profilesRead: (await keyStore.create('app', 'profiles', ['profiles_read'])).secret,
    pgoRead: (await keyStore.create('app', 'pgo', ['pgo_read'])).secret,
    readBoth: (await keyStore.create('app', 'both', ['profiles_read', 'pgo_read'])).secret,
  };
  const logger: Logger = options.logger ?? pino({ level: 'silent' });
  const app = buildApp({ ...options, store, keys: keyStore, logger });
  await app.ready();
  return {
    app,
    store,
    keys,
    dataDir,
    close: async () => {
      await app.close();
      await store.close();
      await keyStore.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Sends one request to `app` in process (app.inject: no socket) and returns the answer as a
 * fetch Response, so a test of the HTTP contract reads the same whether the server is in
 * process or a real `hotpath serve`.
 */
export async function injectFetch(
  app: FastifyInstance,
  path: string,
  init: { method?: 'GET' | 'POST' | 'DELETE'; headers?: Record<string, string>; body?: Uint8Array | string } = {},
): Promise<Response> {
  // light-my-request sends a Buffer as bytes but would serialise any other Uint8Array as JSON.
  const body =
    init.body instanceof Uint8Array && !Buffer.isBuffer(init.body)
      ? Buffer.from(init.body.buffer, init.body.byteOffset, init.body.byteLength)
      : init.body;
  const res = await app.inject({ method: init.method ?? 'GET', url: path, headers: init.headers, payload: body });
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, String(v));
  }
  return new Response(res.statusCode === 204 || res.statusCode === 304 ? null : res.rawPayload, { status: res.statusCode, headers });
}
