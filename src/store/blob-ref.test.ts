import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { blobObjectKey, formatBlobRef, MAX_BLOB_REF_LENGTH, parseBlobRef, readBlobRef } from './blob-ref.js';
import { MAX_BLOB_KEY_LENGTH } from './blobs.js';
import { BlobRangeError, InvalidBlobKeyError } from './errors.js';
import { FsBlobs } from './fs-blobs.js';

describe('blob references', () => {
  it('reads a plain key as the whole object, as every profile stored before packs names its blobs', () => {
    assert.deepEqual(parseBlobRef('2026010100/abc/raw-0-cpu.pprof'), { objectKey: '2026010100/abc/raw-0-cpu.pprof', range: null });
    assert.deepEqual(parseBlobRef('pgo'), { objectKey: 'pgo', range: null });
  });

  it('reads a ranged reference and formats it back identically', () => {
    assert.deepEqual(parseBlobRef('h/id/pack#0+0'), { objectKey: 'h/id/pack', range: { offset: 0, length: 0 } });
    assert.deepEqual(parseBlobRef('h/id/pack#12+345'), { objectKey: 'h/id/pack', range: { offset: 12, length: 345 } });
    const max = Number.MAX_SAFE_INTEGER;
    assert.deepEqual(parseBlobRef(`k#0+${max}`).range, { offset: 0, length: max });
    assert.deepEqual(parseBlobRef(`k#${max}+0`).range, { offset: max, length: 0 });
    for (const [offset, length] of [
      [0, 0],
      [7, 9],
      [1_000_000, 123_456_789],
    ]) {
      const ref = formatBlobRef('a/b/pack', offset, length);
      assert.deepEqual(parseBlobRef(ref), { objectKey: 'a/b/pack', range: { offset, length } });
    }
    assert.equal(blobObjectKey('a/b/pack#3+4'), 'a/b/pack');
    assert.equal(blobObjectKey('a/b/pgo'), 'a/b/pgo');
  });

  it('rejects every malformed or hostile reference with InvalidBlobKeyError naming it', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const bad = [
      '',
      '#0+1',
      'k#',
      'k#1',
      'k#1+',
      'k#+1',
      'k#01+1',
      'k#1+01',
      'k#-1+1',
      'k#1+-1',
      'k#1.0+1',
      'k#1e3+1',
      'k#0x10+1',
      'k# 1+1',
      'k#1+1 ',
      'k#1+1#2+2',
      'k#1+1+1',
      'k#1+1\n',
      `k#${max}+1`,
      `k#1+${max}`,
      'k#99999999999999999+0',
      'k#0+12345678901234567',
      '../etc/passwd#0+1',
      'a/../b#0+1',
      '/abs#0+1',
      'a//b#0+1',
      '.hidden#0+1',
      'a b#0+1',
      'é#0+1',
      'k#١+٢',
      `${'x'.repeat(MAX_BLOB_KEY_LENGTH + 1)}#0+1`,
      'x'.repeat(MAX_BLOB_REF_LENGTH + 1),
      '../k',
    ];
    for (const ref of bad) assert.throws(() => parseBlobRef(ref), InvalidBlobKeyError, JSON.stringify(ref));
    assert.throws(() => parseBlobRef('k#01+1'), /k#01\+1/);
    assert.throws(() => parseBlobRef(42 as unknown as string), InvalidBlobKeyError);
  });

  it('refuses to format a reference that would not parse back', () => {
    for (const [key, offset, length] of [
      ['k', -1, 1],
      ['k', 0, -1],
      ['k', 0.5, 1],
      ['k', Number.MAX_SAFE_INTEGER, 1],
      ['k', Number.NaN, 0],
      ['k#0+1', 0, 1],
      ['../k', 0, 1],
    ] as const) {
      assert.throws(() => formatBlobRef(key, offset, length), InvalidBlobKeyError, `${key} ${offset}+${length}`);
    }
  });

  it('resolves a plain key to the whole object and a range to exactly its bytes, null for a missing object', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hotpath-blobref-'));
    const blobs = await FsBlobs.open(dir);
    try {
      await blobs.put('h/id/pack', Uint8Array.from([1, 2, 3, 4, 5]));
      assert.deepEqual(Uint8Array.from((await readBlobRef(blobs, 'h/id/pack'))!), Uint8Array.from([1, 2, 3, 4, 5]));
      assert.deepEqual(Uint8Array.from((await readBlobRef(blobs, 'h/id/pack#1+3'))!), Uint8Array.from([2, 3, 4]));
      assert.equal((await readBlobRef(blobs, 'h/id/pack#5+0'))?.byteLength, 0);
      assert.equal(await readBlobRef(blobs, 'h/id/gone#0+1'), null);
      assert.equal(await readBlobRef(blobs, 'h/id/gone'), null);
      await assert.rejects(readBlobRef(blobs, 'h/id/pack#3+3'), BlobRangeError);
      await assert.rejects(readBlobRef(blobs, 'h/id/pack#3+x'), InvalidBlobKeyError);
    } finally {
      await blobs.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
