import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startPostgres, type TestPostgres } from '../testing/postgres.js';
import { blobObjectKey } from './blob-ref.js';
import { FsBlobs } from './fs-blobs.js';
import { openPostgres } from './pg-store.js';
import { makeTestRecord } from './profile-index.contract.js';
import { profileObjects } from './profile-objects.js';
import { enforceRetention, RETENTION_JOB } from './retention.js';
import { ProfileStore } from './store.js';
import type { ProfileRecord } from './types.js';

const server: TestPostgres = await startPostgres();
after(() => server.close());

const DAY = 24 * 60 * 60 * 1000;

describe('retention on the PostgreSQL index', () => {
  it('deletes old profiles and raw data (with the prepared form) in batches, and their blobs, across several batches', async () => {
    const backend = await openPostgres(await server.freshDatabase());
    const dir = await mkdtemp(join(tmpdir(), 'hotpath-pg-retention-'));
    const blobs = await FsBlobs.open(dir);
    try {
      const now = Date.UTC(2025, 5, 1);
      const bytes = new Uint8Array([1, 2, 3]);
      const ages: Array<[string, number]> = [];
      for (let i = 0; i < 12; i++) ages.push([`old${i}`, 40 * DAY], [`mid${i}`, 10 * DAY], [`new${i}`, DAY]);
      for (const [id, age] of ages) {
        const record = makeTestRecord(id, { receivedAt: now - age });
        for (const a of record.attachments) await blobs.put(a.blobKey, bytes);
        await blobs.put(record.pgoBlobKey!, bytes);
        await blobs.put(record.preparedBlobKey!, bytes);
        await backend.index.insert(record);
      }
      const result = await enforceRetention({ index: backend.index, blobs, now, batchSize: 5, orphanGraceMs: 0, sweptUpTo: null });
      assert.equal(result.profilesDeleted, 12);
      assert.equal(result.rawDeleted, 12);
      assert.equal(await backend.index.count(), 24);
      assert.equal(await backend.index.get('old3'), null);
      assert.equal((await backend.index.get('mid3'))?.rawDeleted, true);
      assert.equal((await backend.index.get('new3'))?.rawDeleted, false);
      assert.equal(await blobs.get('old3/pgo'), null);
      assert.equal(await blobs.get('old3/prepared'), null);
      assert.equal(await blobs.get('mid3/raw-0-cpu.pprof'), null);
      assert.equal(await blobs.get('mid3/prepared'), null, 'the prepared form goes with the raw data it is derived from');
      assert.deepEqual(await blobs.get('mid3/pgo'), bytes, 'the PGO form stays with the record');
      assert.deepEqual(await blobs.get('new3/raw-0-cpu.pprof'), bytes);
      assert.deepEqual(await blobs.get('new3/prepared'), bytes);
      // Nothing else is left: every blob of a deleted profile or deleted raw data went, no orphan was made.
      const left: string[] = [];
      for await (const b of blobs.list()) left.push(b.key);
      assert.equal(left.length, 12 * 1 + 12 * 4);
    } finally {
      await backend.close();
      await blobs.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('retains packed profiles saved through the store: the pack goes with the raw data, each object deleted once, orphan packs collected', async () => {
    const backend = await openPostgres(await server.freshDatabase());
    const dir = await mkdtemp(join(tmpdir(), 'hotpath-pg-retention-'));
    const blobs = await FsBlobs.open(dir);
    const store = new ProfileStore(backend.index, blobs);
    try {
      const now = Date.now();
      const save = (ageMs: number) => {
        const {
          id: _i,
          attachments: _a,
          pgoBlobKey: _p,
          preparedBlobKey: _q,
          rawDeleted: _r,
          ...profile
        } = makeTestRecord('x', {
          receivedAt: now - ageMs,
        });
        return store.saveProfile(
          profile,
          [
            { name: 'cpu.pprof', bytes: Uint8Array.from([1, 2, 3]), compression: 'gzip' },
            { name: 'heap.pprof', bytes: Uint8Array.from([4]), compression: 'gzip' },
            { name: 'metrics.json', bytes: Uint8Array.from([5, 6]), compression: 'none' },
          ],
          Uint8Array.from([9]),
          Uint8Array.from([8, 8]),
        );
      };
      const fresh = await save(0);
      const raw = await save(10 * DAY);
      const old = await save(40 * DAY);
      // A save that died before its index row: its pack and PGO form are orphans.
      await blobs.put('2020010100/lost/pack', Uint8Array.from([1, 2, 3]));
      await blobs.put('2020010100/lost/pgo', Uint8Array.from([1]));
      const deleted: string[] = [];
      const counting = Object.assign(Object.create(blobs) as FsBlobs, {
        delete: async (key: string) => {
          deleted.push(key);
          await blobs.delete(key);
        },
      });
      const result = await enforceRetention({ index: backend.index, blobs: counting, now: now + 2 * 60 * 60 * 1000, sweptUpTo: null });
      assert.deepEqual([result.profilesDeleted, result.rawDeleted, result.orphanBlobsDeleted], [1, 1, 2]);
      const objects = (r: ProfileRecord) => profileObjects(r, { includeDeletedRaw: true }).map((o) => o.key);
      assert.deepEqual(deleted.sort(), [...objects(old), objects(raw)[0], '2020010100/lost/pack', '2020010100/lost/pgo'].sort());
      const left: string[] = [];
      for await (const b of blobs.list()) left.push(b.key);
      assert.deepEqual(left.sort(), [...objects(fresh), blobObjectKey(raw.pgoBlobKey!)].sort());
      assert.deepEqual(Uint8Array.from((await store.readAttachment(fresh.id, 'metrics.json'))!.bytes), Uint8Array.from([5, 6]));
      assert.equal(await store.readAttachment(raw.id, 'cpu.pprof'), null);
      assert.deepEqual(Uint8Array.from((await store.readPgo(raw.id))!), Uint8Array.from([9]));
    } finally {
      await backend.close();
      await blobs.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs on one replica only when two replicas tick together', async () => {
    const url = await server.freshDatabase();
    const replicas = await Promise.all([openPostgres(url), openPostgres(url)]);
    const dir = await mkdtemp(join(tmpdir(), 'hotpath-pg-retention-'));
    const blobs = await FsBlobs.open(dir);
    try {
      const now = Date.UTC(2025, 5, 1);
      for (let i = 0; i < 10; i++) await replicas[0].index.insert(makeTestRecord(`old${i}`, { receivedAt: now - 40 * DAY }));
      const results: number[] = [];
      // Ten ticks at once, alternating replicas, all due: exactly one runs.
      const runs: string[] = [];
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          replicas[i % 2].index.runExclusive(RETENTION_JOB, 60 * 60 * 1000, async () => {
            runs.push(`replica ${i % 2}`);
            const res = await enforceRetention({ index: replicas[i % 2].index, blobs, now });
            results.push(res.profilesDeleted);
            return res.sweptUpTo;
          }),
        ),
      );
      assert.equal(runs.length, 1, runs.join(', '));
      assert.deepEqual(results, [10]);
      assert.equal(await replicas[1].index.count(), 0);
    } finally {
      for (const r of replicas) await r.close();
      await blobs.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
