import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { issueServerCert, makeTestCa } from '../src/testing/tls.js';
import { preprofile, run, runOk } from './support/go.js';
import { fixture, hotpathBin, repoRoot } from './support/paths.js';
import { assertSamePreprofileRenamesAside, preprofileEdges } from './support/preprofile.js';
import { type RunningServer, startServer } from './support/server.js';
import { cacheDir } from './support/workloads.js';

// A datadog-pgo CI step pointed at Hotpath: a Go program sends datadog-pgo's request over HTTPS
// (trusting a test CA through SSL_CERT_FILE, as Go programs do) to app.$DD_SITE, and merges the
// zip with google/pprof as datadog-pgo does; `hotpath pgo`, run with datadog-pgo's flags and
// variables, must write a default.pgo the compiler reads the same way.

const work = mkdtempSync(join(tmpdir(), 'hotpath-ddpgo-e2e-'));
const bin = join(cacheDir, 'clients');
const SITE = 'hotpath.test';
const inputs = ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof', 'cpu-json.pprof'].map(fixture);

interface ClientSummary {
  files: string[];
  samples: number;
}

interface LogLine {
  level: string;
  msg: string;
  [attr: string]: unknown;
}

describe('datadog-pgo drop-in over HTTPS', () => {
  let server: RunningServer;
  let port: string;
  const ca = makeTestCa(work);
  const cert = issueServerCert(ca, 'server', [`app.${SITE}`, 'localhost']);

  before(async () => {
    mkdirSync(bin, { recursive: true });
    runOk('go', ['build', '-o', `${bin}/`, './ddpgoclient'], { cwd: join(repoRoot, 'e2e', 'clients') });
    server = await startServer(['--tls-cert', cert.cert, '--tls-key', cert.key]);
    assert.match(server.url, /^https:/);
    port = new URL(server.url).port;
    // Uploaded with the CLI over HTTPS, trusting the CA with --ca-file.
    for (const [i, file] of inputs.entries()) {
      const r = run(process.execPath, [
        hotpathBin,
        'upload',
        '--server',
        `https://localhost:${port}`,
        '--ca-file',
        ca.caCert,
        '--api-key',
        server.apiKey,
        '--tags',
        `service:shop,env:prod,version:${i}`,
        file,
      ]);
      assert.equal(r.status, 0, r.stderr);
    }
  });
  after(async () => {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** The Go client as a CI step runs datadog-pgo: keys and site in the environment, the CA in SSL_CERT_FILE. */
  const ddpgo = (args: string[], env: Record<string, string> = {}) =>
    run(join(bin, 'ddpgoclient'), ['-connect', `127.0.0.1:${port}`, ...args], {
      env: { ...process.env, DD_SITE: SITE, DD_API_KEY: server.apiKey, DD_APP_KEY: server.appKey, SSL_CERT_FILE: ca.caCert, ...env },
    });

  /** `hotpath pgo` as the same step runs it after the one-word change: DD_* keys, the CA in SSL_CERT_FILE. */
  const hotpathPgo = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, [hotpathBin, 'pgo', ...args], {
      env: {
        ...process.env,
        HOTPATH_URL: `https://localhost:${port}`,
        DD_API_KEY: server.apiKey,
        DD_APP_KEY: server.appKey,
        SSL_CERT_FILE: ca.caCert,
        HOTPATH_APP_KEY: '',
        ...env,
      },
    });

  it("merges datadog-pgo's zip into what hotpath pgo -fail -profiles 3 -from 24h -timeout 30s -json writes (preprofile-equal, renames aside)", () => {
    const theirs = join(work, 'theirs.pprof');
    const client = ddpgo(['-profiles', '3', '-from', '24h', 'service:shop env:prod', theirs]);
    assert.equal(client.status, 0, client.stderr);
    const summary = JSON.parse(client.stdout) as ClientSummary;
    assert.equal(summary.files.length, 3);

    const ours = join(work, 'out.pgo');
    const r = hotpathPgo(['-fail', '-profiles', '3', '-from', '24h', '-timeout', '30s', '-json', 'service:shop env:prod', ours]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LogLine);
    // datadog-pgo's log lines: the tool and version, one per profile, then the file written.
    assert.equal(lines[0].msg, 'hotpath');
    const extracted = lines.filter((l) => l.msg === 'extracted profile');
    assert.deepEqual(extracted.map((l) => l['profile-id']).sort(), summary.files);
    for (const l of extracted) {
      assert.equal(typeof l['cpu-cores'], 'number');
      assert.ok(Number.isInteger(l.duration) && (l.duration as number) > 0, 'durations in nanoseconds, as slog writes them');
      assert.ok(Number.isInteger(l.age));
    }
    const wrote = lines.find((l) => l.msg === 'wrote PGO file') as LogLine;
    assert.equal(wrote.path, ours);
    assert.equal(wrote.bytes, readFileSync(ours).length);
    assert.ok(Number.isInteger(wrote['total-duration']));
    assert.equal(wrote['debug-query'], `profile-id:(${summary.files.join(' OR ')})`);
    assert.ok(lines.every((l) => typeof l.time === 'string' && ['INFO', 'DEBUG'].includes(l.level)));

    const theirsText = preprofile(theirs);
    assert.ok(preprofileEdges(theirsText).length > 10, 'the merge has call edges to compare');
    assertSamePreprofileRenamesAside(preprofile(ours), theirsText);
  });

  it('reads several queries and Datadog habits (language:go) as datadog-pgo sends them', () => {
    const out = join(work, 'two.pprof');
    const client = ddpgo(['-profiles', '1', 'service:shop version:0 language:go', 'service:shop version:1', out]);
    assert.equal(client.status, 0, client.stderr);
    assert.equal((JSON.parse(client.stdout) as ClientSummary).files.length, 2);
  });

  it('refuses a wrong key and a query it cannot honour with a message the client shows', () => {
    const badKey = ddpgo(['service:shop', join(work, 'x.pprof')], { DD_APP_KEY: 'not-a-key', DD_API_KEY: '' });
    assert.equal(badKey.status, 1);
    assert.match(badKey.stderr, /401 Unauthorized: .*unknown or revoked key/);
    const freeText = ddpgo(['service:shop checkout', join(work, 'x.pprof')]);
    assert.equal(freeText.status, 1);
    assert.match(freeText.stderr, /400 Bad Request: .*free-text search is not supported/);
  });

  it('hotpath pgo without -fail logs the failure as datadog-pgo does and exits 0; with -fail exits 1', () => {
    const dest = join(work, 'never.pgo');
    const soft = hotpathPgo(['-json', 'service:nothing', dest]);
    assert.equal(soft.status, 0, soft.stderr);
    const lines = soft.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LogLine);
    assert.match(lines.find((l) => l.level === 'ERROR')?.msg ?? '', /no CPU profiles match "service:nothing runtime:go"/);
    assert.match(lines.find((l) => l.level === 'WARN')?.msg ?? '', /--fail is not set/);
    const hard = hotpathPgo(['-fail', '-json', 'service:nothing', dest]);
    assert.equal(hard.status, 1);
    // Without the CA, TLS refuses the server: a failure that names the fix.
    const untrusted = hotpathPgo(['-fail', 'service:shop', dest], { SSL_CERT_FILE: '' });
    assert.equal(untrusted.status, 1);
    assert.match(untrusted.stdout, /cannot reach https:\/\/localhost:\d+ .*UNABLE_TO_VERIFY_LEAF_SIGNATURE.*--ca-file/);
  });
});
