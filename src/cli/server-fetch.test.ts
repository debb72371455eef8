import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { issueServerCert, makeTestCa } from '../testing/tls.js';
import { CliError } from './errors.js';
import { loadExtraTrust, serverFetch, trustFor } from './server-fetch.js';

const dir = mkdtempSync(join(tmpdir(), 'hotpath-fetch-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ca = makeTestCa(dir);
const other = makeTestCa(dir, 'Other CA');
const cert = issueServerCert(ca, 'server');

describe('loadExtraTrust', () => {
  it('reads --ca-file first, else SSL_CERT_FILE, else nothing', () => {
    assert.equal(loadExtraTrust(undefined, {}), null);
    assert.equal(loadExtraTrust(undefined, { SSL_CERT_FILE: ca.caCert })?.source, `SSL_CERT_FILE ${ca.caCert}`);
    const both = loadExtraTrust(other.caCert, { SSL_CERT_FILE: ca.caCert });
    assert.equal(both?.source, `--ca-file ${other.caCert}`);
    assert.equal(both?.certificates.length, 1);
  });

  it('is read for https:// servers only, so a stale SSL_CERT_FILE does not break plain HTTP', () => {
    const stale = { SSL_CERT_FILE: join(dir, 'moved-away.pem') };
    assert.equal(trustFor(new URL('http://hotpath:8126'), undefined, stale), null);
    assert.throws(() => trustFor(new URL('https://hotpath:8126'), undefined, stale), /SSL_CERT_FILE .*moved-away\.pem: cannot read/);
    assert.equal(trustFor(new URL('https://hotpath:8126'), ca.caCert, {})?.certificates.length, 1);
  });

  it('refuses a file it cannot use, naming where it came from', () => {
    const text = join(dir, 'text.pem');
    writeFileSync(text, 'hello\n');
    const broken = join(dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const cases: Array<[string | undefined, NodeJS.ProcessEnv, RegExp]> = [
      [join(dir, 'missing.pem'), {}, /--ca-file .*missing\.pem: cannot read: ENOENT/],
      [undefined, { SSL_CERT_FILE: join(dir, 'gone.pem') }, /SSL_CERT_FILE .*gone\.pem: cannot read: ENOENT/],
      [text, {}, /holds no PEM certificate/],
      [broken, {}, /certificate 1 does not parse/],
    ];
    for (const [file, env, pattern] of cases) {
      assert.throws(
        () => loadExtraTrust(file, env),
        (err: unknown) => err instanceof CliError && pattern.test(err.message),
      );
    }
  });
});

describe('serverFetch over HTTPS', () => {
  let server: Server;
  let base: URL;
  before(async () => {
    server = createServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) }, (req, res) => {
      if (req.url === '/hang') return; // never answers
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json', 'x-seen': req.headers['x-key'] ?? '' });
        res.end(JSON.stringify({ method: req.method, body: Buffer.concat(chunks).toString() }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = new URL(`https://localhost:${(server.address() as AddressInfo).port}/`);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('trusts a server signed by the CA of --ca-file, and answers as fetch does', async () => {
    const res = await serverFetch(
      new URL('/x', base),
      { method: 'POST', body: 'hello', headers: { 'x-key': 'k1' } },
      loadExtraTrust(ca.caCert, {}),
    );
    assert.equal(res.status, 201);
    assert.equal(res.ok, true);
    assert.equal(res.headers.get('x-seen'), 'k1');
    assert.deepEqual(await res.json(), { method: 'POST', body: 'hello' });
  });

  it('refuses a server its trust does not cover, with the TLS error code as fetch gives it', async () => {
    for (const trust of [null, loadExtraTrust(other.caCert, {})]) {
      await assert.rejects(
        serverFetch(new URL('/x', base), {}, trust),
        (err: unknown) => err instanceof TypeError && (err.cause as { code?: string }).code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      );
    }
  });

  it('gives up when the signal fires, with its reason', async () => {
    const controller = new AbortController();
    const pending = serverFetch(new URL('/hang', base), { signal: controller.signal }, loadExtraTrust(ca.caCert, {}));
    // Aborted once the request is under way: the same path AbortSignal.timeout takes.
    setImmediate(() => controller.abort(new DOMException('gave up', 'TimeoutError')));
    await assert.rejects(pending, (err: unknown) => (err as Error).name === 'TimeoutError');
  });
});
