import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { fixture } from '../testing/fixtures.js';
import { collectProfile } from './collect.js';
import type { ScrapeJob } from './config.js';
import { FetchError } from './fetcher.js';

const cpu = readFileSync(fixture('cpu-small-1.pprof'));
const heap = readFileSync(fixture('heap.pprof'));
const dir = mkdtempSync(join(tmpdir(), 'hotpath-collect-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function job(over: Partial<ScrapeJob> = {}): ScrapeJob {
  return {
    name: 'api',
    intervalMs: 60_000,
    timeoutMs: 10_000,
    profileSeconds: 3,
    extraProfiles: [],
    scheme: 'http',
    pathPrefix: '',
    auth: null,
    tls: null,
    bodySizeLimit: 1 << 20,
    maxBackoffMs: 600_000,
    staticGroups: [],
    fileSd: [],
    externalLabels: {},
    ...over,
  };
}

const signal = new AbortController().signal;

/** Serves pprof endpoints under `prefix`, recording each request's URL and Authorization header. */
function pprofHandler(seen: Array<{ url: string; auth: string | undefined }>, prefix = '') {
  return (req: IncomingMessage, res: ServerResponse) => {
    seen.push({ url: req.url ?? '', auth: req.headers.authorization });
    const path = (req.url ?? '').split('?')[0];
    if (path === `${prefix}/debug/pprof/profile`) res.end(cpu);
    else if (path === `${prefix}/debug/pprof/heap`) res.end(heap);
    else if (path === `${prefix}/debug/pprof/goroutine`) res.end(heap);
    else res.writeHead(404).end('404 page not found');
  };
}

describe('collectProfile over http', () => {
  const seen: Array<{ url: string; auth: string | undefined }> = [];
  const server = createServer(pprofHandler(seen, '/internal'));
  let address: string;
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('fetches the CPU profile for profile_seconds and the extra profiles, under path_prefix, as one scrape upload', async () => {
    seen.length = 0;
    const { profile, warnings } = await collectProfile(
      job({ pathPrefix: '/internal', extraProfiles: ['heap', 'goroutine'] }),
      { job: 'api', address, labels: { env: 'prod', __meta_zone: 'a' }, source: 'static_configs' },
      signal,
    );
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      seen.map((s) => s.url),
      ['/internal/debug/pprof/profile?seconds=3', '/internal/debug/pprof/heap', '/internal/debug/pprof/goroutine'],
    );
    assert.deepEqual(
      profile.attachments.map((a) => [a.name, a.bytes.length]),
      [
        ['cpu.pprof', cpu.length],
        ['heap.pprof', heap.length],
        ['goroutines.pprof', heap.length],
      ],
    );
    assert.equal(profile.protocol, 'scrape');
    assert.equal(profile.start, null);
    // Labels starting with __ are internal and never become tags; the job is the service when no label says.
    assert.deepEqual(profile.tags, [
      ['service', 'api'],
      ['env', 'prod'],
      ['instance', address],
      ['job', 'api'],
    ]);
  });

  it('sends basic auth, reading the password file at every scrape so a rotated password is used', async () => {
    const passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, 'first\n');
    const j = job({ auth: { kind: 'basic', username: { value: 'scraper' }, password: { file: passwordFile } } });
    const target = { job: 'api', address: `${address}`, labels: {}, source: 'static_configs' };
    seen.length = 0;
    await assert.rejects(collectProfile(j, target, signal), /answered 404/); // no /internal prefix: 404, but the header was sent
    writeFileSync(passwordFile, 'second');
    await assert.rejects(collectProfile(j, target, signal), /answered 404/);
    assert.deepEqual(
      seen.map((s) => s.auth),
      [`Basic ${Buffer.from('scraper:first').toString('base64')}`, `Basic ${Buffer.from('scraper:second').toString('base64')}`],
    );
  });

  it('sends Authorization with the configured type, and names an unreadable credentials file', async () => {
    seen.length = 0;
    const target = { job: 'api', address, labels: {}, source: 'static_configs' };
    await collectProfile(
      job({ pathPrefix: '/internal', auth: { kind: 'authorization', type: 'Bearer', credentials: { value: 'tok' } } }),
      target,
      signal,
    );
    assert.equal(seen[0].auth, 'Bearer tok');
    const missing = job({ auth: { kind: 'authorization', type: 'Bearer', credentials: { file: join(dir, 'nope') } } });
    await assert.rejects(
      collectProfile(missing, target, signal),
      (err: unknown) =>
        err instanceof FetchError && err.reason === 'credentials' && /cannot read the credentials file .*nope/.test(err.message),
    );
  });
});

describe('collectProfile over https', () => {
  const seen: Array<{ url: string; auth: string | undefined }> = [];
  let port: number;
  let clientNames: string[];
  let server: ReturnType<typeof createHttpsServer>;
  const pem = (name: string) => readFileSync(join(dir, name));

  before(async () => {
    // A CA, a server certificate for pprof.test and 127.0.0.1, and a client certificate, all from it.
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=hotpath test CA');
    for (const [name, cn, san] of [
      ['server', 'pprof.test', 'subjectAltName=DNS:pprof.test,IP:127.0.0.1'],
      ['client', 'scraper', 'extendedKeyUsage=clientAuth'],
    ]) {
      openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
      writeFileSync(join(dir, `${name}.ext`), `${san}\n`);
      openssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.pem`,
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
      );
    }
    clientNames = [];
    const handler = pprofHandler(seen);
    server = createHttpsServer(
      { key: pem('server.key'), cert: pem('server.pem'), ca: pem('ca.pem'), requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        clientNames.push(String(peer?.subject?.CN ?? ''));
        handler(req, res);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server?.close());

  const target = () => ({ job: 'api', address: `127.0.0.1:${port}`, labels: {}, source: 'static_configs' });
  const tls = (over: Partial<NonNullable<ScrapeJob['tls']>> = {}): ScrapeJob['tls'] => ({
    ca: pem('ca.pem'),
    cert: null,
    key: null,
    insecureSkipVerify: false,
    serverName: null,
    ...over,
  });

  it('trusts the server through ca_file and presents the client certificate', async () => {
    clientNames.length = 0;
    const { profile } = await collectProfile(
      job({ scheme: 'https', tls: tls({ cert: pem('client.pem'), key: pem('client.key') }) }),
      target(),
      signal,
    );
    assert.equal(profile.attachments[0].bytes.length, cpu.length);
    assert.deepEqual(clientNames, ['scraper']);
  });

  it('refuses a server it cannot verify, unless told to skip verification', async () => {
    await assert.rejects(
      collectProfile(job({ scheme: 'https', tls: null }), target(), signal),
      (err: unknown) =>
        err instanceof FetchError && err.reason === 'tls' && /TLS with 127\.0\.0\.1:\d+ failed: .*tls_config\.ca_file/.test(err.message),
    );
    await collectProfile(job({ scheme: 'https', tls: tls({ ca: null, insecureSkipVerify: true }) }), target(), signal);
  });

  it('checks the certificate against server_name when given', async () => {
    await collectProfile(job({ scheme: 'https', tls: tls({ serverName: 'pprof.test' }) }), target(), signal);
    await assert.rejects(
      collectProfile(job({ scheme: 'https', tls: tls({ serverName: 'other.test' }) }), target(), signal),
      (err: unknown) => err instanceof FetchError && err.reason === 'tls',
    );
  });
});
