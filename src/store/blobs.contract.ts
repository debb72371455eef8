import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type BlobInfo, type Blobs, MAX_BLOB_KEY_LENGTH } from './blobs.js';
import { BlobRangeError, InvalidBlobKeyError } from './errors.js';

/**
 * One instance of a Blobs implementation under test. `reopen` closes `blobs` and returns a new
 * instance over the same storage (as after a restart); `cleanup` closes whatever is open and
 * removes the storage.
 */
export interface BlobsHarness {
  blobs: Blobs;
  reopen(): Promise<Blobs>;
  cleanup(): Promise<void>;
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

async function listAll(blobs: Blobs): Promise<BlobInfo[]> {
  const out: BlobInfo[] = [];
  for await (const b of blobs.list()) out.push(b);
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}

/** Copies a returned view so that Buffer and Uint8Array results compare by content. */
function plain(b: Uint8Array | null): Uint8Array | null {
  return b === null ? null : Uint8Array.from(b);
}

/**
 * The behaviour every Blobs implementation must have. Call it from the implementation's test
 * file with a factory that makes a fresh, empty storage per test.
 */
export function blobsContract(name: string, makeBlobs: () => Promise<BlobsHarness>): void {
  describe(`Blobs contract: ${name}`, () => {
    let harness: BlobsHarness;
    let blobs: Blobs;
    beforeEach(async () => {
      harness = await makeBlobs();
      blobs = harness.blobs;
    });
    afterEach(async () => {
      await harness.cleanup();
    });
    it('returns what was put, byte for byte, including empty and binary content', async () => {
      const all = new Uint8Array(256).map((_, i) => i);
      await blobs.put('a', all);
      await blobs.put('empty', new Uint8Array(0));
      assert.deepEqual(plain(await blobs.get('a')), all);
      assert.deepEqual(plain(await blobs.get('empty')), new Uint8Array(0));
    });

    it('returns null for a key never put', async () => {
      assert.equal(await blobs.get('missing'), null);
      assert.equal(await blobs.get('dir/missing'), null);
    });

    it('reads exactly the asked range of a blob: start, middle, end, whole, empty', async () => {
      const all = new Uint8Array(300).map((_, i) => i % 251);
      await blobs.put('pack', all);
      assert.deepEqual(plain(await blobs.getRange('pack', 0, 3)), all.slice(0, 3));
      assert.deepEqual(plain(await blobs.getRange('pack', 100, 157)), all.slice(100, 257));
      assert.deepEqual(plain(await blobs.getRange('pack', 297, 3)), all.slice(297));
      assert.deepEqual(plain(await blobs.getRange('pack', 0, 300)), all);
      assert.deepEqual(plain(await blobs.getRange('pack', 42, 0)), new Uint8Array(0));
      assert.deepEqual(plain(await blobs.getRange('pack', 300, 0)), new Uint8Array(0));
      await blobs.put('empty', new Uint8Array(0));
      assert.deepEqual(plain(await blobs.getRange('empty', 0, 0)), new Uint8Array(0));
    });

    it('returns null for a range of a missing blob', async () => {
      assert.equal(await blobs.getRange('missing', 0, 1), null);
      assert.equal(await blobs.getRange('dir/missing', 5, 0), null);
    });

    it('rejects a range past the end of the blob with BlobRangeError, never answering fewer bytes', async () => {
      await blobs.put('short', bytes(1, 2, 3, 4));
      for (const [offset, length] of [
        [0, 5],
        [3, 2],
        [4, 1],
        [5, 0],
        [100, 1],
        [1, Number.MAX_SAFE_INTEGER - 1],
      ]) {
        await assert.rejects(blobs.getRange('short', offset, length), BlobRangeError, `${offset}+${length}`);
      }
      assert.deepEqual(plain(await blobs.getRange('short', 3, 1)), bytes(4));
    });

    it('rejects a malformed range or key before touching the storage', async () => {
      await blobs.put('k', bytes(1, 2));
      for (const [offset, length] of [
        [-1, 1],
        [0, -1],
        [0.5, 1],
        [0, Number.NaN],
        [Number.MAX_SAFE_INTEGER, 1],
        [2 ** 53, 0],
        [0, Number.POSITIVE_INFINITY],
      ]) {
        await assert.rejects(blobs.getRange('k', offset, length), RangeError, `${offset}+${length}`);
      }
      await assert.rejects(blobs.getRange('../k', 0, 1), InvalidBlobKeyError);
      await assert.rejects(blobs.getRange('k#0+1', 0, 1), InvalidBlobKeyError);
    });

    it('keeps the bytes as they were at put, whatever the caller does to its array afterwards', async () => {
      const b = bytes(1, 2, 3);
      await blobs.put('k', b);
      b[0] = 9;
      assert.deepEqual(plain(await blobs.get('k')), bytes(1, 2, 3));
    });

    it('stores a view of a larger buffer as only the viewed bytes', async () => {
      const backing = bytes(0, 1, 2, 3, 4, 5);
      await blobs.put('view', backing.subarray(2, 4));
      assert.deepEqual(plain(await blobs.get('view')), bytes(2, 3));
    });

    it('replaces the bytes when a key is put again', async () => {
      await blobs.put('k', bytes(1, 2, 3, 4));
      await blobs.put('k', bytes(5));
      assert.deepEqual(plain(await blobs.get('k')), bytes(5));
      const listed = await listAll(blobs);
      assert.deepEqual(
        listed.map((b) => [b.key, b.size]),
        [['k', 1]],
      );
    });

    it('ends concurrent puts of one key with one of the values complete, never a mix', async () => {
      const a = new Uint8Array(100_000).fill(1);
      const b = new Uint8Array(50_000).fill(2);
      await Promise.all([blobs.put('race', a), blobs.put('race', b), blobs.put('race', a)]);
      const got = plain(await blobs.get('race'))!;
      assert.ok(
        (got.length === a.length && got.every((x) => x === 1)) || (got.length === b.length && got.every((x) => x === 2)),
        'one complete value',
      );
    });

    it('keeps keys that share prefixes or differ only in "/" apart', async () => {
      const keys = ['p', 'p/q', 'p/q/r', 'p.q', 'p-q', 'p_q', 'P', 'pq/r'];
      for (const [i, key] of keys.entries()) await blobs.put(key, bytes(i));
      for (const [i, key] of keys.entries()) assert.deepEqual(plain(await blobs.get(key)), bytes(i), key);
      assert.deepEqual((await listAll(blobs)).map((b) => b.key).sort(), [...keys].sort());
    });

    it('deletes a key, and deleting a missing key is not an error', async () => {
      await blobs.put('x/y', bytes(1));
      await blobs.delete('x/y');
      assert.equal(await blobs.get('x/y'), null);
      await blobs.delete('x/y');
      await blobs.delete('never');
      assert.deepEqual(await listAll(blobs), []);
    });

    it('lists every blob with its size and a write time, and sums the sizes', async () => {
      const before = Date.now();
      await blobs.put('one', bytes(1));
      await blobs.put('two/2', bytes(1, 2));
      await blobs.put('three/3/3', new Uint8Array(3000));
      const afterPut = Date.now();
      const listed = await listAll(blobs);
      assert.deepEqual(
        listed.map((b) => [b.key, b.size]),
        [
          ['one', 1],
          ['three/3/3', 3000],
          ['two/2', 2],
        ],
      );
      for (const b of listed) {
        // Clock agreement, not speed: file-system timestamps may be coarser than Date.now().
        assert.ok(b.modifiedMs >= before - 2000 && b.modifiedMs <= afterPut + 2000, `${b.key} modifiedMs ${b.modifiedMs}`);
      }
      assert.equal(await blobs.totalBytes(), 3003);
    });

    it('is empty when new', async () => {
      assert.deepEqual(await listAll(blobs), []);
      assert.equal(await blobs.totalBytes(), 0);
    });

    it('handles many keys', async () => {
      const keys = Array.from({ length: 300 }, (_, i) => `profile-${i}/raw-0-cpu.pprof`);
      await Promise.all(keys.map((k, i) => blobs.put(k, bytes(i % 256))));
      assert.equal((await listAll(blobs)).length, 300);
      assert.deepEqual(plain(await blobs.get(keys[257])), bytes(1));
    });

    it('rejects unsafe keys in every method without touching storage', async () => {
      const bad = [
        '',
        '..',
        '.',
        '../x',
        'a/../b',
        'a/./b',
        '/abs',
        'trailing/',
        'a//b',
        '.hidden',
        'a/.hidden',
        'a b',
        'a\\b',
        'a%b',
        'a:b',
        'é',
        'a\nb',
        'x'.repeat(MAX_BLOB_KEY_LENGTH + 1),
      ];
      for (const key of bad) {
        await assert.rejects(blobs.put(key, bytes(1)), InvalidBlobKeyError, `put ${JSON.stringify(key)}`);
        await assert.rejects(blobs.get(key), InvalidBlobKeyError, `get ${JSON.stringify(key)}`);
        await assert.rejects(blobs.delete(key), InvalidBlobKeyError, `delete ${JSON.stringify(key)}`);
      }
      assert.deepEqual(await listAll(blobs), []);
      await blobs.put('x'.repeat(MAX_BLOB_KEY_LENGTH), bytes(1));
      await blobs.put('Az09._-/b', bytes(1));
    });

    it('keeps its contents across close and reopen', async () => {
      await blobs.put('keep/me', bytes(7, 8));
      await blobs.put('gone', bytes(1));
      await blobs.delete('gone');
      blobs = await harness.reopen();
      assert.deepEqual(plain(await blobs.get('keep/me')), bytes(7, 8));
      assert.equal(await blobs.get('gone'), null);
      assert.deepEqual(
        (await listAll(blobs)).map((b) => b.key),
        ['keep/me'],
      );
    });

    it('can be closed twice', async () => {
      await blobs.close();
      await blobs.close();
    });
  });
}
