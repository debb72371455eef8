import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { run } from './support/go.js';
import { fixture, hotpathBin } from './support/paths.js';
import { procStatusBytes, rawClient } from './support/raw-client.js';
import { type RunningServer, startServer } from './support/server.js';

// A real `hotpath serve` against clients that misbehave on the wire: slow headers, slow bodies,
// idle connections, more uploads than it takes at once, and a flood of large unauthenticated bodies.
const cpu = readFileSync(fixture('cpu-small-1.pprof'));
/** Upper bound on any wait for the server to act: far above the timeouts configured below. */
const BOUND_MS = 20_000;

/** Resolves once `read()` (which must do I/O, such as a request) returns true, asking again after each answer; rejects after BOUND_MS. */
async function until(read: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  while (!(await read())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

async function gauge(server: RunningServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { 'DD-APPLICATION-KEY': server.appKey } })).text();
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
}

function upload(server: RunningServer, body: Uint8Array, key = server.apiKey): Promise<Response> {
  return fetch(`${server.url}/api/v1/profiles?tags=service:limits`, { method: 'POST', body, headers: { authorization: `Bearer ${key}` } });
}

describe('hotpath serve timeouts', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--headers-timeout', '1s', '--request-timeout', '2s', '--keep-alive-timeout', '1s']);
  });
  after(() => server.stop());

  it('cuts off a slow-header and a slow-body client with 408 while serving a normal client meanwhile', async () => {
    const slowHeaders = await rawClient(server.url);
    slowHeaders.socket.write('POST /api/v1/profiles HTTP/1.1\r\nHost: hotpath\r\n');
    slowHeaders.trickle('X-Slow: a\r\n', 100);

    const slowBody = await rawClient(server.url);
    slowBody.socket.write(
      `POST /api/v1/profiles HTTP/1.1\r\nHost: hotpath\r\nAuthorization: Bearer ${server.apiKey}\r\nContent-Length: 1000000\r\n\r\n`,
    );
    slowBody.trickle('x', 100);

    // Served while both are connected.
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    assert.equal((await upload(server, cpu)).status, 201);

    const [headersAnswer, bodyAnswer] = await Promise.all([slowHeaders.closed(BOUND_MS), slowBody.closed(BOUND_MS)]);
    assert.match(headersAnswer, /^HTTP\/1\.1 408 /);
    assert.match(bodyAnswer, /^HTTP\/1\.1 408 [\s\S]*"code":"timeout"/);
    assert.match(bodyAnswer, /the whole request within 2 s/);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'still serving');
    assert.doesNotMatch(server.output(), /request failed|"level":50/, 'a timeout is not a server error');
  });

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    const idle = await rawClient(server.url);
    idle.socket.write('GET /healthz HTTP/1.1\r\nHost: hotpath\r\nConnection: keep-alive\r\n\r\n');
    const answer = await idle.closed(BOUND_MS);
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.equal(answer.match(/HTTP\/1\.1 /g)?.length, 1, 'one answer, then the server hung up');
  });

  it('closes a connection that never sends a request after the headers timeout', async () => {
    const silent = await rawClient(server.url);
    assert.match(await silent.closed(BOUND_MS), /^HTTP\/1\.1 408 /);
  });
});

describe('hotpath serve intake concurrency', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer(['--max-intake-concurrency', '1', '--intake-queue', '1', '--intake-queue-timeout', '60s']);
  });
  after(() => server.stop());

  it('takes one upload at a time, queues one, answers 503 with Retry-After beyond that, and serves reads meanwhile', async () => {
    const head = (length: number) =>
      `POST /api/v1/profiles?tags=service:gate HTTP/1.1\r\nHost: hotpath\r\nAuthorization: Bearer ${server.apiKey}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`;
    const first = await rawClient(server.url);
    first.socket.write(head(cpu.length));
    first.socket.write(cpu.subarray(0, 10));
    await until(async () => (await gauge(server, 'hotpath_intake_in_flight')) === 1, 'the first upload to take the slot');

    const second = await rawClient(server.url);
    second.socket.write(head(cpu.length));
    await until(async () => (await gauge(server, 'hotpath_intake_queued')) === 1, 'the second upload to queue');

    const third = await upload(server, cpu);
    assert.equal(third.status, 503);
    assert.equal(third.headers.get('retry-after'), '5');
    assert.equal(((await third.json()) as { code: string }).code, 'busy');
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);

    // The first finishes; the queued one gets the slot and is stored.
    first.socket.write(cpu.subarray(10));
    assert.match(await first.closed(BOUND_MS), /^HTTP\/1\.1 201 /);
    second.socket.write(cpu);
    assert.match(await second.closed(BOUND_MS), /^HTTP\/1\.1 201 /);
    assert.equal(await gauge(server, 'hotpath_intake_in_flight'), 0);
  });
});

describe('hotpath serve with Expect: 100-continue', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  it('answers a refused upload at once, so the body is never sent, and lets an accepted one continue', async () => {
    const head = (auth: string) =>
      `POST /api/v1/profiles?tags=service:expect HTTP/1.1\r\nHost: hotpath\r\n${auth}Content-Length: ${cpu.length}\r\nExpect: 100-continue\r\n\r\n`;
    const refused = await rawClient(server.url);
    refused.socket.write(head(''));
    const answer = await refused.closed(BOUND_MS);
    assert.match(answer, /^HTTP\/1\.1 401 /);
    assert.doesNotMatch(answer, /100 Continue/);

    const accepted = await rawClient(server.url);
    accepted.socket.write(head(`Authorization: Bearer ${server.apiKey}\r\nConnection: close\r\n`));
    await accepted.receivedMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n/, BOUND_MS);
    accepted.socket.write(cpu);
    assert.match((await accepted.closed(BOUND_MS)).slice('HTTP/1.1 100 Continue\r\n\r\n'.length), /^HTTP\/1\.1 201 /);
  });
});

describe('hotpath serve under a flood of unauthenticated bodies', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  it('answers 50 concurrent 30 MB bodies without a key with 401, raising RSS by less than 100 MB', async () => {
    const body = Buffer.alloc(30 * 1024 * 1024, 0x61);
    const routes = [
      '/profiling/v1/input',
      '/api/v2/profile',
      '/ingest',
      '/pyroscope/ingest',
      '/api/v1/profiles',
      '/telemetry/proxy/api/v2/apmtelemetry',
    ];
    const { port } = new URL(server.url);
    // Warm up: the first requests load code and allocate what every later request reuses.
    assert.equal((await fetch(`${server.url}/api/v1/profiles`, { method: 'POST', body: body.subarray(0, 1024) })).status, 401);
    const peakBefore = await procStatusBytes(server.pid, 'VmHWM');

    // Keep-alive, as Go's and undici's clients are: the server answers 401 at once and drops the
    // rest of the body as it arrives, and the client reads the answer while still sending.
    const agent = new Agent({ keepAlive: true, maxSockets: 50 });
    const send = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path,
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/octet-stream', 'content-length': body.length },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) => send(routes[i % routes.length])));
    agent.destroy();
    assert.deepEqual(new Set(statuses), new Set([401]));

    const peakAfter = await procStatusBytes(server.pid, 'VmHWM');
    const grew = peakAfter - peakBefore;
    assert.ok(grew < 100 * 1024 * 1024, `peak RSS grew by ${(grew / 1024 / 1024).toFixed(1)} MB`);
    process.stdout.write(
      `# 50 x 30 MB unauthenticated: peak RSS ${(peakBefore / 1048576).toFixed(1)} -> ${(peakAfter / 1048576).toFixed(1)} MB\n`,
    );
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });
});

describe('hotpath serve limit flags', () => {
  it('refuses bad timeout and queue flags with a one-line error naming the flag, before starting', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--headers-timeout', '2m', '--request-timeout', '1m'], /--headers-timeout \(2m\) must not be longer than --request-timeout \(1m\)/],
      [['--request-timeout', '0s'], /--request-timeout must be from 1ms to 24d/],
      [['--keep-alive-timeout', 'soon'], /--keep-alive-timeout must be a duration/],
      [['--max-intake-concurrency', '0'], /--max-intake-concurrency must be a positive integer/],
      [['--intake-queue', '1e3'], /--intake-queue must be a whole number/],
    ];
    for (const [flags, message] of cases) {
      const r = run(process.execPath, [hotpathBin, 'serve', '--port', '0', '--data', '/nonexistent/never-created', ...flags]);
      assert.equal(r.status, 1, flags.join(' '));
      assert.match(r.stderr, message);
    }
  });
});
