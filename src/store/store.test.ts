import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { blobObjectKey, parseBlobRef } from './blob-ref.js';
import type { Blobs } from './blobs.js';
import { BlobRangeError } from './errors.js';
import { makeTestRecord } from './profile-index.contract.js';
import { profileObjects } from './profile-objects.js';
import { enforceRetention } from './retention.js';
import { type NewAttachment, type NewProfile, openSqliteStore, ProfileStore } from './store.js';
import { overrideIndex } from './testing.js';
import type { ProfileRecord } from './types.js';

const HOUR = 60 * 60 * 1000;

function newProfile(overrides: Parameters<typeof makeTestRecord>[1] = {}): NewProfile {
  const {
    id: _id,
    attachments: _a,
    pgoBlobKey: _p,
    preparedBlobKey: _q,
    rawDeleted: _r,
    ...rest
  } = makeTestRecord('x', { receivedAt: Date.now(), ...overrides });
  return rest;
}

const ATTACHMENTS: NewAttachment[] = [
  { name: 'cpu.pprof', bytes: Uint8Array.from([1, 2, 3]), compression: 'zstd' },
  { name: 'delta-heap.pprof', bytes: Uint8Array.from([4, 5]), compression: 'gzip' },
];
const PGO = Uint8Array.from([7, 7, 7, 7]);
const PREPARED = Uint8Array.from([5, 6]);

/** The objects a record names, sorted like blobKeys' listing. */
function objectsOf(...records: ProfileRecord[]): string[] {
  return records.flatMap((r) => profileObjects(r).map((o) => o.key)).sort();
}

async function blobKeys(blobs: Blobs): Promise<string[]> {
  const keys: string[] = [];
  for await (const b of blobs.list()) keys.push(b.key);
  return keys.sort();
}

describe('ProfileStore', () => {
  let dir: string;
  let store: ProfileStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotpath-store-'));
    store = await openSqliteStore(dir);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('saves a profile that can be found, read back and survives a restart', async () => {
    const record = await store.saveProfile(newProfile({ service: 'checkout' }), ATTACHMENTS, PGO, PREPARED);
    assert.deepEqual(
      record.attachments.map((a) => [a.name, a.size, a.compression]),
      [
        ['cpu.pprof', 3, 'zstd'],
        ['delta-heap.pprof', 2, 'gzip'],
      ],
    );
    assert.equal(record.rawDeleted, false);
    assert.deepEqual(await store.getProfile(record.id), record);
    const found = await store.search({ query: 'service:checkout', from: 0, to: Date.now() * 2, limit: 10 });
    assert.deepEqual(
      found.map((r) => r.id),
      [record.id],
    );
    assert.deepEqual(Uint8Array.from((await store.readAttachment(record.id, 'cpu.pprof'))!.bytes), ATTACHMENTS[0].bytes);
    assert.equal(await store.readAttachment(record.id, 'missing.pprof'), null);
    assert.equal(await store.readAttachment('no-such-id', 'cpu.pprof'), null);
    assert.deepEqual(Uint8Array.from((await store.readPgo(record.id))!), PGO);
    // One pack holds the attachments and then the prepared form, each named by its range.
    const pack = `${blobObjectKey(record.pgoBlobKey!).slice(0, -'pgo'.length)}pack`;
    assert.deepEqual([...record.attachments.map((a) => a.blobKey), record.preparedBlobKey], [`${pack}#0+3`, `${pack}#3+2`, `${pack}#5+2`]);
    assert.equal(record.pgoBlobKey, `${blobObjectKey(record.pgoBlobKey!)}#0+4`);
    assert.deepEqual(Uint8Array.from((await store.readAttachment(record.id, 'delta-heap.pprof'))!.bytes), ATTACHMENTS[1].bytes);
    assert.deepEqual(Uint8Array.from((await store.readPreparedOf(record))!), PREPARED);

    await store.close();
    store = await openSqliteStore(dir);
    const reopened = (await store.getProfile(record.id))!;
    assert.deepEqual(reopened, record);
    assert.deepEqual(Uint8Array.from((await store.readPgo(record.id))!), PGO);
    assert.deepEqual(Uint8Array.from((await store.readPreparedOf(reopened))!), PREPARED);
  });

  it('writes exactly two objects per save, and every attachment reads back byte-identical from its range', async () => {
    const three: NewAttachment[] = [
      { name: 'cpu.pprof', bytes: new Uint8Array(1000).map((_, i) => i * 7), compression: 'gzip' },
      { name: 'delta-heap.pprof', bytes: new Uint8Array(0), compression: 'gzip' },
      { name: 'metrics.json', bytes: new TextEncoder().encode('{"a":1}'), compression: 'none' },
    ];
    const record = await store.saveProfile(newProfile(), three, PGO, PREPARED);
    const objects = await blobKeys(store.blobs);
    assert.deepEqual(objects, objectsOf(record));
    assert.equal(objects.length, 2);
    for (const a of three) {
      assert.deepEqual(Uint8Array.from((await store.readAttachment(record.id, a.name))!.bytes), a.bytes, a.name);
    }
    assert.deepEqual(Uint8Array.from((await store.readPreparedOf(record))!), PREPARED);
    assert.deepEqual(Uint8Array.from((await store.readPgo(record.id))!), PGO);
    // Without a CPU profile there is no PGO form: one object.
    await store.saveProfile(newProfile(), three.slice(1), null, null);
    assert.equal((await blobKeys(store.blobs)).length, 3);
  });

  it('reads profiles stored before packs (one object per blob, plain keys) as before, also after a restart', async () => {
    const prefix = '2025060112/before-packs';
    const record: ProfileRecord = {
      ...makeTestRecord('before-packs', { service: 'old', receivedAt: Date.now() }),
      attachments: [
        { name: 'cpu.pprof', blobKey: `${prefix}/raw-0-cpu.pprof`, size: 3, compression: 'zstd' },
        { name: 'delta-heap.pprof', blobKey: `${prefix}/raw-1-delta-heap.pprof`, size: 2, compression: 'gzip' },
      ],
      pgoBlobKey: `${prefix}/pgo`,
      preparedBlobKey: `${prefix}/prepared`,
      rawDeleted: false,
    };
    await store.blobs.put(record.attachments[0].blobKey, ATTACHMENTS[0].bytes);
    await store.blobs.put(record.attachments[1].blobKey, ATTACHMENTS[1].bytes);
    await store.blobs.put(record.pgoBlobKey!, PGO);
    await store.blobs.put(record.preparedBlobKey!, PREPARED);
    await store.index.insert(record);
    await store.close();
    store = await openSqliteStore(dir);
    const reopened = (await store.getProfile(record.id))!;
    assert.deepEqual(reopened, record);
    assert.deepEqual(Uint8Array.from((await store.readAttachment(record.id, 'cpu.pprof'))!.bytes), ATTACHMENTS[0].bytes);
    assert.deepEqual(Uint8Array.from((await store.readAttachment(record.id, 'delta-heap.pprof'))!.bytes), ATTACHMENTS[1].bytes);
    assert.deepEqual(Uint8Array.from((await store.readPgo(record.id))!), PGO);
    assert.deepEqual(Uint8Array.from((await store.readPreparedOf(reopened))!), PREPARED);
    assert.deepEqual((await store.index.referencedBlobKeys(await blobKeys(store.blobs))).size, 4);
  });

  it('reads a damaged pack (shorter than a range) as an error naming the object, never as other bytes', async () => {
    const record = await store.saveProfile(newProfile(), ATTACHMENTS, PGO, PREPARED);
    const pack = blobObjectKey(record.preparedBlobKey!);
    await store.blobs.put(pack, Uint8Array.from([1, 2, 3, 4]));
    assert.deepEqual(Uint8Array.from((await store.readAttachment(record.id, 'cpu.pprof'))!.bytes), Uint8Array.from([1, 2, 3]));
    await assert.rejects(
      store.readAttachment(record.id, 'delta-heap.pprof'),
      (err: unknown) => err instanceof BlobRangeError && err.message.includes(pack),
    );
    await assert.rejects(store.readPreparedOf(record), BlobRangeError);
  });

  it('gives each profile a fresh id and blob keys that never collide', async () => {
    const a = await store.saveProfile(newProfile(), ATTACHMENTS, PGO, PREPARED);
    const b = await store.saveProfile(newProfile(), ATTACHMENTS, PGO, PREPARED);
    assert.notEqual(a.id, b.id);
    const keys = [a, b].flatMap((r) => [...r.attachments.map((x) => x.blobKey), r.pgoBlobKey!, r.preparedBlobKey!]);
    assert.equal(new Set(keys).size, 8);
    assert.deepEqual(await blobKeys(store.blobs), objectsOf(a, b));
    assert.equal(new Set(objectsOf(a, b)).size, 4);
  });

  it('makes safe blob keys from any attachment name and keeps the name as sent', async () => {
    const names = ['../../etc/passwd', '.hidden', 'a b:c', '', 'é🔥', 'x'.repeat(500), 'cpu.pprof', 'cpu.pprof'];
    const record = await store.saveProfile(
      newProfile(),
      names.map((name, i) => ({ name, bytes: Uint8Array.from([i]), compression: 'none' as const })),
      null,
      null,
    );
    assert.deepEqual(
      record.attachments.map((a) => a.name),
      names,
    );
    for (const a of record.attachments) parseBlobRef(a.blobKey);
    assert.equal(new Set(record.attachments.map((a) => a.blobKey)).size, names.length);
    assert.equal(record.pgoBlobKey, null);
    assert.equal(await store.readPgo(record.id), null);
    assert.equal(record.preparedBlobKey, null);
    assert.equal(await store.readPreparedOf(record), null);
    assert.deepEqual(Uint8Array.from((await store.readAttachment(record.id, '../../etc/passwd'))!.bytes), Uint8Array.from([0]));
  });

  it('writes every blob before the index row, and all are readable when the row is inserted', async () => {
    const events: string[] = [];
    const blobs: Blobs = {
      put: async (key, bytes) => {
        await store.blobs.put(key, bytes);
        events.push('put');
      },
      get: (key) => store.blobs.get(key),
      getRange: (key, offset, length) => store.blobs.getRange(key, offset, length),
      delete: (key) => store.blobs.delete(key),
      list: () => store.blobs.list(),
      totalBytes: () => store.blobs.totalBytes(),
      close: () => store.blobs.close(),
    };
    const index = overrideIndex(store.index, {
      insert: async (record) => {
        for (const key of [...record.attachments.map((a) => a.blobKey), record.pgoBlobKey!, record.preparedBlobKey!]) {
          assert.notEqual(await store.readBlob(key), null, `${key} is durable before the index row`);
        }
        events.push('insert');
        await store.index.insert(record);
      },
    });
    await new ProfileStore(index, blobs).saveProfile(newProfile(), ATTACHMENTS, PGO, PREPARED);
    // Two objects: the pack (raw attachments and prepared form) and the PGO form.
    assert.deepEqual(events, ['put', 'put', 'insert']);
  });

  it('leaves no visible profile when the process dies between the blobs and the index, and retention collects the blobs later', async () => {
    const crashing = new ProfileStore(
      overrideIndex(store.index, {
        insert: async () => {
          throw new Error('killed before the index transaction');
        },
      }),
      store.blobs,
    );
    await assert.rejects(crashing.saveProfile(newProfile({ service: 'lost' }), ATTACHMENTS, PGO, PREPARED), /killed/);
    assert.equal(await store.index.count(), 0);
    assert.deepEqual(await store.search({ query: 'service:lost', from: 0, to: Date.now() * 2, limit: 10 }), []);
    const orphans = await blobKeys(store.blobs);
    assert.equal(orphans.length, 2);

    // After a restart: within the grace period the blobs stay (a save may still be running)...
    await store.close();
    store = await openSqliteStore(dir);
    const now = Date.now();
    assert.equal((await enforceRetention({ index: store.index, blobs: store.blobs, now })).orphanBlobsDeleted, 0);
    assert.deepEqual(await blobKeys(store.blobs), orphans);
    // ...and after it they are collected, while a profile saved meanwhile is untouched.
    const kept = await store.saveProfile(newProfile(), ATTACHMENTS, PGO, PREPARED);
    const result = await enforceRetention({ index: store.index, blobs: store.blobs, now: now + 2 * HOUR });
    assert.deepEqual([result.rawDeleted, result.profilesDeleted, result.orphanBlobsDeleted], [0, 0, 2]);
    assert.deepEqual(await blobKeys(store.blobs), objectsOf(kept));
    assert.deepEqual(await store.getProfile(kept.id), kept);
  });

  it('leaves no visible profile when a blob write fails', async () => {
    let puts = 0;
    const failing: Blobs = {
      put: async (key, bytes) => {
        if (++puts === 2) throw new Error('disk full');
        await store.blobs.put(key, bytes);
      },
      get: (key) => store.blobs.get(key),
      getRange: (key, offset, length) => store.blobs.getRange(key, offset, length),
      delete: (key) => store.blobs.delete(key),
      list: () => store.blobs.list(),
      totalBytes: () => store.blobs.totalBytes(),
      close: () => store.blobs.close(),
    };
    await assert.rejects(new ProfileStore(store.index, failing).saveProfile(newProfile(), ATTACHMENTS, PGO, PREPARED), /disk full/);
    assert.equal(await store.index.count(), 0);
  });

  it('leaves no visible profile when only the PGO form cannot be written, and settles every write first', async () => {
    const settled: string[] = [];
    const failing: Blobs = {
      put: async (key, bytes) => {
        if (key.endsWith('/pgo')) throw new Error('disk full writing the PGO form');
        await store.blobs.put(key, bytes);
        settled.push(key);
      },
      get: (key) => store.blobs.get(key),
      getRange: (key, offset, length) => store.blobs.getRange(key, offset, length),
      delete: (key) => store.blobs.delete(key),
      list: () => store.blobs.list(),
      totalBytes: () => store.blobs.totalBytes(),
      close: () => store.blobs.close(),
    };
    await assert.rejects(
      new ProfileStore(store.index, failing).saveProfile(newProfile({ service: 'lost' }), ATTACHMENTS, PGO, PREPARED),
      /PGO form/,
    );
    assert.equal(await store.index.count(), 0);
    assert.deepEqual(await store.search({ query: 'service:lost', from: 0, to: Date.now() * 2, limit: 10 }), []);
    // The pack's write had finished when the save rejected; it is an orphan, collected later.
    assert.equal(settled.length, 1);
    assert.deepEqual(await blobKeys(store.blobs), [...settled].sort());
  });

  it('stores an empty prepared form as an empty range, distinct from having none', async () => {
    const record = await store.saveProfile(newProfile(), ATTACHMENTS, PGO, new Uint8Array(0));
    assert.notEqual(record.preparedBlobKey, null);
    assert.deepEqual(parseBlobRef(record.preparedBlobKey!).range, { offset: 5, length: 0 });
    assert.deepEqual(await blobKeys(store.blobs), objectsOf(record));
    assert.equal((await store.readPreparedOf(record))?.byteLength, 0);
  });

  it('reads no prepared form for a record without a key, or whose blob is gone', async () => {
    const record = await store.saveProfile(newProfile(), ATTACHMENTS, PGO, PREPARED);
    assert.equal(await store.readPreparedOf({ ...record, preparedBlobKey: null }), null);
    await store.blobs.delete(parseBlobRef(record.preparedBlobKey!).objectKey);
    assert.equal(await store.readPreparedOf(record), null);
  });

  it('stops serving raw attachments and the prepared form once retention deleted them, but keeps the PGO form', async () => {
    const record = await store.saveProfile(newProfile({ receivedAt: Date.now() - 8 * 24 * HOUR }), ATTACHMENTS, PGO, PREPARED);
    const result = await enforceRetention({ index: store.index, blobs: store.blobs, now: Date.now() });
    assert.equal(result.rawDeleted, 1);
    assert.equal(await store.readAttachment(record.id, 'cpu.pprof'), null);
    assert.deepEqual(Uint8Array.from((await store.readPgo(record.id))!), PGO);
    const after = (await store.getProfile(record.id))!;
    assert.equal(after.rawDeleted, true);
    // The prepared form is derived from the raw data and goes with it: neither read nor kept.
    assert.equal(await store.readPreparedOf(after), null);
    assert.equal(await store.readBlob(record.preparedBlobKey!), null);
    assert.deepEqual(await blobKeys(store.blobs), [blobObjectKey(record.pgoBlobKey!)]);
  });
});
