import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ProfileJson } from '../src/api/types.js';
import { runOk } from './support/go.js';
import { hotpathBin, repoRoot } from './support/paths.js';
import { type RunningServer, startServer } from './support/server.js';
import { buildGoProgram, startProgram, waitFor } from './support/snippets.js';

// What `hotpath serve` prints on first start, pasted into real clients: the dd-trace-go
// environment into a service using dd-trace-go, the pyroscope-go code into a Go program. Each
// must deliver a profile to the server that printed it.

const work = mkdtempSync(join(tmpdir(), 'hotpath-first-start-'));
const TIMEOUT_MS = 60_000;

/** The lines of the banner section that starts with `heading`, without their indent. */
function section(output: string, heading: string): string[] {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  assert.ok(start >= 0, `the banner has a "${heading}" section:\n${output}`);
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('  ')) break;
    out.push(line.slice(2));
  }
  return out;
}

/** The NAME=VALUE words of `lines` as an environment. */
function envOf(lines: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const word of lines.join(' ').split(/\s+/)) {
    const m = /^([A-Z][A-Z0-9_]*)=(\S+)$/.exec(word);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

async function profiles(server: RunningServer, query: string): Promise<ProfileJson[]> {
  const res = await fetch(`${server.url}/api/v1/profiles?query=${encodeURIComponent(query)}&from=now-1h`, {
    headers: { 'DD-APPLICATION-KEY': server.appKey },
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { profiles: ProfileJson[] }).profiles;
}

function arrived(server: RunningServer, query: string): Promise<ProfileJson[]> {
  return waitFor(`a profile matching ${query}`, TIMEOUT_MS, async () => {
    const found = await profiles(server, query);
    return found.length > 0 ? found : undefined;
  });
}

describe('first start of hotpath serve', () => {
  let server: RunningServer;
  let ddtrace: string;
  before(async () => {
    const bin = join(work, 'clients');
    runOk('go', ['build', '-o', `${bin}/`, './ddtrace'], { cwd: join(repoRoot, 'e2e', 'clients') });
    ddtrace = join(bin, 'ddtrace');
    server = await startServer();
  });
  after(async () => {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('prints the keys, and client configuration with the bound port (not --port 0) and the new API key', () => {
    const out = server.output();
    assert.ok(server.apiKey.startsWith('hpapi_') && server.appKey.startsWith('hpapp_'));
    const port = new URL(server.url).port;
    assert.ok(out.includes(`DD_TRACE_AGENT_URL=http://hotpath:${server.apiKey}@127.0.0.1:${port}\n`), out);
    assert.ok(out.includes(`OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT=${server.url}/v1development/profiles\n`));
    assert.ok(out.includes(`hotpath serve --scrape scrape.yaml`));
    assert.ok(out.indexOf('First start') < out.indexOf('hotpath serving'), 'the banner comes before the server says it serves');
  });

  it('dd-trace-go with the printed environment: the profile arrives with the printed service and env', async () => {
    const env = envOf(section(server.output(), 'dd-trace-go').slice(0, 3));
    assert.deepEqual(Object.keys(env).sort(), [
      'DD_ENV',
      'DD_PROFILING_ENDPOINT_COUNT_ENABLED',
      'DD_SERVICE',
      'DD_TRACE_AGENT_URL',
      'DD_VERSION',
    ]);
    runOk(ddtrace, ['-duration', '3s', '-period', '1s'], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
    const [p] = await arrived(server, `service:${env.DD_SERVICE} env:${env.DD_ENV} version:${env.DD_VERSION}`);
    assert.ok(p.attachments.some((a) => a.name === 'cpu.pprof'));
  });

  it('dd-trace-go with the printed DD_AGENT_HOST / DD_TRACE_AGENT_PORT / DD_API_KEY alternative: the key is sent and accepted', async () => {
    const alternative = section(server.output(), 'dd-trace-go').find((l) => l.includes('DD_AGENT_HOST='));
    assert.ok(alternative);
    const env = envOf([alternative]);
    assert.equal(env.DD_API_KEY, server.apiKey);
    runOk(ddtrace, ['-duration', '3s', '-period', '1s'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, DD_SERVICE: 'first-start-api-key' },
    });
    await arrived(server, 'service:first-start-api-key');
  });

  it('pyroscope-go with the printed code (BasicAuthUser and BasicAuthPassword): the profile arrives', async () => {
    const code = section(server.output(), 'pyroscope-go').join('\n');
    const bin = buildGoProgram(
      'first-start-pyroscope',
      `package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/grafana/pyroscope-go"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p, err := ${code}
	if err != nil {
		log.Fatal(err)
	}
	defer p.Stop()
	log.Print("profiling started")
	<-ctx.Done()
}
`,
    );
    const program = startProgram(bin, [], { env: process.env });
    await program.waitForOutput('profiling started', TIMEOUT_MS);
    assert.equal(await program.stop(TIMEOUT_MS), 0, program.output());
    const found = await arrived(server, 'service:my-service env:prod -version:1.0.0');
    assert.ok(found.every((p) => p.service === 'my-service'));
  });

  it('a second start on the same data directory prints no keys and no banner', async () => {
    const dataDir = server.dataDir;
    assert.equal(await server.stop({ keepData: true }), 0);
    const again = await startServer([], dataDir);
    try {
      assert.doesNotMatch(again.output(), /First start|API key|DD_TRACE_AGENT_URL/);
    } finally {
      await again.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a first start that cannot listen still shows the keys it created (a later start would not)', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    assert.ok(address && typeof address === 'object');
    const dataDir = mkdtempSync(join(work, 'taken-'));
    try {
      const program = startProgram(
        process.execPath,
        [hotpathBin, 'serve', '--port', String(address.port), '--host', '127.0.0.1', '--data', dataDir],
        { env: process.env },
      );
      assert.equal(await program.exit(TIMEOUT_MS), 1, program.output());
      assert.match(program.output(), /API key \(send profiles\): +hpapi_\w+/);
      assert.match(program.output(), /hotpath: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
