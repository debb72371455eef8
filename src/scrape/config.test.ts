import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../testing/fixtures.js';
import { ConfigFileError, loadScrapeConfig, MAX_CONFIG_BYTES, parseScrapeConfig, type ScrapeConfig } from './config.js';

const OPTIONS = { defaultBodySizeLimit: 64 << 20, readFile: (path: string) => Buffer.from(`contents of ${path}`) };
const FILE = '/etc/hotpath/scrape.yaml';

function parse(text: string): ScrapeConfig {
  return parseScrapeConfig(text, FILE, OPTIONS);
}

/** The problems of a config that must be refused. */
function problems(text: string): readonly string[] {
  try {
    parse(text);
  } catch (err) {
    assert.ok(err instanceof ConfigFileError, String(err));
    return err.problems;
  }
  assert.fail('the config was accepted');
}

describe('parseScrapeConfig: configs people write', () => {
  it("reads the issue's config as written", () => {
    const config = parse(`scrape_configs:
  - job_name: api
    scrape_interval: 60s
    profile_seconds: 10          # length of each CPU profile
    static_configs:
      - targets: ['10.0.0.5:6060']
        labels: {service: api, env: prod}
`);
    assert.equal(config.jobs.length, 1);
    const job = config.jobs[0];
    assert.equal(job.name, 'api');
    assert.equal(job.intervalMs, 60_000);
    assert.equal(job.profileSeconds, 10);
    assert.equal(job.scheme, 'http');
    assert.deepEqual(job.extraProfiles, []);
    assert.deepEqual(job.staticGroups, [{ targets: ['10.0.0.5:6060'], labels: { service: 'api', env: 'prod' }, source: 'static_configs' }]);
    assert.equal(job.bodySizeLimit, 64 << 20);
  });

  it('reads a full Prometheus-style job: globals, auth, TLS, file_sd, profiles, sizes', () => {
    const config = parse(`global:
  scrape_interval: 2m
  scrape_timeout: 15s
  profile_seconds: 20s
  external_labels: {region: eu-1}
  max_concurrent_scrapes: 8
scrape_configs:
  - job_name: payments
    scheme: https
    path_prefix: /internal/
    profiles: [cpu, heap, goroutine]
    body_size_limit: 32MB
    max_backoff: 1h
    basic_auth: {username: scraper, password_file: secrets/pw}
    tls_config:
      ca_file: ca.pem
      cert_file: /certs/client.pem
      key_file: /certs/client.key
      server_name: payments.internal
    static_configs:
      - targets: ['[::1]:6060', 'payments-1.internal']
        labels: {service: payments, version: "1.10", pgo: "true"}
    file_sd_configs:
      - files: [targets/*.json, /abs/more.yaml]
        refresh_interval: 30s
  - job_name: api
    scrape_interval: 30s
    authorization: {credentials: tok}
    static_configs: [{targets: ['a:1']}]
`);
    assert.equal(config.maxConcurrentScrapes, 8);
    const [payments, api] = config.jobs;
    assert.equal(payments.intervalMs, 120_000);
    assert.equal(payments.timeoutMs, 15_000);
    assert.equal(payments.profileSeconds, 20);
    assert.deepEqual(payments.externalLabels, { region: 'eu-1' });
    assert.equal(payments.scheme, 'https');
    assert.equal(payments.pathPrefix, '/internal');
    assert.deepEqual(payments.extraProfiles, ['heap', 'goroutine']);
    assert.equal(payments.bodySizeLimit, 32 << 20);
    assert.equal(payments.maxBackoffMs, 3_600_000);
    assert.deepEqual(payments.auth, { kind: 'basic', username: { value: 'scraper' }, password: { file: '/etc/hotpath/secrets/pw' } });
    assert.equal(payments.tls?.ca?.toString(), 'contents of /etc/hotpath/ca.pem');
    assert.equal(payments.tls?.serverName, 'payments.internal');
    assert.equal(payments.tls?.insecureSkipVerify, false);
    // Scalars are read as written: a version is never turned into the number 1.1.
    assert.deepEqual(payments.staticGroups[0].labels, { service: 'payments', version: '1.10', pgo: 'true' });
    assert.deepEqual(payments.fileSd, [{ files: ['/etc/hotpath/targets/*.json', '/abs/more.yaml'], refreshIntervalMs: 30_000 }]);
    // The global timeout (15s) fits in 30s; the global profile seconds (20s) too.
    assert.equal(api.intervalMs, 30_000);
    assert.equal(api.timeoutMs, 15_000);
    assert.deepEqual(api.auth, { kind: 'authorization', type: 'Bearer', credentials: { value: 'tok' } });
  });

  it('takes bearer_token and bearer_token_file as an Authorization: Bearer header', () => {
    const job = parse(`scrape_configs:
  - {job_name: a, bearer_token_file: /run/token, static_configs: [{targets: ['h:1']}]}
`).jobs[0];
    assert.deepEqual(job.auth, { kind: 'authorization', type: 'Bearer', credentials: { file: '/run/token' } });
  });

  it('cuts an inherited timeout to a shorter interval, as Prometheus does', () => {
    const job = parse(`scrape_configs:
  - {job_name: fast, scrape_interval: 2s, profile_seconds: 1, static_configs: [{targets: ['h:1']}]}
`).jobs[0];
    assert.equal(job.timeoutMs, 2000);
  });
});

describe('parseScrapeConfig: configs that must be refused, each problem with its line', () => {
  it('names an unknown field and suggests the one meant', () => {
    const [p] = problems(`scrape_configs:
  - job_name: api
    scrape_intervall: 60s
    static_configs: [{targets: ['h:1']}]
`);
    assert.match(
      p,
      /^\/etc\/hotpath\/scrape\.yaml:3:5: scrape_configs\[0\]: unknown field "scrape_intervall" \(did you mean "scrape_interval"\?\)/,
    );
  });

  it('refuses unknown fields at every level', () => {
    const found = problems(`globl: {}
scrape_configs:
  - job_name: api
    static_configs: [{targets: ['h:1'], label: {a: b}}]
    tls_config: {ca: x}
    scheme: https
`);
    assert.equal(found.length, 3, found.join('\n'));
    const text = found.join('\n');
    assert.match(text, /:1:1: scrape config: unknown field "globl" \(did you mean "global"\?\)/);
    assert.match(text, /:4:41: job "api": static_configs\[0\]: unknown field "label" \(did you mean "labels"\?\)/);
    assert.match(text, /:5:18: job "api": tls_config: unknown field "ca"/);
  });

  it('lists every bad value with its line and column', () => {
    const found = problems(`scrape_configs:
  - job_name: api
    scrape_interval: 60
    profile_seconds: 10.5
    scheme: ftp
    profiles: [cpu, threads]
    static_configs:
      - targets: ['http://10.0.0.5:6060', 'a:99999', 'ok:1']
        labels: {"bad key": x, "k": "a\\u0001b"}
`);
    const text = found.join('\n');
    assert.match(
      text,
      /:3:22: job "api": scrape_interval: must be a duration such as 15s, 1m or 1h30m, got "60" \(a duration needs a unit: 60s\)/,
    );
    assert.match(text, /:4:22: job "api": profile_seconds: must be whole seconds from 1 to 3600/);
    assert.match(text, /:5:13: job "api": scheme: must be http or https, got "ftp"/);
    assert.match(text, /:6:21: job "api": profiles: unknown profile "threads"/);
    assert.match(text, /:8:19: .*"http:\/\/10\.0\.0\.5:6060" must be host:port without a scheme/);
    assert.match(text, /:8:43: .*"a:99999" has port 99999/);
    assert.match(text, /label name "bad key" may only contain/);
    assert.match(text, /control character \(U\+0001\)/);
    assert.doesNotMatch(text, /"ok:1"/);
  });

  it('refuses a CPU profile longer than the interval, and a timeout longer than the interval', () => {
    const found = problems(`scrape_configs:
  - {job_name: a, scrape_interval: 10s, profile_seconds: 30, static_configs: [{targets: ['h:1']}]}
  - {job_name: b, scrape_interval: 10s, scrape_timeout: 1m, static_configs: [{targets: ['h:1']}]}
`);
    assert.match(found[0], /job "a": profile_seconds: \(30s\) must not be longer than scrape_interval \(10s\)/);
    assert.match(found[1], /job "b": scrape_timeout: \(1m\) must not be longer than scrape_interval \(10s\)/);
  });

  it('refuses a job without a name or targets, and two jobs of one name', () => {
    const found = problems(`scrape_configs:
  - static_configs: [{targets: ['h:1']}]
  - job_name: a
  - {job_name: b, static_configs: [{targets: ['h:1']}]}
  - {job_name: b, static_configs: [{targets: ['h:2']}]}
`);
    const text = found.join('\n');
    assert.match(text, /:2:5: scrape_configs\[0\]: job_name is missing/);
    assert.match(text, /job "a": has no targets/);
    assert.match(text, /:5:5: scrape_configs\[3\]: job_name "b" is also the name of scrape_configs\[2\]/);
  });

  it('refuses conflicting auth, half a client certificate, TLS over http, unreadable files', () => {
    const found = parseErrors(`scrape_configs:
  - job_name: a
    basic_auth: {username: u, password: p, password_file: f}
    bearer_token: t
    static_configs: [{targets: ['h:1']}]
  - job_name: b
    tls_config: {cert_file: c.pem, ca_file: /missing/ca.pem}
    static_configs: [{targets: ['h:1']}]
`);
    const text = found.join('\n');
    assert.match(text, /job "a": give one way to authenticate, not basic_auth and bearer_token/);
    assert.match(text, /job "b": tls_config: cert_file and key_file go together/);
    assert.match(text, /job "b": tls_config: is set but scheme is http/);
    assert.match(text, /job "b": tls_config\.ca_file: cannot read "\/missing\/ca\.pem"/);
  });

  it('refuses syntax errors, aliases, duplicate keys, empty files and the wrong shapes', () => {
    assert.match(problems('scrape_configs: [\n')[0], /^\/etc\/hotpath\/scrape\.yaml:\d+:\d+: /);
    assert.match(problems('scrape_configs:\n  - &j {job_name: a}\n  - *j\n').join('\n'), /aliases/);
    assert.match(problems('scrape_configs: []\nscrape_configs: []\n')[0], /:2:1: Map keys must be unique/);
    assert.match(problems('')[0], /is empty: it needs scrape_configs/);
    assert.match(problems('# only a comment\n')[0], /is empty/);
    assert.match(problems('- a\n- b\n')[0], /scrape config: must be a mapping of global, scrape_configs/);
    assert.match(problems('scrape_configs: {job_name: a}\n')[0], /scrape_configs: must be a list/);
    assert.match(problems('scrape_configs: []\n')[0], /scrape_configs: is empty/);
    assert.match(problems('scrape_configs:\n  - job_name: [a]\n')[0], /job_name: must be a single value, not a list/);
  });

  it('refuses nesting no config needs before the YAML parser recurses into it', () => {
    assert.match(problems(`scrape_configs: ${'['.repeat(200_000)}`)[0], /:1:49: nests \[ and \{ more than 32 deep/);
    assert.match(problems(`${'- '.repeat(100_000)}a`)[0], /:1:65: nests lists more than 32 deep/);
    assert.match(problems(`a:\n${' '.repeat(300)}b: c\n`)[0], /:2:257: is indented more than 256 columns/);
    // Brackets in quotes and comments are text, not nesting.
    const config = parse(
      `# ${'['.repeat(100)}\nscrape_configs:\n  - {job_name: "a${'{'.repeat(40)}", static_configs: [{targets: ['h:1']}]}\n`,
    );
    assert.equal(config.jobs[0].name, `a${'{'.repeat(40)}`);
  });

  it('stops listing after 20 problems', () => {
    const jobs = Array.from(
      { length: 40 },
      (_, i) => `  - {job_name: j${i}, scrape_interval: x, static_configs: [{targets: ['h:1']}]}`,
    ).join('\n');
    const found = problems(`scrape_configs:\n${jobs}\n`);
    assert.equal(found.length, 21);
    assert.equal(found[20], '(more problems not shown)');
  });
});

function parseErrors(text: string): readonly string[] {
  try {
    parseScrapeConfig(text, FILE, { defaultBodySizeLimit: 1 << 20 });
  } catch (err) {
    assert.ok(err instanceof ConfigFileError);
    return err.problems;
  }
  assert.fail('the config was accepted');
}

describe('loadScrapeConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hotpath-scrape-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file and resolves relative paths from its directory', () => {
    const file = join(dir, 'scrape.yaml');
    writeFileSync(file, `scrape_configs:\n  - {job_name: a, file_sd_configs: [{files: [t.json]}]}\n`);
    const config = loadScrapeConfig(file, { defaultBodySizeLimit: 1 << 20 });
    assert.deepEqual(config.jobs[0].fileSd[0].files, [join(dir, 't.json')]);
    assert.equal(config.jobs[0].fileSd[0].refreshIntervalMs, 300_000);
  });

  it('names a missing file and an oversized one', () => {
    assert.throws(
      () => loadScrapeConfig(join(dir, 'nope.yaml'), { defaultBodySizeLimit: 1 }),
      /nope\.yaml: cannot read the scrape config: ENOENT/,
    );
    const big = join(dir, 'big.yaml');
    writeFileSync(big, Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x20));
    assert.throws(() => loadScrapeConfig(big, { defaultBodySizeLimit: 1 }), /the limit for a scrape config is 1048576/);
  });
});

describe('the README', () => {
  it('has a scrape config that parses as written', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Scrape net/http/pprof'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(yaml, 'a yaml block in the section');
    const config = parse(yaml);
    assert.deepEqual(
      config.jobs.map((j) => j.name),
      ['api', 'payments'],
    );
    assert.deepEqual(config.jobs[1].extraProfiles, ['heap', 'goroutine']);
    assert.equal(config.jobs[1].tls?.serverName, 'payments.internal');
  });
});
