import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerStaticUi } from './static-ui.js';

// A built UI in a temporary folder, with files beside it that must never be served.
describe('registerStaticUi', () => {
  let base: string;
  let app: FastifyInstance;

  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'hotpath-static-ui-'));
    mkdirSync(join(base, 'web', 'views'), { recursive: true });
    writeFileSync(join(base, 'web', 'index.html'), '<!doctype html><title>Hotpath</title>');
    writeFileSync(join(base, 'web', 'main.js'), 'export {};');
    writeFileSync(join(base, 'web', 'views', 'explorer.js'), 'export {};');
    writeFileSync(join(base, 'web', 'style.css'), 'body{}');
    writeFileSync(join(base, 'web', '.tsbuildinfo'), '{}');
    writeFileSync(join(base, 'secret.js'), 'SECRET');
    // A sibling whose name starts like the UI folder: a prefix check without the separator would let it out.
    writeFileSync(join(base, 'web2.js'), 'SECRET');
    app = Fastify();
    registerStaticUi(app, join(base, 'web'));
    app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.url}` }));
  });
  after(async () => {
    await app.close();
    rmSync(base, { recursive: true, force: true });
  });

  it('serves the page at / with a content security policy, revalidated on every load', async () => {
    const res = await app.inject('/');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.match(String(res.headers['content-security-policy']), /script-src 'self'/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.match(res.body, /<title>Hotpath/);
  });

  it('serves modules and styles under /ui/ with their types and a cache lifetime', async () => {
    for (const [path, type] of [
      ['/ui/main.js', 'text/javascript; charset=utf-8'],
      ['/ui/views/explorer.js', 'text/javascript; charset=utf-8'],
      ['/ui/style.css', 'text/css; charset=utf-8'],
    ]) {
      const res = await app.inject(path);
      assert.equal(res.statusCode, 200, path);
      assert.equal(res.headers['content-type'], type, path);
      assert.equal(res.headers['cache-control'], 'public, max-age=300', path);
    }
  });

  it('never serves a file outside the UI folder, however the path is spelled', async () => {
    for (const path of [
      '/ui/../secret.js',
      '/ui/%2e%2e/secret.js',
      '/ui/..%2fsecret.js',
      '/ui/%2e%2e%2fsecret.js',
      '/ui/%252e%252e%252fsecret.js',
      '/ui/..%5csecret.js',
      '/ui/..%2fweb2.js',
      '/ui/views/..%2f..%2fsecret.js',
      '/ui//etc/passwd.js',
      `/ui/${encodeURIComponent(join(base, 'secret.js'))}`,
    ]) {
      const res = await app.inject(path);
      assert.equal(res.statusCode, 404, path);
      assert.doesNotMatch(res.body, /SECRET/, path);
    }
  });

  it('answers a clear 404 for unknown files, unknown types and odd escapes, never a 500', async () => {
    for (const path of ['/ui/nothing.js', '/ui/', '/ui/.tsbuildinfo', '/ui/%25.js', '/ui/main.js%00.js']) {
      const res = await app.inject(path);
      assert.equal(res.statusCode, 404, path);
      assert.match((res.json() as { error: string }).error, /^no UI file /, path);
    }
  });

  it('says to run the build when the UI has not been built', async () => {
    const bare = Fastify();
    registerStaticUi(bare, join(base, 'not-built'));
    const res = await bare.inject('/');
    assert.equal(res.statusCode, 503);
    assert.match(res.body, /npm run build/);
    await bare.close();
  });
});
