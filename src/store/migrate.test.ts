import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { blobObjectKey, parseBlobRef } from './blob-ref.js';
import { MigrationMismatchError, type MigrationProgress, migrateStore } from './migrate.js';
import { makeTestRecord } from './profile-index.contract.js';
import type { SqliteProfileIndex } from './sqlite-index.js';
import { SqliteKeyStore } from './sqlite-keys.js';
import { type NewProfile, openSqliteStore, type ProfileStore } from './store.js';
import { overrideIndex } from './testing.js';
import type { ProfileRecord } from './types.js';

function newProfile(service: string): NewProfile {
  const { id: _id, attachments: _a, pgoBlobKey: _p, preparedBlobKey: _q, rawDeleted: _r, ...rest } = makeTestRecord('x', { service });
  return rest;
}

/** A record without its blob keys, which a copy renames. */
function withoutKeys(r: ProfileRecord): unknown {
  return {
    ...r,
    attachments: r.attachments.map(({ blobKey: _, ...a }) => a),
    pgoBlobKey: r.pgoBlobKey === null ? null : 'pgo',
    preparedBlobKey: r.preparedBlobKey === null ? null : 'prepared',
  };
}

describe('migrateStore', () => {
  let dir: string;
  let source: ProfileStore;
  let sourceKeys: SqliteKeyStore;
  let target: ProfileStore;
  let targetKeys: SqliteKeyStore;
  const saved: ProfileRecord[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotpath-migrate-'));
    source = await openSqliteStore(join(dir, 'source'));
    sourceKeys = new SqliteKeyStore(join(dir, 'source', 'keys.sqlite'));
    target = await openSqliteStore(join(dir, 'target'));
    targetKeys = new SqliteKeyStore(join(dir, 'target', 'keys.sqlite'));
    saved.length = 0;
    for (let i = 0; i < 23; i++) {
      saved.push(
        await source.saveProfile(
          newProfile(`svc-${i % 3}`),
          [
            { name: 'cpu.pprof', bytes: Uint8Array.from([i, 1, 2]), compression: 'gzip' },
            { name: 'metrics.json', bytes: Uint8Array.from([i]), compression: 'none' },
          ],
          i % 5 === 0 ? null : Uint8Array.from([9, i]),
          // Some CPU profiles without a prepared form, as those stored before it existed.
          i % 5 === 0 || i % 4 === 3 ? null : Uint8Array.from([8, i, i]),
        ),
      );
    }
    await source.index.markRawDeleted([saved[1].id]);
    await source.blobs.delete(blobObjectKey(saved[1].preparedBlobKey!));
  });
  afterEach(async () => {
    for (const s of [source, target]) await s.close();
    for (const k of [sourceKeys, targetKeys]) await k.close();
    await rm(dir, { recursive: true, force: true });
  });

  const from = () => ({ index: source.index as SqliteProfileIndex, blobs: source.blobs, keys: sourceKeys });
  const to = () => ({ index: target.index, blobs: target.blobs, keys: targetKeys });

  it('copies every profile, blob and key, and verifies them', async () => {
    const api = await sourceKeys.create('api', 'ci');
    const revoked = await sourceKeys.create('app', 'old', ['pgo_read']);
    await sourceKeys.revoke(revoked.key.id);
    const progress: MigrationProgress[] = [];
    const result = await migrateStore(from(), to(), { concurrency: 4, onProgress: (p) => progress.push(p) });
    assert.equal(result.total, 23);
    assert.equal(result.copied, 23);
    assert.equal(result.keysCopied, 2);
    assert.equal(result.targetCount, 23);
    assert.deepEqual(result.missingInSource, []);
    // 22 packs (the 23rd went with its raw data), each holding 2 attachments and maybe a prepared form, and 18 PGO forms.
    assert.equal(result.blobsVerified, 22 + 18);
    assert.ok(progress.length >= 2 && progress.at(-1)?.done === 23, 'progress after every batch');

    for (const record of saved) {
      const copy = await target.getProfile(record.id);
      assert.ok(copy !== null);
      const original = (await source.getProfile(record.id))!;
      assert.deepEqual(withoutKeys(copy), withoutKeys(original));
      assert.deepEqual(await target.readPgo(record.id), await source.readPgo(record.id));
      assert.equal(copy.preparedBlobKey === null, original.preparedBlobKey === null);
      assert.deepEqual(await target.readPreparedOf(copy), await source.readPreparedOf(original));
      if (!original.rawDeleted && original.preparedBlobKey !== null) assert.ok((await target.readPreparedOf(copy)) !== null);
      for (const a of original.rawDeleted ? [] : original.attachments) {
        assert.deepEqual((await target.readAttachment(record.id, a.name))?.bytes, (await source.readAttachment(record.id, a.name))?.bytes);
      }
    }
    assert.equal((await targetKeys.verify(api.secret))?.id, api.key.id, 'a key made before the move still works after it');
    assert.equal(await targetKeys.verify(revoked.secret), null, 'a revoked key stays revoked');
  });

  it('resumes after an interruption without copying twice, and leaves no row without its blobs', async () => {
    let inserts = 0;
    const failing = {
      ...to(),
      index: overrideIndex(target.index, {
        insert: async (record) => {
          if (++inserts > 10) throw new Error('connection lost');
          await target.index.insert(record);
        },
      }),
    };
    await assert.rejects(migrateStore(from(), failing, { concurrency: 1 }), /connection lost/);
    assert.equal(await target.index.count(), 10);
    for (const record of await target.search({ query: '', from: 0, to: Number.MAX_SAFE_INTEGER, limit: 100 })) {
      const raw = record.rawDeleted ? [] : record.attachments.map((a) => a.blobKey);
      const prepared = record.rawDeleted ? null : record.preparedBlobKey;
      for (const key of [...raw, record.pgoBlobKey, prepared]) {
        if (key !== null) assert.notEqual(await target.readBlob(key), null, `${key} of a copied row exists`);
      }
    }
    const result = await migrateStore(from(), to());
    assert.equal(result.alreadyThere, 10);
    assert.equal(result.copied, 13);
    assert.equal(result.targetCount, 23);
  });

  it('refuses a target whose copy differs from the source', async () => {
    await migrateStore(from(), to());
    const copy = (await target.getProfile(saved[3].id))!;
    await target.blobs.put(blobObjectKey(copy.pgoBlobKey!), Uint8Array.from([0, 0]));
    await assert.rejects(
      migrateStore(from(), to()),
      (err: unknown) => err instanceof MigrationMismatchError && err.message.includes(saved[3].id),
    );
  });

  it('refuses a target whose prepared form differs from the source', async () => {
    await migrateStore(from(), to());
    const copy = (await target.getProfile(saved[2].id))!;
    // The prepared form is the end of the pack: change its last byte only, so the attachments still match.
    const pack = Buffer.from((await target.blobs.get(blobObjectKey(copy.preparedBlobKey!)))!);
    pack[pack.length - 1] ^= 0xff;
    await target.blobs.put(blobObjectKey(copy.preparedBlobKey!), pack);
    await assert.rejects(
      migrateStore(from(), to()),
      (err: unknown) => err instanceof MigrationMismatchError && err.message.includes(copy.preparedBlobKey!),
    );
  });

  it('reports blobs the source lost instead of failing the whole move', async () => {
    await source.blobs.delete(blobObjectKey(saved[4].pgoBlobKey!));
    // A pack cut short: the ranges past its end are reported, the others copied.
    const cut = blobObjectKey(saved[6].preparedBlobKey!);
    await source.blobs.put(cut, (await source.blobs.get(cut))!.subarray(0, 4));
    const result = await migrateStore(from(), to());
    assert.deepEqual(
      result.missingInSource.sort((a, b) => a.blobKey.localeCompare(b.blobKey)),
      [
        { profileId: saved[4].id, blobKey: blobObjectKey(saved[4].pgoBlobKey!) },
        { profileId: saved[6].id, blobKey: saved[6].preparedBlobKey! },
      ].sort((a, b) => a.blobKey.localeCompare(b.blobKey)),
    );
    assert.equal(result.copied, 23);
    assert.equal(await target.readPgo(saved[4].id), null, 'lost in the source, gone in the copy');
    const copy = (await target.getProfile(saved[6].id))!;
    assert.equal(await target.readPreparedOf(copy), null);
    assert.deepEqual(Uint8Array.from((await target.readAttachment(saved[6].id, 'cpu.pprof'))!.bytes), Uint8Array.from([6, 1, 2]));
    assert.deepEqual(Uint8Array.from((await target.readAttachment(saved[6].id, 'metrics.json'))!.bytes), Uint8Array.from([6]));
  });

  it('copies only the bytes each record names, one read per object, also from objects shared by profiles saved together', async () => {
    // Saved together: one group sharing a pack and a PGO object.
    const together = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        source.saveProfile(
          newProfile('together'),
          [{ name: 'cpu.pprof', bytes: new Uint8Array(100 + i).fill(i), compression: 'gzip' }],
          Uint8Array.from([i, i, i]),
          Uint8Array.from([7, i]),
        ),
      ),
    );
    assert.equal(new Set(together.map((r) => blobObjectKey(r.attachments[0].blobKey))).size, 1);
    const puts: Array<{ key: string; bytes: number }> = [];
    const reads: string[] = [];
    const counting = {
      ...to(),
      blobs: {
        get: (key: string) => target.blobs.get(key),
        getRange: (key: string, offset: number, length: number) => target.blobs.getRange(key, offset, length),
        put: async (key: string, bytes: Uint8Array) => {
          puts.push({ key, bytes: bytes.byteLength });
          await target.blobs.put(key, bytes);
        },
      },
    };
    const reading = {
      ...from(),
      blobs: {
        get: (key: string) => {
          reads.push(`get ${key}`);
          return source.blobs.get(key);
        },
        getRange: (key: string, offset: number, length: number) => {
          reads.push(`range ${key}`);
          return source.blobs.getRange(key, offset, length);
        },
      },
    };
    const result = await migrateStore(reading, counting);
    assert.equal(result.copied, 27);
    assert.equal(puts.length, 22 + 18 + 4 + 4, 'one pack and one PGO object per copied profile');
    assert.equal(new Set(puts.map((p) => p.key)).size, puts.length, 'no copy shares an object');
    assert.equal(reads.length, puts.length, 'one read per object a record names');
    assert.ok(
      reads.every((r) => r.startsWith('range ')),
      'ranges are read, never a whole shared object',
    );
    // Each copy holds its own bytes only: the group's pack is not copied once per profile.
    for (const record of together) {
      const copy = (await target.getProfile(record.id))!;
      const pack = puts.find((p) => p.key === blobObjectKey(copy.attachments[0].blobKey))!;
      assert.equal(pack.bytes, record.attachments[0].size + 2);
      assert.deepEqual(
        (await target.readAttachment(record.id, 'cpu.pprof'))?.bytes,
        (await source.readAttachment(record.id, 'cpu.pprof'))?.bytes,
      );
      assert.deepEqual(await target.readPgo(record.id), await source.readPgo(record.id));
      assert.deepEqual(await target.readPreparedOf(copy), await source.readPreparedOf(record));
    }
    const again = await migrateStore(from(), to());
    assert.equal(again.alreadyThere, 27);
  });

  it('copies profiles stored with one object per blob (plain keys, before packs) into the layout a save writes now', async () => {
    const record: ProfileRecord = {
      ...makeTestRecord('plain-keys', { service: 'old' }),
      attachments: [
        { name: 'cpu.pprof', blobKey: '2025010100/plain-keys/raw-0-cpu.pprof', size: 3, compression: 'gzip' },
        { name: 'metrics.json', blobKey: '2025010100/plain-keys/raw-1-metrics.json', size: 1, compression: 'none' },
      ],
      pgoBlobKey: '2025010100/plain-keys/pgo',
      preparedBlobKey: '2025010100/plain-keys/prepared',
      rawDeleted: false,
    };
    await source.blobs.put(record.attachments[0].blobKey, Uint8Array.from([1, 2, 3]));
    await source.blobs.put(record.attachments[1].blobKey, Uint8Array.from([4]));
    await source.blobs.put(record.pgoBlobKey!, Uint8Array.from([5, 5]));
    await source.blobs.put(record.preparedBlobKey!, Uint8Array.from([6]));
    await source.index.insert(record);
    const result = await migrateStore(from(), to());
    assert.equal(result.copied, 24);
    const copy = (await target.getProfile(record.id))!;
    // Packed as a save writes them now: the raw parts in one object, the PGO form in another.
    assert.deepEqual(
      [...copy.attachments.map((a) => a.blobKey), copy.preparedBlobKey!].map((ref) => parseBlobRef(ref).range),
      [
        { offset: 0, length: 3 },
        { offset: 3, length: 1 },
        { offset: 4, length: 1 },
      ],
    );
    assert.deepEqual(parseBlobRef(copy.pgoBlobKey!).range, { offset: 0, length: 2 });
    assert.deepEqual(Uint8Array.from((await target.readAttachment(record.id, 'cpu.pprof'))!.bytes), Uint8Array.from([1, 2, 3]));
    assert.deepEqual(Uint8Array.from((await target.readAttachment(record.id, 'metrics.json'))!.bytes), Uint8Array.from([4]));
    assert.deepEqual(Uint8Array.from((await target.readPgo(record.id))!), Uint8Array.from([5, 5]));
    assert.deepEqual(Uint8Array.from((await target.readPreparedOf(copy))!), Uint8Array.from([6]));
    // Run again: verified reference by reference, not copied twice.
    const again = await migrateStore(from(), to());
    assert.equal(again.copied, 0);
    assert.equal(again.alreadyThere, 24);
  });
});
