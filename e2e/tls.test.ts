import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { issueServerCert, makeTestCa } from '../src/testing/tls.js';
import { run, runOk } from './support/go.js';
import { hotpathBin, repoRoot } from './support/paths.js';
import { type RunningServer, startServer } from './support/server.js';
import { cacheDir } from './support/workloads.js';

// `hotpath serve --tls-cert --tls-key` as a real Go client sees it, before and after a SIGHUP
// that replaces the certificate, and after one whose new files do not load.

const work = mkdtempSync(join(tmpdir(), 'hotpath-tls-e2e-'));
const bin = join(cacheDir, 'clients');
const SITE = 'hotpath.test';

/** How Go prints a certificate's SHA-256: lower-case hex without separators. */
function fingerprint(pemFile: string): string {
  return new X509Certificate(readFileSync(pemFile)).fingerprint256.replace(/:/g, '').toLowerCase();
}

/** Waits until `check` returns a value, trying every 50 ms for at most `ms`; the error says what was awaited. */
async function waitFor<T>(what: string, check: () => T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('hotpath serve over TLS', () => {
  let server: RunningServer;
  let port: string;
  const ca = makeTestCa(work);
  const first = issueServerCert(ca, 'first', [`app.${SITE}`, 'localhost']);
  const second = issueServerCert(ca, 'second', [`app.${SITE}`, 'localhost']);
  const stranger = makeTestCa(work, 'Stranger CA');
  // The files the server is started with; each test replaces their contents, then signals.
  const live = { cert: join(work, 'live.pem'), key: join(work, 'live.key') };

  before(async () => {
    mkdirSync(bin, { recursive: true });
    runOk('go', ['build', '-o', `${bin}/`, './ddpgoclient'], { cwd: join(repoRoot, 'e2e', 'clients') });
    copyFileSync(first.cert, live.cert);
    copyFileSync(first.key, live.key);
    server = await startServer(['--tls-cert', live.cert, '--tls-key', live.key]);
    port = new URL(server.url).port;
  });
  after(async () => {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** The Go client's view: the certificate it was served, or the error it failed with. */
  const probe = (caFile = ca.caCert) => {
    const r = run(join(bin, 'ddpgoclient'), ['-probe', '-connect', `127.0.0.1:${port}`, '-timeout', '20s'], {
      env: { ...process.env, DD_SITE: SITE, SSL_CERT_FILE: caFile },
    });
    return r.status === 0
      ? { cert: (JSON.parse(r.stdout) as { cert: string; status: number }).cert, error: '' }
      : { cert: '', error: r.stderr };
  };
  const logLines = (msg: string) =>
    server
      .output()
      .split('\n')
      .filter((l) => l.includes(`"msg":"${msg}"`)).length;

  it('serves HTTPS that a Go client trusting the CA accepts, and one trusting another CA refuses', () => {
    assert.equal(probe().cert, fingerprint(first.cert));
    assert.match(probe(stranger.caCert).error, /certificate signed by unknown authority/);
  });

  it('serves a new certificate after SIGHUP without a restart', async () => {
    copyFileSync(second.cert, live.cert);
    copyFileSync(second.key, live.key);
    process.kill(server.pid, 'SIGHUP');
    await waitFor('the reload log line', () => (logLines('SIGHUP: reloaded the TLS certificate') >= 1 ? true : undefined));
    assert.equal(probe().cert, fingerprint(second.cert));
  });

  it('keeps the certificate in use when the new files do not load, and says why', async () => {
    // A key that does not belong to the certificate, as when a renewal copied only one file.
    copyFileSync(first.cert, live.cert);
    process.kill(server.pid, 'SIGHUP');
    await waitFor('the refusal log line', () =>
      logLines('SIGHUP: kept the TLS certificate in use: the new files do not load') >= 1 ? true : undefined,
    );
    assert.match(
      server.output(),
      /"reason":"--tls-key [^"]*live\.key with --tls-cert [^"]*live\.pem: the key does not belong to the certificate"/,
    );
    assert.equal(probe().cert, fingerprint(second.cert));
    // The server still answers the API over TLS.
    const r = run(process.execPath, [
      hotpathBin,
      'services',
      '--server',
      `https://localhost:${port}`,
      '--app-key',
      server.appKey,
      '--ca-file',
      ca.caCert,
      '--json',
    ]);
    assert.equal(r.status, 0, r.stderr);
  });
});
