import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hotpathBin } from '../testing/hotpath-bin.js';
import { issueServerCert, makeTestCa } from '../testing/tls.js';
import { CliError } from './errors.js';
import { readTlsPair } from './tls-files.js';

const dir = mkdtempSync(join(tmpdir(), 'hotpath-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ca = makeTestCa(dir);
const one = issueServerCert(ca, 'one');
const two = issueServerCert(ca, 'two');
const garbage = join(dir, 'garbage.pem');
writeFileSync(garbage, 'not a certificate\n');

function refused(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof CliError && pattern.test(err.message));
}

describe('readTlsPair', () => {
  it('reads a certificate and its key, with the names for the log', () => {
    const pair = readTlsPair(one.cert, one.key);
    assert.match(pair.names, /DNS:localhost/);
    assert.match(pair.subject, /CN=localhost/);
    assert.ok(pair.cert.length > 0 && pair.key.length > 0);
  });

  it('refuses a key of another certificate, naming both files', () => {
    refused(() => readTlsPair(one.cert, two.key), new RegExp(`--tls-key ${two.key} with --tls-cert ${one.cert}: the key does not belong`));
  });

  it('refuses unreadable or malformed files, naming the flag and the file', () => {
    refused(() => readTlsPair(join(dir, 'missing.pem'), one.key), /--tls-cert .*missing\.pem: cannot read: ENOENT/);
    refused(() => readTlsPair(one.cert, join(dir, 'missing.key')), /--tls-key .*missing\.key: cannot read: ENOENT/);
    refused(() => readTlsPair(garbage, one.key), /--tls-cert .*garbage\.pem: not a PEM certificate/);
    refused(() => readTlsPair(one.cert, garbage), /--tls-key .*garbage\.pem with --tls-cert .*: not an unencrypted PEM private key/);
    // The key where the certificate belongs.
    refused(() => readTlsPair(one.key, one.key), /--tls-cert .*one\.key: not a PEM certificate/);
  });
});

describe('hotpath serve with TLS flags', () => {
  const serve = (...args: string[]) =>
    spawnSync(process.execPath, [hotpathBin, 'serve', '--port', '0', ...args], { encoding: 'utf8', timeout: 60_000 });

  it('refuses to start on a bad pair: one line, exit 1, nothing created', () => {
    const data = join(dir, 'data');
    for (const [args, pattern] of [
      [['--tls-cert', one.cert, '--tls-key', two.key], /the key does not belong to the certificate/],
      [['--tls-cert', one.cert], /--tls-cert and --tls-key go together/],
      [['--tls-key', one.key], /--tls-cert and --tls-key go together/],
      [['--tls-cert', join(dir, 'nope.pem'), '--tls-key', one.key], /cannot read: ENOENT/],
    ] as const) {
      const r = serve('--data', data, ...args);
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(existsSync(data), false);
    }
  });
});
