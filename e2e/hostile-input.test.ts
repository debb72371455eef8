import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { AMPLIFICATION_CASES } from '../src/pprof/amplification.testing.js';
import { ddTraceGoUpload } from '../src/testing/dd-upload.js';
import { fixture } from './support/paths.js';
import { type RunningServer, startServer } from './support/server.js';

// Amplification inputs (a few KB that decompress to many MB of tiny records) sent to a real
// `hotpath serve` through every intake endpoint and every compression: each is refused with a
// 4xx that says what is wrong, the server keeps serving, and its memory stays bounded.

const MB = 1024 * 1024;
/** The ceiling the issue sets for the server's RSS while it refuses these inputs. */
const RSS_CEILING_MB = 600;

type Compression = 'gzip' | 'zstd' | 'none';

function compress(raw: Buffer, compression: Compression): Buffer {
  if (compression === 'gzip') return gzipSync(raw, { level: 1 });
  if (compression === 'none') return raw;
  const out = spawnSync('zstd', ['-q', '-c', '-3'], { input: raw, maxBuffer: 256 * MB });
  assert.equal(out.status, 0, `zstd failed: ${out.stderr}`);
  return out.stdout;
}

/** The sizes each case is made at: small, large but under the decompression limit, and over it. */
const SIZES: ReadonlyArray<{ bytes: number; compressions: Compression[] }> = [
  { bytes: 1 * MB, compressions: ['gzip', 'zstd', 'none'] },
  { bytes: 16 * MB, compressions: ['gzip', 'zstd', 'none'] },
  // Over the 64 MiB decompression limit; as a raw body it is over the 32 MiB body limit too.
  { bytes: 120 * MB, compressions: ['gzip', 'zstd'] },
];

interface Endpoint {
  name: string;
  send: (server: RunningServer, profile: Buffer) => Promise<{ status: number; body: string }>;
}

async function post(url: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { method: 'POST', body, headers });
  return { status: res.status, body: await res.text() };
}

const ENDPOINTS: Endpoint[] = [
  {
    name: 'dd-trace-go /profiling/v1/input',
    send: (s, profile) => {
      const upload = ddTraceGoUpload({ cpu: profile, tags: 'service:hostile,env:test' });
      return post(`${s.url}/profiling/v1/input`, upload.body, { 'content-type': upload.contentType, 'dd-api-key': s.apiKey });
    },
  },
  {
    name: 'pyroscope /ingest',
    send: (s, profile) => {
      const now = Math.floor(Date.now() / 1000);
      return post(`${s.url}/ingest?name=hostile&from=${now - 10}&until=${now}&spyName=gospy`, profile, {
        'content-type': 'application/octet-stream',
        authorization: `Bearer ${s.apiKey}`,
      });
    },
  },
  {
    name: 'upload /api/v1/profiles',
    send: (s, profile) => post(`${s.url}/api/v1/profiles?tags=service:hostile`, profile, { 'dd-api-key': s.apiKey }),
  },
];

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `no ${field} in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

describe('hostile profiles through every intake endpoint', () => {
  let server: RunningServer;
  let pid: number;
  before(async () => {
    server = await startServer();
    pid = Number(/"pid":(\d+)/.exec(server.output())?.[1]);
    assert.ok(pid > 0, 'the server logs its pid');
  });
  after(async () => {
    await server?.stop();
  });

  for (const size of SIZES) {
    for (const compression of size.compressions) {
      it(`refuses every amplification case at ${size.bytes / MB} MB decompressed, ${compression}, with a 4xx; RSS stays under ${RSS_CEILING_MB} MB`, async () => {
        for (const c of AMPLIFICATION_CASES) {
          const body = compress(c.make(size.bytes), compression);
          for (const endpoint of ENDPOINTS) {
            const res = await endpoint.send(server, body);
            const what = `${c.name} (${compression}, ${size.bytes / MB} MB) to ${endpoint.name}`;
            assert.ok(res.status >= 400 && res.status < 500, `${what}: status ${res.status} ${res.body.slice(0, 300)}`);
            const message = (JSON.parse(res.body || '{}') as { error?: string }).error ?? '';
            assert.ok(message.length > 10, `${what}: the answer says what is wrong (${res.body.slice(0, 200)})`);
            // VmHWM is the process's peak RSS so far, so a spike between two reads is not missed.
            const peak = statusField(pid, 'VmHWM');
            assert.ok(peak < RSS_CEILING_MB, `${what}: server peak RSS ${peak.toFixed(0)} MB`);
          }
        }
        const health = await fetch(`${server.url}/healthz`);
        assert.equal(health.status, 200);
      });
    }
  }

  it('still takes a real profile afterwards, and lists none of the refused ones', async (t) => {
    const upload = ddTraceGoUpload({ cpu: readFileSync(fixture('cpu-small-1.pprof')), tags: 'service:after-attack,env:test' });
    const ok = await post(`${server.url}/profiling/v1/input`, upload.body, {
      'content-type': upload.contentType,
      'dd-api-key': server.apiKey,
    });
    assert.equal(ok.status, 200, ok.body);
    const res = await fetch(`${server.url}/api/v1/profiles?query=service:hostile&from=now-1h`, {
      headers: { 'dd-application-key': server.appKey },
    });
    const body = (await res.json()) as { profiles: unknown[] };
    assert.equal(body.profiles.length, 0, 'nothing of a refused upload is stored');
    t.diagnostic(`server peak RSS over the whole attack: ${statusField(pid, 'VmHWM').toFixed(0)} MB`);
  });
});
