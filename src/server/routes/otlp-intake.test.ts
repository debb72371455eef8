import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ProfileJson } from '../../api/types.js';
import { ProtoReader } from '../../pprof/proto-reader.js';
import { fixture } from '../../testing/fixtures.js';
import { goCpuSpec, otlpRequestBytes } from '../../testing/otlp-request.js';
import { injectFetch, openTestApp, type TestApp } from '../testing.js';

// OTLP/HTTP profiles through the whole app in process: access, Content-Encoding, the pipeline,
// the ExportProfilesServiceResponse and partial success.
const recorded = readFileSync(fixture('intake/otlp-pprofile-v0.165.0.pb'));
const PATH = '/v1development/profiles';

let server: TestApp;
before(async () => {
  server = await openTestApp();
});
after(() => server.close());

function send(body: Uint8Array, headers: Record<string, string>): Promise<Response> {
  return injectFetch(server.app, PATH, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf', ...headers } });
}

async function search(query: string): Promise<ProfileJson[]> {
  const res = await injectFetch(server.app, `/api/v1/profiles?query=${encodeURIComponent(query)}&from=0&limit=1000`, {
    headers: { 'DD-APPLICATION-KEY': server.keys.admin },
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { profiles: ProfileJson[] }).profiles;
}

/** Reads an ExportProfilesServiceResponse: partial_success (1) { rejected_profiles (1), error_message (2) }. */
function exportResponse(bytes: Uint8Array): { rejected: number; message: string } {
  const out = { rejected: 0, message: '' };
  const r = new ProtoReader(bytes);
  while (r.pos < r.end) {
    assert.equal(r.readTag(), 1);
    r.end = r.delimitedEnd('partial_success');
    while (r.pos < r.end) {
      const field = r.readTag();
      if (field === 1) out.rejected = r.uint('rejected_profiles');
      else {
        const end = r.delimitedEnd('error_message');
        out.message = Buffer.from(bytes.subarray(r.pos, end)).toString('utf8');
        r.pos = end;
      }
    }
    r.end = bytes.length;
  }
  return out;
}

/** A request of the Go CPU profile under `service`, its second profile (when `bad`) with a negative CPU value. */
function twoProfiles(service: string, bad: 'none' | 'second' | 'both'): Uint8Array {
  const spec = goCpuSpec();
  spec.resources[0].attributes = [['service.name', service]];
  const good = spec.resources[0].profiles[0];
  const negative = structuredClone(good);
  negative.samples[1].values = [-10_000_000];
  spec.resources[0].profiles = [bad === 'both' ? negative : good, bad === 'none' ? good : negative];
  return otlpRequestBytes(spec);
}

describe('POST /v1development/profiles', () => {
  it('with the API key as Authorization: Bearer (OTEL_EXPORTER_OTLP_HEADERS), gzip: 200, an empty protobuf answer, stored', async () => {
    const res = await send(gzipSync(recorded), { authorization: `Bearer ${server.keys.api}`, 'content-encoding': 'gzip' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-protobuf');
    assert.equal((await res.arrayBuffer()).byteLength, 0);
    const [p] = await search('service:checkout env:prod version:1.4.2');
    assert.equal(p.protocol, 'otlp');
    assert.equal(p.runtime, 'go');
    assert.ok(p.cpuCores !== null && p.cpuCores > 0);
    assert.deepEqual(
      p.attachments.map((a) => a.name),
      ['cpu.pprof'],
    );
  });

  it('with DD-API-KEY as well', async () => {
    const res = await send(twoProfiles('otlp-dd-key', 'none'), { 'dd-api-key': server.keys.api });
    assert.equal(res.status, 200);
    assert.equal((await search('service:otlp-dd-key')).length, 2);
  });

  it('without a key, or with a read key: refused before the body is read, nothing stored', async () => {
    assert.equal((await send(twoProfiles('otlp-nokey', 'none'), {})).status, 401);
    assert.equal((await send(twoProfiles('otlp-nokey', 'none'), { authorization: `Bearer ${server.keys.profilesRead}` })).status, 403);
    assert.equal((await search('service:otlp-nokey')).length, 0);
  });

  it('a profile the pipeline refuses: partial_success naming it, the other stored', async () => {
    const res = await send(twoProfiles('otlp-partial', 'second'), { authorization: `Bearer ${server.keys.api}` });
    assert.equal(res.status, 200);
    const answer = exportResponse(Buffer.from(await res.arrayBuffer()));
    assert.equal(answer.rejected, 1);
    assert.match(answer.message, /^profile 1: cpu\.pprof: sample 1 has a negative samples\/count value/);
    assert.equal((await search('service:otlp-partial')).length, 1);
  });

  it('the same in OTLP/JSON: partialSuccess in a JSON answer', async () => {
    const spec = goCpuSpec();
    const json = JSON.stringify({
      resourceProfiles: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'otlp-json-partial' } }] },
          scopeProfiles: [
            {
              profiles: [0, -1].map((sign) => ({
                sampleType: { typeStrindex: 1, unitStrindex: 2 },
                periodType: { typeStrindex: 1, unitStrindex: 2 },
                period: '10000000',
                timeUnixNano: '1764000000000000000',
                durationNano: '10000000000',
                samples: [{ stackIndex: 1, values: [sign === 0 ? '30000000' : '-30000000'] }],
              })),
            },
          ],
        },
      ],
      dictionary: {
        stringTable: spec.strings,
        functionTable: [{}, { nameStrindex: 3 }, { nameStrindex: 4 }, { nameStrindex: 5 }, { nameStrindex: 6 }],
        locationTable: [{}, ...[1, 2, 3, 4].map((f) => ({ lines: [{ functionIndex: f, line: '1' }] }))],
        stackTable: [{}, { locationIndices: [1, 2, 3, 4] }],
      },
    });
    const res = await injectFetch(server.app, PATH, {
      method: 'POST',
      body: json,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.keys.api}` },
    });
    assert.equal(res.status, 200);
    // Exactly this type: the Collector's otlphttp exporter reads partial_success under no other.
    assert.equal(res.headers.get('content-type'), 'application/json');
    const answer = (await res.json()) as { partialSuccess: { rejectedProfiles: string; errorMessage: string } };
    assert.equal(answer.partialSuccess.rejectedProfiles, '1');
    assert.match(answer.partialSuccess.errorMessage, /^profile 1: /);
    assert.equal((await search('service:otlp-json-partial')).length, 1);
  });

  it('every profile refused: 400 with the reason, nothing stored', async () => {
    const res = await send(twoProfiles('otlp-all-bad', 'both'), { authorization: `Bearer ${server.keys.api}` });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /negative samples\/count value/);
    assert.equal((await search('service:otlp-all-bad')).length, 0);
  });

  it('a bad index: 400 naming it, nothing stored', async () => {
    const spec = goCpuSpec();
    spec.resources[0].attributes = [['service.name', 'otlp-bad-index']];
    spec.resources[0].profiles.push(structuredClone(spec.resources[0].profiles[0]));
    spec.resources[0].profiles[1].samples[0].attributes = [12];
    const res = await send(otlpRequestBytes(spec), { authorization: `Bearer ${server.keys.api}` });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: string; code: string };
    assert.equal(body.code, 'otlp');
    assert.match(body.error, /profile 1 sample 0 attribute index is 12, outside attribute_table \(3 entries\)/);
    assert.equal((await search('service:otlp-bad-index')).length, 0);
  });

  it('a CPU profile without samples (an idle service) is stored, with no CPU used', async () => {
    const spec = goCpuSpec();
    spec.resources[0].attributes = [['service.name', 'otlp-idle']];
    spec.resources[0].profiles[0].samples = [];
    const res = await send(otlpRequestBytes(spec), { authorization: `Bearer ${server.keys.api}` });
    assert.equal(res.status, 200);
    const [p] = await search('service:otlp-idle');
    assert.equal(p.cpuCores, 0);
    assert.equal(p.samples, 0);
  });

  it('a Content-Type that is not OTLP: 415', async () => {
    const res = await send(recorded, { authorization: `Bearer ${server.keys.api}`, 'content-type': 'application/octet-stream' });
    assert.equal(res.status, 415);
    assert.match(((await res.json()) as { error: string }).error, /application\/x-protobuf or application\/json/);
  });
});
