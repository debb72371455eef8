import { hostname } from 'node:os';

/** What the first-start banner needs to know about the server that just started. */
export interface FirstStart {
  /** Where clients send to: scheme, a host clients can reach and the port the server listens on. */
  baseUrl: URL;
  /** The API key created at this start (sends profiles). */
  apiKey: string;
  /** The admin application key created at this start (reads). */
  appKey: string;
  /** The --data value as the user wrote it, for the commands the banner suggests. */
  dataDir: string;
}

/**
 * Returns the URL clients reach a server at that listens on `host`:`port`: a wildcard address
 * (0.0.0.0, ::) is replaced by this machine's host name, since no client can send to 0.0.0.0,
 * and an IPv6 address gets its brackets.
 */
export function clientBaseUrl(scheme: 'http' | 'https', host: string, port: number): URL {
  const wildcard = host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
  const name = wildcard ? hostname() : host;
  return new URL(`${scheme}://${name.includes(':') && !name.startsWith('[') ? `[${name}]` : name}:${port}`);
}

/**
 * Returns the text `hotpath serve` prints when it created the first keys: the two keys (shown
 * only now), then client configuration for dd-trace-go, pyroscope-go, scraping net/http/pprof and
 * OTLP that can be pasted as it is: it names this server's address and the new API key. The key
 * lines keep the form "API key (send profiles): KEY" and "Application key (read, admin): KEY",
 * which scripts read.
 */
export function firstStartBanner(s: FirstStart): string {
  const base = s.baseUrl.href.replace(/\/$/, '');
  const { hostname: host, port } = s.baseUrl;
  const agentUrl = new URL(s.baseUrl.href);
  agentUrl.username = 'hotpath';
  agentUrl.password = s.apiKey;
  const lines = [
    '',
    `First start: created two keys. They are shown only now; store them (more with \`hotpath keys create --data ${s.dataDir}\`).`,
    `  API key (send profiles):          ${s.apiKey}`,
    `  Application key (read, admin):    ${s.appKey}`,
    '',
    `Web UI: ${base}/ (paste the application key when it asks).`,
    `Clients below send to ${host}; if they reach this machine by another name, use that one.`,
    '',
    'dd-trace-go (a service that calls profiler.Start): set in its environment',
    `  DD_TRACE_AGENT_URL=${agentUrl.href.replace(/\/$/, '')}`,
    '  DD_PROFILING_ENDPOINT_COUNT_ENABLED=true',
    '  DD_SERVICE=my-service DD_ENV=prod DD_VERSION=1.0.0',
    `  or instead of DD_TRACE_AGENT_URL: DD_AGENT_HOST=${host} DD_TRACE_AGENT_PORT=${port} DD_API_KEY=${s.apiKey}`,
    '  (dd-trace-go then warns that it ignores DD_API_KEY; it does send it, and Hotpath reads it)',
    '',
    'pyroscope-go (BasicAuthUser must be set too, or no key is sent and every upload gets 401):',
    '  pyroscope.Start(pyroscope.Config{',
    '      ApplicationName:   "my-service",',
    `      ServerAddress:     "${base}",`,
    '      BasicAuthUser:     "hotpath",',
    `      BasicAuthPassword: "${s.apiKey}",`,
    '      Tags:              map[string]string{"env": "prod"},',
    '  })',
    '',
    'Services that expose net/http/pprof: list them in scrape.yaml, run `hotpath serve --scrape scrape.yaml`',
    '  scrape_configs:',
    '    - job_name: api',
    '      scrape_interval: 60s',
    '      profile_seconds: 10',
    '      static_configs:',
    "        - targets: ['10.0.0.5:6060']",
    '          labels: {service: api, env: prod}',
    '',
    'OpenTelemetry profiles (OTLP/HTTP), in the exporter’s environment:',
    `  OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT=${base}/v1development/profiles`,
    `  OTEL_EXPORTER_OTLP_PROFILES_HEADERS=Authorization=Bearer%20${s.apiKey}`,
    '',
    'Profile files:',
    `  hotpath upload --server ${base} --api-key ${s.apiKey} --tags service:my-service cpu.pprof`,
    '',
    '',
  ];
  return lines.join('\n');
}
