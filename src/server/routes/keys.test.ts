import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CreatedKeyJson, KeyListJson } from '../../api/types.js';
import { injectFetch, openTestApp, type TestApp } from '../testing.js';

describe('key routes', () => {
  let server: TestApp;
  before(async () => {
    server = await openTestApp();
  });
  after(async () => {
    await server.close();
  });

  const call = (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, key = server.keys.admin): Promise<Response> =>
    injectFetch(server.app, path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('creates a key whose secret works at once, lists it without the secret, and revokes it', async () => {
    const res = await call('POST', '/api/v1/keys', { kind: 'app', name: 'ci', scopes: ['pgo_read'] });
    assert.equal(res.status, 201);
    const created = (await res.json()) as CreatedKeyJson;
    assert.deepEqual(created.key.scopes, ['pgo_read']);
    const list = (await (await call('GET', '/api/v1/keys')).json()) as KeyListJson;
    const listed = list.keys.find((k) => k.id === created.key.id);
    assert.equal(listed?.name, 'ci');
    assert.ok(!JSON.stringify(list).includes(created.secret), 'secrets are never listed');
    assert.equal((await call('GET', '/api/v1/services', undefined, created.secret)).status, 403, 'pgo_read only');
    assert.equal((await call('GET', '/api/v1/profiles/x/pgo', undefined, created.secret)).status, 404, 'the key is accepted');

    assert.equal((await call('DELETE', `/api/v1/keys/${created.key.id}`)).status, 204);
    assert.equal((await call('GET', '/api/v1/profiles/x/pgo', undefined, created.secret)).status, 401, 'revoked');
    assert.equal((await call('DELETE', `/api/v1/keys/${created.key.id}`)).status, 404, 'already revoked');
  });

  it('refuses bad requests with 400 naming the problem, and non-admins with 403', async () => {
    const bad = async (body: unknown, pattern: RegExp): Promise<void> => {
      const res = await call('POST', '/api/v1/keys', body);
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { error: string }).error, pattern);
    };
    await bad({ kind: 'root' }, /kind/);
    await bad({ kind: 'app', scopes: ['everything'] }, /scopes/);
    await bad({ kind: 'api', scopes: ['admin'] }, /API keys have no scopes/);
    await bad({ kind: 'app', name: 'x'.repeat(201) }, /name/);
    await bad({ kind: 'app', extra: 1 }, /extra|additional/);
    assert.equal((await call('DELETE', '/api/v1/keys/..%2Fetc')).status, 400);
    assert.equal((await call('GET', '/api/v1/keys', undefined, server.keys.readBoth)).status, 403);
    assert.equal((await call('POST', '/api/v1/keys', { kind: 'app' }, server.keys.api)).status, 403);
  });
});
