import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { clientBaseUrl, firstStartBanner } from './first-start.js';

const API = 'hpapi_AAAAbbbbCCCCddddEEEEffffGGGGhhhh';
const APP = 'hpapp_0000111122223333444455556666';

function banner(url = 'http://build-7.internal:9000'): string {
  return firstStartBanner({ baseUrl: new URL(url), apiKey: API, appKey: APP, dataDir: '/var/lib/hotpath' });
}

/** The indented block under the banner line that starts with `heading`. */
function block(text: string, heading: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  assert.ok(start >= 0, `banner has a "${heading}" section`);
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('  ')) break;
    out.push(line.slice(2));
  }
  return out;
}

describe('first-start banner', () => {
  it('shows both keys in the lines scripts read', () => {
    const text = banner();
    assert.equal(/API key \(send profiles\): +(\S+)/.exec(text)?.[1], API);
    assert.equal(/Application key \(read, admin\): +(\S+)/.exec(text)?.[1], APP);
    assert.match(text, /hotpath keys create --data \/var\/lib\/hotpath/);
  });

  it('dd-trace-go: the agent URL carries the API key as its password, at the real host and port', () => {
    const env = block(banner(), 'dd-trace-go');
    assert.ok(env.includes(`DD_TRACE_AGENT_URL=http://hotpath:${API}@build-7.internal:9000`), env.join('\n'));
    assert.ok(env.includes('DD_PROFILING_ENDPOINT_COUNT_ENABLED=true'));
    assert.ok(env.some((l) => l.includes(`DD_AGENT_HOST=build-7.internal DD_TRACE_AGENT_PORT=9000 DD_API_KEY=${API}`)));
  });

  it('pyroscope-go: sets BasicAuthUser as well as BasicAuthPassword (without the user no key is sent)', () => {
    const code = block(banner(), 'pyroscope-go').join('\n');
    assert.match(code, /BasicAuthUser: +"hotpath",/);
    assert.match(code, new RegExp(`BasicAuthPassword: +"${API}",`));
    assert.match(code, /ServerAddress: +"http:\/\/build-7\.internal:9000",/);
  });

  it('scrape: a YAML config in the shape `hotpath serve --scrape` reads', () => {
    const text = banner();
    assert.match(text, /hotpath serve --scrape scrape\.yaml/);
    const config = parseYaml(block(text, 'Services that expose net/http/pprof').join('\n'));
    assert.deepEqual(config, {
      scrape_configs: [
        {
          job_name: 'api',
          scrape_interval: '60s',
          profile_seconds: 10,
          static_configs: [{ targets: ['10.0.0.5:6060'], labels: { service: 'api', env: 'prod' } }],
        },
      ],
    });
  });

  it('OTLP: the profiles endpoint of this server and a bearer header with the key', () => {
    const env = block(banner('https://hotpath.example:8443'), 'OpenTelemetry');
    assert.deepEqual(env, [
      'OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT=https://hotpath.example:8443/v1development/profiles',
      `OTEL_EXPORTER_OTLP_PROFILES_HEADERS=Authorization=Bearer%20${API}`,
    ]);
  });
});

describe('clientBaseUrl', () => {
  it('names this machine instead of a wildcard address, which no client can send to', () => {
    assert.equal(clientBaseUrl('http', '0.0.0.0', 8126).hostname, new URL(`http://${hostname()}`).hostname);
    assert.equal(clientBaseUrl('http', '::', 8126).port, '8126');
  });
  it('keeps a specific address, with brackets for IPv6', () => {
    assert.equal(clientBaseUrl('http', '127.0.0.1', 41000).href, 'http://127.0.0.1:41000/');
    assert.equal(clientBaseUrl('https', '::1', 8443).href, 'https://[::1]:8443/');
  });
});
