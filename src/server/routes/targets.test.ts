import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TargetJson, TargetsJson } from '../../api/types.js';
import type { ScrapeStatus } from '../../scrape/scraper.js';
import { openTestApp, type TestApp } from '../testing.js';

function target(job: string, instance: string, over: Partial<TargetJson> = {}): TargetJson {
  return {
    job,
    instance,
    url: `http://${instance}/debug/pprof/profile?seconds=10`,
    labels: {},
    source: 'static_configs',
    health: 'up',
    scraping: false,
    lastScrape: '2026-12-01T10:00:00.000Z',
    lastDurationSeconds: 10.2,
    lastError: null,
    lastErrorReason: null,
    consecutiveFailures: 0,
    nextScrape: '2026-12-01T10:01:00.000Z',
    lastProfileId: 'p1',
    profilesStored: 1,
    intervalSeconds: 60,
    profileSeconds: 10,
    ...over,
  };
}

const status: ScrapeStatus = {
  targets: (): TargetsJson => ({
    scraping: true,
    configFile: '/etc/scrape.yaml',
    targets: [target('api', 'a:6060'), target('db', 'b:6060', { health: 'down', lastError: 'connection refused', consecutiveFailures: 3 })],
    discoveryErrors: [{ job: 'db', file: '/etc/db.json', error: 'bad', since: '2026-12-01T10:00:00.000Z' }],
  }),
  renderMetrics: () => '# TYPE hotpath_scrape_target_up gauge\nhotpath_scrape_target_up{instance="a:6060",job="api"} 1\n',
};

describe('GET /api/v1/targets', () => {
  let scraping: TestApp;
  let plain: TestApp;
  before(async () => {
    scraping = await openTestApp({ scrape: status });
    plain = await openTestApp();
  });
  after(async () => {
    await scraping.close();
    await plain.close();
  });

  it('answers every target with its health, to a key with profiles_read', async () => {
    const res = await scraping.app.inject({ url: '/api/v1/targets', headers: { authorization: `Bearer ${scraping.keys.profilesRead}` } });
    assert.equal(res.statusCode, 200);
    const body = res.json() as TargetsJson;
    assert.deepEqual(body, status.targets());
  });

  it('filters by job', async () => {
    const res = await scraping.app.inject({ url: '/api/v1/targets?job=db', headers: { authorization: `Bearer ${scraping.keys.admin}` } });
    const body = res.json() as TargetsJson;
    assert.deepEqual(
      body.targets.map((t) => t.instance),
      ['b:6060'],
    );
    assert.equal(body.discoveryErrors.length, 1);
  });

  it('refuses a request without a read key, and one with only an API key', async () => {
    assert.equal((await scraping.app.inject('/api/v1/targets')).statusCode, 401);
    const res = await scraping.app.inject({ url: '/api/v1/targets', headers: { authorization: `Bearer ${scraping.keys.api}` } });
    assert.ok(res.statusCode === 401 || res.statusCode === 403, String(res.statusCode));
  });

  it('says so when the server scrapes nothing', async () => {
    const res = await plain.app.inject({ url: '/api/v1/targets', headers: { authorization: `Bearer ${plain.keys.profilesRead}` } });
    assert.deepEqual(res.json(), { scraping: false, configFile: null, targets: [], discoveryErrors: [] });
  });

  it('adds the scrape metrics to /metrics', async () => {
    const res = await scraping.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${scraping.keys.profilesRead}` } });
    assert.match(res.body, /^hotpath_store_profiles \d+$/m);
    assert.match(res.body, /^hotpath_scrape_target_up\{instance="a:6060",job="api"\} 1$/m);
    assert.doesNotMatch(
      (await plain.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${plain.keys.profilesRead}` } })).body,
      /hotpath_scrape/,
    );
  });
});
