import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { decompress } from '../pprof/compression.js';
import { decodeProfile } from '../pprof/decode.js';
import { type Profile, valueIndex } from '../pprof/profile.js';
import { functionTotals, profileStats } from '../pprof/stats.js';
import { fixture } from '../testing/fixtures.js';
import { goCpuSpec, type OtlpSpec, otlpRequestBytes } from '../testing/otlp-request.js';
import { IngestError } from './errors.js';
import { DEFAULT_INTAKE_LIMITS } from './limits.js';
import { otlpAnswer, otlpTags, parseOtlpRequest } from './otlp.js';
import { otlpJsonToProtobuf } from './otlp-json.js';
import type { IngestedProfile, IntakeRequest } from './record.js';

// Requests recorded from the real library: e2e/otlpclient (go.opentelemetry.io/collector/pdata
// v1.71.0, pprofile v0.165.0) converting e2e/testdata/cpu-small-1.pprof, written with -out:
//   otlpclient -pprof cpu-small-1.pprof -out otlp-pprofile-v0.165.0.pb [-encoding json]
//     -resource service.name=checkout,deployment.environment.name=prod,service.version=1.4.2,telemetry.sdk.language=go
const recordedProto = readFileSync(fixture('intake/otlp-pprofile-v0.165.0.pb'));
const recordedJson = readFileSync(fixture('intake/otlp-pprofile-v0.165.0.json'));
const original = decodeProfile(decompress(readFileSync(fixture('cpu-small-1.pprof'))));

const PROTOBUF = { 'content-type': 'application/x-protobuf' };

function request(body: Uint8Array, headers: Record<string, string> = PROTOBUF): IntakeRequest {
  return { headers, body: Buffer.from(body) };
}

function parse(spec: OtlpSpec): Promise<IngestedProfile[]> {
  return parseOtlpRequest(request(otlpRequestBytes(spec)));
}

function pprofOf(p: IngestedProfile): Profile {
  return decodeProfile(decompress(p.attachments[0].bytes));
}

/** Flat CPU nanoseconds per function name, as `go tool pprof -top` sums them. */
function flatByFunction(p: Profile): Map<string, number> {
  const { flat } = functionTotals(p, valueIndex(p, 'cpu', 'nanoseconds'));
  return new Map(flat.filter((f) => f.flat !== 0).map((f) => [f.name, f.flat]));
}

async function rejects(promise: Promise<unknown>, status: number, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof IngestError, String(err));
    assert.equal(err.status, status, err.message);
    assert.match(err.message, message);
    return true;
  });
}

describe('OTLP intake: requests recorded from the Go pdata library', () => {
  for (const [name, body, headers] of [
    ['protobuf', recordedProto, PROTOBUF],
    ['OTLP/JSON', recordedJson, { 'content-type': 'application/json' }],
    ['gzip protobuf', gzipSync(recordedProto), { ...PROTOBUF, 'content-encoding': 'gzip' }],
  ] as const) {
    it(`${name}: one CPU profile with the tags of its resource and the CPU of the original pprof`, async () => {
      const [p, ...rest] = await parseOtlpRequest(request(body, headers));
      assert.equal(rest.length, 0);
      assert.equal(p.protocol, 'otlp');
      assert.deepEqual(p.tags.map(([k, v]) => `${k}:${v}`).sort(), [
        'env:prod',
        'runtime:go',
        'service:checkout',
        'telemetry.sdk.language:go',
        'version:1.4.2',
      ]);
      assert.equal(p.cpuAttachment, 'cpu.pprof');
      assert.equal(p.start, Number(original.timeNanos / 1_000_000n));
      const pprof = pprofOf(p);
      assert.deepEqual(
        [0, 1].map((i) => `${pprof.strings[pprof.sampleTypes[2 * i]]}/${pprof.strings[pprof.sampleTypes[2 * i + 1]]}`),
        ['samples/count', 'cpu/nanoseconds'],
      );
      assert.equal(pprof.durationNanos, original.durationNanos);
      const stats = profileStats(pprof, 0);
      const want = profileStats(original, 0);
      assert.deepEqual(stats.totals, want.totals);
      assert.deepEqual(flatByFunction(pprof), flatByFunction(original));
    });
  }

  it('the JSON and protobuf encodings of the same request convert to the same pprof', async () => {
    const [a] = await parseOtlpRequest(request(recordedProto));
    const [b] = await parseOtlpRequest(request(recordedJson, { 'content-type': 'application/json; charset=utf-8' }));
    assert.deepEqual(pprofOf(a), pprofOf(b));
  });
});

describe('OTLP intake: conversion', () => {
  it('a CPU profile in nanoseconds with a period becomes samples/count and cpu/nanoseconds, labels included', async () => {
    const [p] = await parse(goCpuSpec());
    const pprof = pprofOf(p);
    assert.deepEqual([...pprof.samples.values], [3, 30_000_000, 1, 10_000_000]);
    assert.equal(pprof.period, 10_000_000n);
    const leaf = pprof.samples.locs[pprof.samples.locStart[0]];
    const fn = pprof.locations.lineFunction[pprof.locations.lineStart[leaf]];
    assert.equal(pprof.strings[pprof.functions.name[fn]], 'main.burn');
    assert.equal(pprof.samples.count, 2);
    assert.deepEqual(
      Array.from({ length: 2 }, (_, k) => pprof.strings[pprof.samples.labelKey[k]]),
      ['span', 'bytes'],
    );
    assert.equal(pprof.strings[pprof.samples.labelStr[0]], 'req-1');
    assert.equal(pprof.samples.labelNum[1], 4096);
    assert.equal(pprof.strings[pprof.samples.labelNumUnit[1]], 'bytes');
    assert.deepEqual(
      flatByFunction(pprof),
      new Map([
        ['main.burn', 30_000_000],
        ['main.main', 10_000_000],
      ]),
    );
  });

  it('samples/count with a cpu/nanoseconds period (what eBPF profilers send) is a CPU profile: cpu = count x period', async () => {
    const spec = goCpuSpec();
    spec.strings.push('samples', 'count');
    const p = spec.resources[0].profiles[0];
    p.sampleType = [11, 12];
    p.period = 50_000_000;
    p.samples = [
      { stack: 1, timestamps: [1n, 2n] },
      { stack: 2, values: [3] },
    ];
    const [out] = await parse(spec);
    assert.equal(out.cpuAttachment, 'cpu.pprof');
    assert.deepEqual([...pprofOf(out).samples.values], [2, 100_000_000, 3, 150_000_000]);
  });

  it('another sample type keeps its one column, is named after it and is not a CPU profile', async () => {
    const spec = goCpuSpec();
    spec.strings.push('alloc_space');
    const p = spec.resources[0].profiles[0];
    p.sampleType = [11, 10];
    p.periodType = undefined;
    p.period = 0;
    spec.resources[0].attributes = [['service.name', 'checkout']];
    const [out] = await parse(spec);
    assert.equal(out.cpuAttachment, null);
    assert.equal(out.attachments[0].name, 'alloc_space.pprof');
    // No attribute says Go, its frames do (the pipeline looks only at CPU profiles).
    assert.deepEqual(out.tags, [
      ['service', 'checkout'],
      ['runtime', 'go'],
    ]);
    const pprof = pprofOf(out);
    assert.equal(pprof.sampleTypes.length, 2);
    assert.deepEqual([...pprof.samples.values], [30_000_000, 10_000_000]);
  });

  it('each profile of each resource is its own stored profile with its resource tags', async () => {
    const spec = goCpuSpec();
    const second = structuredClone(spec.resources[0]);
    second.attributes = [
      ['service.name', 'cart'],
      ['deployment.environment', 'staging'],
    ];
    second.profiles.push(structuredClone(second.profiles[0]));
    spec.resources.push(second);
    const out = await parse(spec);
    assert.deepEqual(
      out.map((p) => p.tags.filter(([k]) => k === 'service' || k === 'env').map(([k, v]) => `${k}:${v}`)),
      [
        ['service:checkout', 'env:prod'],
        ['service:cart', 'env:staging'],
        ['service:cart', 'env:staging'],
      ],
    );
  });

  it('profiles sharing the dictionary each hold only what their own samples use', async () => {
    const spec = goCpuSpec();
    const first = spec.resources[0].profiles[0];
    const second = structuredClone(first);
    second.samples = [{ stack: 2, values: [20_000_000] }];
    spec.resources[0].profiles = [first, second, structuredClone(first)];
    const [a, b, c] = (await parse(spec)).map(pprofOf);
    const names = (p: Profile) => Array.from(p.functions.name, (n) => p.strings[n]).sort();
    assert.deepEqual(names(b), ['main.main', 'runtime.goexit', 'runtime.main']);
    assert.deepEqual(flatByFunction(b), new Map([['main.main', 20_000_000]]));
    assert.equal(b.locations.count, 3);
    assert.deepEqual(names(a), names(c));
    assert.deepEqual(flatByFunction(a), flatByFunction(c));
  });

  it('a profile without a time ends now and says nothing of its start', async () => {
    const spec = goCpuSpec();
    spec.resources[0].profiles[0].timeUnixNano = undefined;
    const before = Date.now();
    const [p] = await parse(spec);
    assert.equal(p.start, null);
    assert.ok(p.end >= before);
  });
});

describe('OTLP intake: resource attributes as tags', () => {
  const limits = DEFAULT_INTAKE_LIMITS;
  it('maps the OpenTelemetry names, keeps the others, adds runtime:go for a Go SDK or runtime', () => {
    assert.deepEqual(
      otlpTags(
        [
          ['service.name', 'api'],
          ['deployment.environment', 'prod'],
          ['host.name', 'web-1'],
          ['process.runtime.name', 'go'],
          ['process.pid', 4242],
          ['feature.on', true],
          ['bytes', null],
        ],
        [['profile.kind', 'cpu']],
        limits,
      ),
      [
        ['service', 'api'],
        ['env', 'prod'],
        ['host', 'web-1'],
        ['process.runtime.name', 'go'],
        ['process.pid', '4242'],
        ['feature.on', 'true'],
        ['profile.kind', 'cpu'],
        ['runtime', 'go'],
      ],
    );
  });

  it('deployment.environment.name wins over the older deployment.environment, whichever comes first', () => {
    const tags = otlpTags(
      [
        ['deployment.environment.name', 'prod'],
        ['deployment.environment', 'old'],
      ],
      [],
      limits,
    );
    assert.deepEqual(tags, [['env', 'prod']]);
  });

  it('leaves out attributes that cannot be tags (":" in the key, control characters, too long)', () => {
    const tags = otlpTags(
      [
        ['service.name', 'api'],
        ['a:b', 'x'],
        ['process.command_line', 'x'.repeat(500)],
        ['note', 'two\nlines'],
      ],
      [],
      limits,
    );
    assert.deepEqual(tags, [['service', 'api']]);
  });

  it('more attributes than the tag limit: 413', () => {
    const many = Array.from({ length: limits.maxTags + 1 }, (_, i) => [`k${i}`, 'v'] as [string, string]);
    assert.throws(
      () => otlpTags(many, [], limits),
      (e: unknown) => e instanceof IngestError && e.status === 413,
    );
  });

  it('a service.name that cannot be a tag refuses the request (400), since it names the profile', async () => {
    const spec = goCpuSpec();
    spec.resources[0].attributes = [['service.name', 'bad\u0000name']];
    await rejects(parse(spec), 400, /control character/);
  });
});

describe('OTLP intake: bad requests', () => {
  it('a Content-Type that is not OTLP: 415', async () => {
    await rejects(
      parseOtlpRequest(request(recordedProto, { 'content-type': 'text/plain' })),
      415,
      /application\/x-protobuf or application\/json/,
    );
    await rejects(parseOtlpRequest(request(recordedProto, {})), 415, /Content-Type ""/);
  });

  it('a Content-Encoding other than gzip: 415', async () => {
    await rejects(parseOtlpRequest(request(recordedProto, { ...PROTOBUF, 'content-encoding': 'br' })), 415, /Content-Encoding "br"/);
  });

  it('Content-Encoding gzip on a body that is not gzip: 400', async () => {
    await rejects(parseOtlpRequest(request(recordedProto, { ...PROTOBUF, 'content-encoding': 'gzip' })), 400, /not valid gzip/);
  });

  it('a gzip body that inflates beyond the limit: 413, without inflating all of it', async () => {
    const bomb = gzipSync(Buffer.alloc(32 * 1024 * 1024));
    await rejects(
      parseOtlpRequest(request(bomb, { ...PROTOBUF, 'content-encoding': 'gzip' }), {
        ...DEFAULT_INTAKE_LIMITS,
        maxDecompressedBytes: 1024 * 1024,
      }),
      413,
      /larger than 1048576 bytes once decompressed/,
    );
  });

  it('a bad index: 400 naming the field and the table', async () => {
    const spec = goCpuSpec();
    spec.resources[0].profiles[0].samples[0].stack = 7;
    await rejects(
      parse(spec),
      400,
      /^invalid OTLP profiles request: profile 0 sample 0 stack_index is 7, outside stack_table \(3 entries\)$/,
    );
  });

  it('samples whose pprof form would take far more memory than the request allows: 413 before converting', async () => {
    // 2 million samples of one shared 200-frame stack: 10 MB of OTLP, 3 GB of pprof columns.
    const spec = goCpuSpec();
    spec.locations = [{}, ...Array.from({ length: 200 }, () => ({ lines: [{ fn: 1 }] }))];
    spec.stacks = [[], Array.from({ length: 200 }, (_, i) => i + 1)];
    spec.resources[0].profiles[0].samples = Array.from({ length: 2_000_000 }, () => ({ stack: 1, values: [1] }));
    await rejects(parse(spec), 413, /^invalid OTLP profiles request: converting profile 0 to pprof would need \d+ MB/);
  });

  it('a small request whose samples share deep stacks converts, though its pprof is many times larger', async () => {
    const spec = goCpuSpec();
    spec.locations = [{}, ...Array.from({ length: 200 }, () => ({ lines: [{ fn: 1 }] }))];
    spec.stacks = [[], Array.from({ length: 200 }, (_, i) => i + 1)];
    spec.resources[0].profiles[0].samples = Array.from({ length: 20_000 }, () => ({ stack: 1, values: [10_000_000] }));
    const bytes = otlpRequestBytes(spec);
    const [p] = await parseOtlpRequest(request(bytes));
    const pprof = pprofOf(p);
    assert.equal(pprof.samples.count, 20_000);
    assert.equal(pprof.samples.locs.length, 4_000_000);
    assert.ok(pprof.samples.locs.length * 4 > 10 * bytes.length);
  });

  it('a truncated request: 400', async () => {
    await rejects(
      parseOtlpRequest(request(recordedProto.subarray(0, recordedProto.length - 100))),
      400,
      /claims \d+ bytes but only \d+ remain/,
    );
  });

  it('an empty protobuf body is a request without profiles', async () => {
    assert.deepEqual(await parseOtlpRequest(request(new Uint8Array(0))), []);
  });
});

describe('OTLP/JSON: transcoding to protobuf', () => {
  const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

  it('field names as in the .proto (snake_case) read like lowerCamelCase; 64-bit integers as strings or numbers', () => {
    const camel = otlpJsonToProtobuf(json({ resourceProfiles: [{ scopeProfiles: [{ profiles: [{ period: '10', durationNano: 5 }] }] }] }));
    const snake = otlpJsonToProtobuf(
      json({ resource_profiles: [{ scope_profiles: [{ profiles: [{ period: 10, duration_nano: '5' }] }] }] }),
    );
    assert.deepEqual(camel, snake);
  });

  it('unknown fields and nulls are ignored', () => {
    assert.deepEqual(otlpJsonToProtobuf(json({ somethingNew: [1, 2], dictionary: null })), new Uint8Array(0));
  });

  it('a value of the wrong type: refused naming its path', () => {
    assert.throws(
      () => otlpJsonToProtobuf(json({ resourceProfiles: [{ scopeProfiles: [{ profiles: [{ period: 'ten' }] }] }] })),
      /^ProfileError: resourceProfiles\[0\]\.scopeProfiles\[0\]\.profiles\[0\]\.period: expected an integer/,
    );
    assert.throws(() => otlpJsonToProtobuf(json({ dictionary: { stringTable: 'x' } })), /dictionary\.stringTable: expected a JSON array/);
    assert.throws(
      () => otlpJsonToProtobuf(json({ dictionary: { stackTable: [{ locationIndices: [2 ** 31] }] } })),
      /outside the range of int32/,
    );
  });

  it('not JSON, or nested too deep, or too many objects for its size: refused before JSON.parse builds them', () => {
    assert.throws(() => otlpJsonToProtobuf(new TextEncoder().encode('{"a":')), /not valid JSON/);
    assert.throws(
      () => otlpJsonToProtobuf(new TextEncoder().encode(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)),
      /deeper than 32 levels/,
    );
    const flat = `[${Array.from({ length: 200_000 }, () => '[]').join(',')}]`;
    assert.throws(() => otlpJsonToProtobuf(new TextEncoder().encode(flat)), /objects and arrays for its \d+ bytes/);
  });
});

describe('OTLP intake: the ExportProfilesServiceResponse', () => {
  const refusal = [{ index: 1, error: new IngestError(400, 'pprof', 'sample 0 has a negative cpu/nanoseconds value') }];

  it('protobuf: empty when everything is stored; partial_success with the count and the reason otherwise', () => {
    const ok = otlpAnswer(request(new Uint8Array(0)), []);
    assert.equal(ok.contentType, 'application/x-protobuf');
    assert.deepEqual(ok.body, new Uint8Array(0));
    const partial = otlpAnswer(request(new Uint8Array(0)), refusal).body as Uint8Array;
    // partial_success (1) { rejected_profiles (1) = 1, error_message (2) }
    assert.deepEqual([...partial.subarray(0, 4)], [0x0a, partial.length - 2, 0x08, 1]);
    assert.match(Buffer.from(partial).toString('utf8'), /profile 1: sample 0 has a negative cpu\/nanoseconds value/);
  });

  it('JSON: {} or partialSuccess', () => {
    const headers = { 'content-type': 'application/json' };
    const text = (body: unknown) => JSON.parse(new TextDecoder().decode(body as Uint8Array)) as unknown;
    const ok = otlpAnswer(request(new Uint8Array(0), headers), []);
    assert.equal(ok.contentType, 'application/json');
    assert.deepEqual(text(ok.body), {});
    assert.deepEqual(text(otlpAnswer(request(new Uint8Array(0), headers), refusal).body), {
      partialSuccess: { rejectedProfiles: '1', errorMessage: 'profile 1: sample 0 has a negative cpu/nanoseconds value' },
    });
  });
});
