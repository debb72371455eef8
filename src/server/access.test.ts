import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { SqliteKeyStore } from '../store/sqlite-keys.js';
import { type Access, registerAccessControl, registeredRoutes } from './access.js';
import { openTestApp, type TestApp, type TestKeys } from './testing.js';

/** A request path for a route pattern: parameters and wildcards filled with harmless values. */
function pathOf(url: string): string {
  return url.replace(/:[A-Za-z]+/g, 'x').replace('*', 'main.js');
}

/** The keys that must be refused on a route of `access`: [why, key, expected status]. */
function wrongKeys(access: Access, keys: TestKeys): Array<[string, string, number]> {
  switch (access) {
    case 'intake':
      // Sending needs an API key or an admin application key.
      return [
        ['an application key without admin (wrong kind)', keys.readBoth, 403],
        ['a read-only key (no admin scope)', keys.profilesRead, 403],
      ];
    case 'profiles_read':
      return [
        ['an API key (wrong kind)', keys.api, 403],
        ['an application key without profiles_read', keys.pgoRead, 403],
      ];
    case 'pgo_read':
      return [
        ['an API key (wrong kind)', keys.api, 403],
        ['an application key without pgo_read', keys.profilesRead, 403],
      ];
    case 'admin':
      return [
        ['an API key (wrong kind)', keys.api, 403],
        ['an application key without admin', keys.readBoth, 403],
      ];
    case 'public':
      return [];
  }
}

describe('access control', () => {
  let t: TestApp;
  before(async () => {
    t = await openTestApp();
  });
  after(() => t.close());

  it('every route declares its access, and only /healthz, the trace agent /info and the web UI are public', () => {
    const routes = registeredRoutes(t.app);
    assert.ok(routes.length >= 20, `only ${routes.length} routes collected`);
    const open = [...new Set(routes.filter((r) => r.access === 'public').map((r) => r.url))].sort();
    assert.deepEqual(open, ['/', '/healthz', '/info', '/ui/*']);
    assert.equal(routes.find((r) => r.url === '/metrics')?.access, 'profiles_read');
  });

  it('every non-public route refuses no key (401), an unknown key (401), a key of the wrong kind or without the scope (403)', async () => {
    const routes = registeredRoutes(t.app).filter((r) => r.access !== 'public');
    let checked = 0;
    for (const route of routes) {
      const send = (headers: Record<string, string>) =>
        t.app.inject({
          method: route.method as 'GET',
          url: pathOf(route.url),
          headers: { 'content-type': 'application/octet-stream', ...headers },
          ...(route.method === 'POST' ? { payload: Buffer.from('not read') } : {}),
        });
      const label = `${route.method} ${route.url} (${route.access})`;
      const none = await send({});
      assert.equal(none.statusCode, 401, label);
      if (route.method !== 'HEAD') assert.equal(none.json().code, 'unauthenticated', label);
      assert.equal((await send({ authorization: 'Bearer hpapi_unknown' })).statusCode, 401, `${label}: unknown key`);
      for (const [why, key, status] of wrongKeys(route.access, t.keys)) {
        // Every form a client may send the key in is checked the same way.
        const forms: Array<Record<string, string>> = [
          { authorization: `Bearer ${key}` },
          { 'dd-api-key': key },
          { 'dd-application-key': key },
        ];
        for (const headers of forms) {
          const res = await send(headers);
          assert.equal(res.statusCode, status, `${label}: ${why} in ${Object.keys(headers)[0]}`);
        }
      }
      checked++;
    }
    assert.ok(checked >= 17, `only ${checked} non-public routes checked`);
  });

  it('the right key passes the access check on every route (the answer is the route’s own, not 401/403)', async () => {
    const right: Record<Access, string> = {
      public: '',
      intake: t.keys.api,
      profiles_read: t.keys.profilesRead,
      pgo_read: t.keys.pgoRead,
      admin: t.keys.admin,
    };
    for (const route of registeredRoutes(t.app)) {
      const res = await t.app.inject({
        method: route.method as 'GET',
        url: pathOf(route.url),
        headers: { authorization: `Bearer ${right[route.access]}` },
      });
      assert.ok(![401, 403, 500].includes(res.statusCode), `${route.method} ${route.url}: ${res.statusCode} ${res.body}`);
    }
  });

  it('an admin key may do everything, and sending works with HTTP basic auth as dd-trace-go sends it', async () => {
    for (const route of registeredRoutes(t.app)) {
      const res = await t.app.inject({
        method: route.method as 'GET',
        url: pathOf(route.url),
        headers: { 'dd-application-key': t.keys.admin },
      });
      assert.ok(![401, 403].includes(res.statusCode), `${route.method} ${route.url}: ${res.statusCode}`);
    }
    const basic = `Basic ${Buffer.from(`hotpath:${t.keys.api}`).toString('base64')}`;
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/profiles',
      headers: { authorization: basic },
      payload: Buffer.alloc(0),
    });
    assert.equal(res.statusCode, 400, res.body);
  });

  it('refuses a request with a body without parsing it, and a route that does not exist with 404', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/profiles', payload: Buffer.alloc(1024 * 1024) });
    assert.equal(res.statusCode, 401);
    const missing = await t.app.inject({ method: 'POST', url: '/nowhere', payload: Buffer.alloc(1024) });
    assert.equal(missing.statusCode, 404);
    assert.match(missing.json().error, /no route POST \/nowhere/);
  });

  it('--public-metrics opens /metrics; --allow-anonymous-read opens the reads; --allow-anonymous-intake the intake', async () => {
    const open = await openTestApp({ publicMetrics: true });
    try {
      assert.equal((await open.app.inject('/metrics')).statusCode, 200);
      assert.equal((await open.app.inject('/api/v1/profiles')).statusCode, 401);
    } finally {
      await open.close();
    }
    const anonymous = await openTestApp({ anonymousRead: true, anonymousIntake: true });
    try {
      assert.equal((await anonymous.app.inject('/metrics')).statusCode, 200);
      assert.equal((await anonymous.app.inject('/api/v1/profiles')).statusCode, 200);
      const upload = await anonymous.app.inject({ method: 'POST', url: '/api/v1/profiles', payload: Buffer.alloc(0) });
      assert.equal(upload.statusCode, 400, 'reaches intake, which refuses the empty body');
      // A key that is sent must still be valid.
      assert.equal((await anonymous.app.inject({ url: '/api/v1/profiles', headers: { 'dd-application-key': 'nope' } })).statusCode, 401);
    } finally {
      await anonymous.close();
    }
  });

  it('a route added without an access declaration fails at registration', async () => {
    const app = Fastify();
    const keys = new SqliteKeyStore(':memory:');
    try {
      registerAccessControl(app, { keys, anonymousIntake: false, anonymousRead: false });
      app.get('/declared', { config: { access: 'public' } }, async () => 'ok');
      assert.throws(() => app.get('/forgotten', async () => 'open'), /route GET \/forgotten declares no access/);
      assert.throws(
        () => app.post('/typo', { config: { access: 'everyone' as Access } }, async () => 'open'),
        /route POST \/typo declares no access/,
      );
    } finally {
      await keys.close();
      await app.close();
    }
  });
});
