import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { encodeProfile } from '../pprof/encode.js';
import { parseProfile } from '../pprof/parse.js';
import { valueIndex } from '../pprof/profile.js';
import { profileStats } from '../pprof/stats.js';
import type { Blobs } from '../store/blobs.js';
import { openSqliteStore, ProfileStore } from '../store/store.js';
import { fixture } from '../testing/fixtures.js';
import { protobufProblem } from './attachments.js';
import { analyzeCpuProfile } from './cpu-analysis.js';
import { IngestError } from './errors.js';
import { ingestProfile } from './pipeline.js';
import type { IngestedProfile } from './record.js';

const MiB = 1024 * 1024;
const cpu = readFileSync(fixture('cpu-small-1.pprof'));
const heap = readFileSync(fixture('heap.pprof'));
const gzipBomb = gzipSync(Buffer.alloc(80 * MiB), { level: 9 });
const zstdBomb = execFileSync('zstd', ['-q', '-1', '-c'], { input: Buffer.alloc(80 * MiB), maxBuffer: 16 * MiB });

/** A datadog-like upload of the real CPU profile plus `extra` attachments. */
function upload(extra: Array<{ name: string; bytes: Uint8Array }>, cpuBytes: Uint8Array = cpu): IngestedProfile {
  return {
    protocol: 'datadog',
    start: Date.now() - 60_000,
    end: Date.now(),
    tags: [['service', 'pipeline-test']],
    attachments: [{ name: 'cpu.pprof', bytes: cpuBytes }, ...extra],
    cpuAttachment: 'cpu.pprof',
    endpointCounts: null,
  };
}

describe('ingestProfile checks what it stores', () => {
  let dir: string;
  let store: ProfileStore;
  const options = { maxDecompressedBytes: 64 * MiB };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotpath-pipeline-'));
    store = await openSqliteStore(dir);
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Asserts that ingesting `u` is refused with `status` and a matching message, and that nothing was stored. */
  async function refused(u: IngestedProfile, status: number, pattern: RegExp): Promise<void> {
    const before = await store.index.count();
    await assert.rejects(ingestProfile(store, u, options), (err: unknown) => {
      assert.ok(err instanceof IngestError, `expected IngestError, got ${String(err)}`);
      assert.match(err.message, pattern);
      assert.equal(err.status, status, err.message);
      return true;
    });
    assert.equal(await store.index.count(), before, 'nothing stored');
  }

  it('refuses a CPU profile with a negative sample value, naming the sample', async () => {
    const p = parseProfile(cpu);
    const V = p.sampleTypes.length >> 1;
    const column = valueIndex(p, 'cpu', 'nanoseconds');
    p.samples.values[3 * V + column] = -10_000_000;
    const diff = encodeProfile(p);
    await refused(upload([], diff), 400, /^cpu\.pprof: sample 3 has a negative cpu\/nanoseconds value \(-10000000\)/);
    // The same profile is still readable offline (hotpath inspect of a diff profile).
    assert.equal(profileStats(parseProfile(diff)).sampleRecords, p.samples.count);
  });

  it('refuses gzip and zstd bombs as the CPU profile with 413', async () => {
    await refused(upload([], gzipBomb), 413, /^cpu\.pprof: decompressed size exceeds the limit of 67108864 bytes/);
    await refused(upload([], zstdBomb), 413, /^cpu\.pprof: decompressed size exceeds the limit of 67108864 bytes/);
  });

  it('refuses pprof-named attachments that are bombs or not protobuf', async () => {
    await refused(upload([{ name: 'delta-heap.pprof', bytes: gzipBomb }]), 413, /^delta-heap\.pprof: decompressed size exceeds the limit/);
    await refused(upload([{ name: 'goroutines.pprof', bytes: zstdBomb }]), 413, /^goroutines\.pprof: decompressed size exceeds/);
    await refused(
      upload([{ name: 'delta-heap.pprof', bytes: gzipSync('{"this": "is json"}') }]),
      400,
      /^attachment delta-heap\.pprof is named like a pprof profile but is not one: /,
    );
    await refused(
      upload([{ name: 'heap.pb.gz', bytes: Buffer.from('plain text, not protobuf') }]),
      400,
      /heap\.pb\.gz is named like a pprof/,
    );
    await refused(upload([{ name: 'mutex.pprof', bytes: cpu.subarray(0, cpu.length >> 1) }]), 400, /^mutex\.pprof: truncated gzip/);
  });

  it('refuses compressed attachments of any name that inflate beyond the limit', async () => {
    await refused(upload([{ name: 'go.trace', bytes: zstdBomb }]), 413, /^go\.trace: decompressed size exceeds the limit/);
    await refused(upload([{ name: 'metrics.json', bytes: gzipBomb }]), 413, /^metrics\.json: decompressed size exceeds the limit/);
  });

  it('stores real pprof attachments, compressed non-pprof ones and opaque ones as received', async () => {
    const opaque = Buffer.from('\u0000 any bytes at all \xff');
    const trace = execFileSync('zstd', ['-q', '-c'], { input: Buffer.from('go 1.23 trace\u0000\u0000\u0000 not protobuf') });
    const record = await ingestProfile(
      store,
      upload([
        { name: 'delta-heap.pprof', bytes: heap },
        { name: 'heap-raw.pprof', bytes: encodeProfile(parseProfile(heap)) },
        { name: 'go.trace', bytes: trace },
        { name: 'metrics.json', bytes: opaque },
      ]),
      options,
    );
    assert.deepEqual(
      record.attachments.map((a) => a.name),
      ['cpu.pprof', 'delta-heap.pprof', 'heap-raw.pprof', 'go.trace', 'metrics.json'],
    );
    assert.deepEqual(Buffer.from((await store.readAttachment(record.id, 'metrics.json'))?.bytes ?? []), opaque);
  });

  it('stores the prepared form built from the CPU profile beside the raw attachments, which stay as received', async () => {
    const record = await ingestProfile(store, upload([{ name: 'delta-heap.pprof', bytes: heap }]), options);
    assert.ok(record.preparedBlobKey !== null);
    assert.deepEqual(await store.getProfile(record.id), record);
    // Built in the worker, transferred back and stored: the same bytes as built on this thread.
    const expected = analyzeCpuProfile(cpu, options.maxDecompressedBytes).preparedBytes;
    assert.deepEqual(Buffer.from((await store.readPreparedOf(record))!), Buffer.from(expected));
    assert.deepEqual(Buffer.from((await store.readAttachment(record.id, 'cpu.pprof'))!.bytes), cpu);
    assert.deepEqual(Buffer.from((await store.readAttachment(record.id, 'delta-heap.pprof'))!.bytes), heap);
  });

  it('stores no prepared form for an upload without a CPU profile', async () => {
    const record = await ingestProfile(store, { ...upload([{ name: 'delta-heap.pprof', bytes: heap }]), cpuAttachment: null }, options);
    assert.equal(record.preparedBlobKey, null);
    assert.equal(record.pgoBlobKey, null);
    assert.equal(await store.readPreparedOf(record), null);
  });

  it('makes nothing visible when the pack holding the raw data and the prepared form cannot be written', async () => {
    const failing: Blobs = {
      put: async (key, bytes) => {
        if (key.endsWith('/pack')) throw new Error('disk full');
        await store.blobs.put(key, bytes);
      },
      get: (key) => store.blobs.get(key),
      getRange: (key, offset, length) => store.blobs.getRange(key, offset, length),
      delete: (key) => store.blobs.delete(key),
      list: (prefix) => store.blobs.list(prefix),
      totalBytes: () => store.blobs.totalBytes(),
      close: async () => undefined,
    };
    const before = await store.index.count();
    const u = { ...upload([]), tags: [['service', 'prepared-write-fails']] as Array<[string, string]> };
    await assert.rejects(ingestProfile(new ProfileStore(store.index, failing), u, options), /disk full/);
    assert.equal(await store.index.count(), before);
    assert.deepEqual(await store.search({ query: 'service:prepared-write-fails', from: 0, to: Date.now() * 2, limit: 10 }), []);
  });
});

describe('protobuf shape check', () => {
  it('accepts real profiles and the empty message, refuses other formats', () => {
    assert.equal(protobufProblem(encodeProfile(parseProfile(heap)), 16), null);
    assert.equal(protobufProblem(new Uint8Array(0), 16), null);
    assert.match(protobufProblem(Buffer.from('{"json": true}'), 16) ?? '', /wire type|truncated|claims/);
    assert.match(protobufProblem(Buffer.from([0x00, 0x01]), 16) ?? '', /field number 0/);
    assert.match(protobufProblem(Buffer.from([0x0a, 0x7f, 0x01]), 16) ?? '', /claims 127 bytes but only 1 remain/);
  });
});
