import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { blobHour } from './blob-hour.js';
import { parseBlobRef, readBlobRef } from './blob-ref.js';
import type { Blobs } from './blobs.js';
import { FsBlobs } from './fs-blobs.js';
import { type GroupEntry, type GroupPlacement, GroupWriter, type GroupWriterOptions } from './group-writer.js';

/** Blobs whose puts wait for `release` while `held` is set, and that record every put. */
function gatedBlobs(inner: Blobs) {
  const puts: Array<{ key: string; bytes: number }> = [];
  let gate: Promise<void> | null = null;
  let open = (): void => undefined;
  let failNext: Error | null = null;
  const blobs: Blobs = {
    put: async (key, bytes) => {
      puts.push({ key, bytes: bytes.byteLength });
      if (gate !== null) await gate;
      if (failNext !== null) throw failNext;
      await inner.put(key, bytes);
    },
    get: (key) => inner.get(key),
    getRange: (key, offset, length) => inner.getRange(key, offset, length),
    delete: (key) => inner.delete(key),
    list: (prefix) => inner.list(prefix),
    totalBytes: () => inner.totalBytes(),
    close: () => inner.close(),
  };
  return {
    blobs,
    puts,
    hold(): void {
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
    },
    release(): void {
      gate = null;
      open();
    },
    failWith(err: Error | null): void {
      failNext = err;
    },
  };
}

function entry(seed: number, pgo = true): GroupEntry {
  return {
    raw: [Uint8Array.from([seed, seed + 1, seed + 2]), new Uint8Array(0), Uint8Array.from([seed * 2])],
    pgo: pgo ? Uint8Array.from([200, seed]) : null,
  };
}

/** Waits (bounded) until `n` puts were asked for. */
async function putsReach(puts: unknown[], n: number): Promise<void> {
  for (let i = 0; i < 1000 && puts.length < n; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.ok(puts.length >= n, `expected ${n} puts, saw ${puts.length}`);
}

/** A writer over gated blobs, resolved once its first save's group is being written (and held there). */
async function firstGroupHeld(inner: Blobs, options: GroupWriterOptions) {
  const gated = gatedBlobs(inner);
  const writer = new GroupWriter(gated.blobs, options);
  gated.hold();
  const first = writer.write(entry(1));
  await putsReach(gated.puts, 2);
  return { gated, writer, first };
}

describe('GroupWriter', () => {
  let dir: string;
  let fs: FsBlobs;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotpath-group-writer-'));
    fs = await FsBlobs.open(dir);
  });
  afterEach(async () => {
    await fs.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function readsBack(placement: GroupPlacement, written: GroupEntry): Promise<void> {
    assert.equal(placement.raw.length, written.raw.length);
    for (const [i, ref] of placement.raw.entries()) {
      assert.deepEqual(Uint8Array.from((await readBlobRef(fs, ref))!), written.raw[i], ref);
    }
    if (written.pgo === null) assert.equal(placement.pgo, null);
    else assert.deepEqual(Uint8Array.from((await readBlobRef(fs, placement.pgo!))!), written.pgo);
  }

  it('writes a lone save without linger at once, in a pack and a PGO object of its write hour', async () => {
    const gated = gatedBlobs(fs);
    const at = Date.UTC(2026, 0, 2, 3, 4, 5);
    const placed = await new GroupWriter(gated.blobs, { now: () => at, lingerMs: 0 }).write(entry(1));
    await readsBack(placed, entry(1));
    const keys = gated.puts.map((p) => p.key).sort();
    assert.equal(keys.length, 2);
    assert.match(keys[0], new RegExp(`^${blobHour(at)}/[0-9a-f-]{36}/pack$`));
    assert.equal(keys[1], keys[0].replace(/pack$/, 'pgo'));
    assert.deepEqual(
      placed.raw.map((r) => parseBlobRef(r).range),
      [
        { offset: 0, length: 3 },
        { offset: 3, length: 0 },
        { offset: 3, length: 1 },
      ],
    );
    // Without a PGO form, one object.
    const alone = await new GroupWriter(gated.blobs, { lingerMs: 0 }).write(entry(2, false));
    await readsBack(alone, entry(2, false));
    assert.equal(gated.puts.length, 3);
  });

  it('writes the saves that arrive within lingerMs of the first as one group', async () => {
    const gated = gatedBlobs(fs);
    const writer = new GroupWriter(gated.blobs, { lingerMs: 20 });
    const placed = await Promise.all([1, 2, 3].map((seed) => writer.write(entry(seed))));
    for (const [i, p] of placed.entries()) await readsBack(p, entry(i + 1));
    assert.equal(gated.puts.length, 2);
    // A group that fills does not wait for the linger.
    const full = new GroupWriter(gated.blobs, { lingerMs: 3_600_000, maxEntries: 2 });
    await Promise.all([4, 5].map((seed) => full.write(entry(seed))));
    assert.equal(gated.puts.length, 4);
  });

  it('writes the saves that arrive while a group is written as the next group: two objects however many', async () => {
    const { gated, writer, first } = await firstGroupHeld(fs, { lingerMs: 0 });
    const waiting = [2, 3, 4, 5, 6].map((seed) => writer.write(entry(seed, seed !== 4)));
    assert.equal(gated.puts.length, 2, 'the others wait for the first group');
    gated.release();
    await readsBack(await first, entry(1));
    const placed = await Promise.all(waiting);
    for (const [i, p] of placed.entries()) await readsBack(p, entry(i + 2, i + 2 !== 4));
    assert.equal(gated.puts.length, 4);
    assert.equal(new Set(placed.map((p) => parseBlobRef(p.raw[0]).objectKey)).size, 1, 'one pack for the five');
    assert.equal(new Set(placed.flatMap((p) => (p.pgo === null ? [] : [parseBlobRef(p.pgo).objectKey]))).size, 1);
  });

  it('keeps groups within maxEntries and maxBytes, and writes full groups side by side up to maxInFlight', async () => {
    const { gated, writer, first } = await firstGroupHeld(fs, { maxEntries: 2, maxBytes: 1000, maxInFlight: 2, lingerMs: 0 });
    const waiting = [2, 3, 4, 5, 6].map((seed) => writer.write(entry(seed)));
    // Two full groups of two were waiting: one more group starts beside the first (maxInFlight 2).
    await putsReach(gated.puts, 4);
    assert.equal(gated.puts.length, 4);
    gated.release();
    await first;
    const placed = await Promise.all(waiting);
    const packs = placed.map((p) => parseBlobRef(p.raw[0]).objectKey);
    assert.deepEqual(
      [...new Set(packs)].map((k) => packs.filter((x) => x === k).length),
      [2, 2, 1],
    );
    // A save larger than maxBytes is written alone.
    const big: GroupEntry = { raw: [new Uint8Array(5000).fill(7)], pgo: null };
    await readsBack(await writer.write(big), big);
  });

  it('fails every save of a group whose write fails, after both writes settled, and goes on with the next group', async () => {
    const { gated, writer, first } = await firstGroupHeld(fs, { lingerMs: 0 });
    const doomed = [2, 3].map((seed) => writer.write(entry(seed)));
    gated.failWith(new Error('disk full'));
    gated.release();
    await assert.rejects(first, /disk full/);
    for (const d of doomed) await assert.rejects(d, /disk full/);
    gated.failWith(null);
    await readsBack(await writer.write(entry(9)), entry(9));
  });
});
