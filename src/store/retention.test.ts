import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { blobHour } from './blob-hour.js';
import { blobObjectKey } from './blob-ref.js';
import type { Blobs } from './blobs.js';
import type { FsBlobs } from './fs-blobs.js';
import { makeTestRecord } from './profile-index.contract.js';
import { enforceRetention, type RetentionResult, startRetentionJob } from './retention.js';
import { type NewProfile, openSqliteStore, type ProfileStore } from './store.js';
import { overrideIndex } from './testing.js';
import type { ProfileRecord } from './types.js';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const MINUTE = 60 * 1000;

/** A result without the sweep position, which depends on the clock. */
function counts({ sweptUpTo: _, ...rest }: RetentionResult): Omit<RetentionResult, 'sweptUpTo'> {
  return rest;
}

function newProfile(receivedAt: number, service = 'svc'): NewProfile {
  const {
    id: _id,
    attachments: _a,
    pgoBlobKey: _p,
    preparedBlobKey: _q,
    rawDeleted: _r,
    ...rest
  } = makeTestRecord('x', { service, receivedAt });
  return rest;
}

describe('enforceRetention with SQLite and files', () => {
  let dir: string;
  let store: ProfileStore;
  // Blob write times are the real clock, so "now" is the real time of the test, injected.
  let now: number;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotpath-retention-'));
    store = await openSqliteStore(dir);
    now = Date.now();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function save(ageMs: number): Promise<ProfileRecord> {
    return store.saveProfile(
      newProfile(now - ageMs),
      [
        { name: 'cpu.pprof', bytes: Uint8Array.from([1, 2, 3]), compression: 'gzip' },
        { name: 'heap.pprof', bytes: Uint8Array.from([4]), compression: 'none' },
      ],
      Uint8Array.from([9, 9]),
      Uint8Array.from([8, 8, 8]),
    );
  }

  async function exists(key: string): Promise<boolean> {
    return (await store.readBlob(key)) !== null;
  }

  /** Sets a blob's write time as if it had been written `ageMs` before now. */
  async function age(key: string, ageMs: number): Promise<void> {
    const t = new Date(now - ageMs);
    await utimes((store.blobs as FsBlobs).pathOf(blobObjectKey(key)), t, t);
  }

  async function state(record: ProfileRecord): Promise<'gone' | 'pgo only' | 'complete'> {
    const stored = await store.getProfile(record.id);
    // The prepared form is derived from the raw attachments: it lives and goes with them.
    const raw = await Promise.all([...record.attachments.map((a) => exists(a.blobKey)), exists(record.preparedBlobKey!)]);
    const pgo = await exists(record.pgoBlobKey!);
    if (stored === null) {
      assert.ok(!pgo && raw.every((r) => !r), `${record.id}: no blob outlives its row`);
      return 'gone';
    }
    assert.ok(pgo, `${record.id}: the PGO form stays as long as the row`);
    if (stored.rawDeleted) {
      assert.ok(
        raw.every((r) => !r),
        `${record.id}: raw blobs and the prepared form deleted with rawDeleted`,
      );
      return 'pgo only';
    }
    assert.ok(
      raw.every((r) => r),
      `${record.id}: raw blobs and the prepared form kept`,
    );
    return 'complete';
  }

  it('deletes raw data after 7 days, whole profiles after 30, orphans after an hour, and nothing else', async () => {
    const fresh = await save(0);
    const sixDays = await save(7 * DAY - MINUTE);
    const sevenDays = await save(7 * DAY + MINUTE);
    const twentyNineDays = await save(30 * DAY - MINUTE);
    const thirtyDays = await save(30 * DAY + MINUTE);
    const ninetyDays = await save(90 * DAY);
    await store.index.markRawDeleted([ninetyDays.id]);
    await store.blobs.put('orphan/young', Uint8Array.from([1]));
    await store.blobs.put('orphan/old', Uint8Array.from([1, 2]));
    await age('orphan/young', HOUR - MINUTE);
    await age('orphan/old', HOUR + MINUTE);
    // Referenced blobs are never orphans, however old their files are.
    for (const a of fresh.attachments) await age(a.blobKey, 100 * DAY);
    await age(fresh.preparedBlobKey!, 100 * DAY);

    const result = await enforceRetention({ index: store.index, blobs: store.blobs, now });

    assert.deepEqual(counts(result), { rawDeleted: 2, profilesDeleted: 2, orphanBlobsDeleted: 1 });
    assert.equal(await state(fresh), 'complete');
    assert.equal(await state(sixDays), 'complete');
    assert.equal(await state(sevenDays), 'pgo only');
    assert.equal(await state(twentyNineDays), 'pgo only');
    assert.equal(await state(thirtyDays), 'gone');
    assert.equal(await state(ninetyDays), 'gone');
    assert.ok(await exists('orphan/young'));
    assert.ok(!(await exists('orphan/old')));
    assert.equal(await store.index.count(), 4);

    // Nothing more is due at the same time.
    assert.deepEqual(counts(await enforceRetention({ index: store.index, blobs: store.blobs, now })), {
      rawDeleted: 0,
      profilesDeleted: 0,
      orphanBlobsDeleted: 0,
    });
  });

  it('uses the configured ages', async () => {
    const twoHours = await save(2 * HOUR);
    const fiveHours = await save(5 * HOUR);
    const result = await enforceRetention({ index: store.index, blobs: store.blobs, now, rawMaxAgeMs: HOUR, pgoMaxAgeMs: 4 * HOUR });
    assert.deepEqual(counts(result), { rawDeleted: 1, profilesDeleted: 1, orphanBlobsDeleted: 0 });
    assert.equal(await state(twoHours), 'pgo only');
    assert.equal(await state(fiveHours), 'gone');
  });

  it('works through more profiles than one batch', async () => {
    const old = [];
    for (let i = 0; i < 5; i++) old.push(await save(31 * DAY + i));
    const raw = [];
    for (let i = 0; i < 3; i++) raw.push(await save(8 * DAY + i));
    const result = await enforceRetention({ index: store.index, blobs: store.blobs, now, batchSize: 2 });
    assert.deepEqual(counts(result), { rawDeleted: 3, profilesDeleted: 5, orphanBlobsDeleted: 0 });
    for (const r of old) assert.equal(await state(r), 'gone');
    for (const r of raw) assert.equal(await state(r), 'pgo only');
  });

  it('collects the raw blobs and the prepared form of a run that stopped after marking them deleted', async () => {
    const record = await save(8 * DAY);
    // The crash: the index change is committed, the blob deletions never ran.
    await store.index.markRawDeleted([record.id]);
    assert.ok(await exists(record.attachments[0].blobKey));
    for (const key of [...record.attachments.map((a) => a.blobKey), record.preparedBlobKey!]) await age(key, 8 * DAY);
    const result = await enforceRetention({ index: store.index, blobs: store.blobs, now });
    // One object, the pack, held the attachments and the prepared form.
    assert.deepEqual(counts(result), { rawDeleted: 0, profilesDeleted: 0, orphanBlobsDeleted: 1 });
    assert.equal(await state(record), 'pgo only');
  });

  it('deletes each object once however many ranges of it a record names, and keeps the PGO form with the raw data gone', async () => {
    const raw = await save(8 * DAY);
    const whole = await save(31 * DAY);
    const deleted: string[] = [];
    const blobs: Blobs = Object.assign(Object.create(store.blobs) as Blobs, {
      delete: async (key: string) => {
        deleted.push(key);
        await store.blobs.delete(key);
      },
    });
    const result = await enforceRetention({ index: store.index, blobs, now });
    assert.deepEqual(counts(result), { rawDeleted: 1, profilesDeleted: 1, orphanBlobsDeleted: 0 });
    assert.deepEqual(
      deleted.sort(),
      [blobObjectKey(raw.preparedBlobKey!), blobObjectKey(whole.preparedBlobKey!), blobObjectKey(whole.pgoBlobKey!)].sort(),
    );
    assert.equal(await state(raw), 'pgo only');
    assert.equal(await state(whole), 'gone');
    assert.deepEqual(Uint8Array.from((await store.readPgo(raw.id))!), Uint8Array.from([9, 9]));
  });

  it('keeps the objects of profiles saved together until the last of them lets go', async () => {
    // Saves started together are written as one group (group-writer.ts), sharing a pack and a PGO object.
    const [older, newer] = await Promise.all([save(8 * DAY), save(1 * DAY)]);
    const pack = blobObjectKey(older.preparedBlobKey!);
    const pgo = blobObjectKey(older.pgoBlobKey!);
    assert.equal(blobObjectKey(newer.preparedBlobKey!), pack);
    assert.equal(blobObjectKey(newer.pgoBlobKey!), pgo);
    const objects = async (): Promise<boolean[]> => [await store.blobs.get(pack), await store.blobs.get(pgo)].map((b) => b !== null);

    assert.equal((await enforceRetention({ index: store.index, blobs: store.blobs, now })).rawDeleted, 1);
    assert.equal(await store.readAttachment(older.id, 'cpu.pprof'), null, 'the older one lost its raw data');
    assert.equal(await state(newer), 'complete', 'the newer one still reads its raw data from the shared pack');
    assert.deepEqual(await objects(), [true, true]);

    assert.equal((await enforceRetention({ index: store.index, blobs: store.blobs, now: now + 7 * DAY })).rawDeleted, 1);
    assert.deepEqual(await objects(), [false, true], 'the pack goes with the last raw data that needs it');

    assert.equal((await enforceRetention({ index: store.index, blobs: store.blobs, now: now + 23 * DAY })).profilesDeleted, 1);
    assert.equal(await store.getProfile(older.id), null);
    assert.deepEqual(Uint8Array.from((await store.readPgo(newer.id))!), Uint8Array.from([9, 9]));
    assert.deepEqual(await objects(), [false, true], 'the PGO object stays while a profile names it');

    assert.equal((await enforceRetention({ index: store.index, blobs: store.blobs, now: now + 30 * DAY })).profilesDeleted, 1);
    assert.deepEqual(await objects(), [false, false]);
  });

  it('retains and collects profiles stored with one object per blob (plain keys, before packs)', async () => {
    // Written as the store did before packs: every blob an object of its own, named by plain key.
    const plain = async (ageMs: number, id: string): Promise<ProfileRecord> => {
      const dir = `${blobHour(now - ageMs)}/${id}`;
      const record: ProfileRecord = {
        ...makeTestRecord(id, { receivedAt: now - ageMs }),
        attachments: [
          { name: 'cpu.pprof', blobKey: `${dir}/raw-0-cpu.pprof`, size: 3, compression: 'gzip' },
          { name: 'heap.pprof', blobKey: `${dir}/raw-1-heap.pprof`, size: 1, compression: 'none' },
        ],
        pgoBlobKey: `${dir}/pgo`,
        preparedBlobKey: `${dir}/prepared`,
        rawDeleted: false,
      };
      await store.blobs.put(record.attachments[0].blobKey, Uint8Array.from([1, 2, 3]));
      await store.blobs.put(record.attachments[1].blobKey, Uint8Array.from([4]));
      await store.blobs.put(record.pgoBlobKey!, Uint8Array.from([9, 9]));
      await store.blobs.put(record.preparedBlobKey!, Uint8Array.from([8, 8, 8]));
      await store.index.insert(record);
      return record;
    };
    const fresh = await plain(0, 'plain-fresh');
    const raw = await plain(8 * DAY, 'plain-raw');
    const whole = await plain(31 * DAY, 'plain-whole');
    for (const r of [fresh, raw, whole]) {
      for (const key of [...r.attachments.map((a) => a.blobKey), r.pgoBlobKey!, r.preparedBlobKey!]) await age(key, 2 * HOUR);
    }
    assert.deepEqual(Uint8Array.from((await store.readAttachment(fresh.id, 'cpu.pprof'))!.bytes), Uint8Array.from([1, 2, 3]));
    assert.deepEqual(Uint8Array.from((await store.readPreparedOf(fresh))!), Uint8Array.from([8, 8, 8]));
    const result = await enforceRetention({ index: store.index, blobs: store.blobs, now });
    assert.deepEqual(counts(result), { rawDeleted: 1, profilesDeleted: 1, orphanBlobsDeleted: 0 });
    assert.equal(await state(fresh), 'complete');
    assert.equal(await state(raw), 'pgo only');
    assert.equal(await state(whole), 'gone');
  });
});

describe('orphan collection by write hour', () => {
  let dir: string;
  let store: ProfileStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotpath-sweep-'));
    store = await openSqliteStore(dir);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('after the first run lists only the hours since the last sweep, never the whole store', async () => {
    const now = Date.now();
    const hourKey = (ageMs: number, name: string): string => `${blobHour(now - ageMs)}/${name}`;
    // Orphans five and three hours old; the sweep already reached the hour of the older one.
    const older = hourKey(5 * HOUR, 'orphan-a/pgo');
    const newer = hourKey(3 * HOUR, 'orphan-b/pgo');
    const young = hourKey(0, 'orphan-c/pgo');
    for (const key of [older, newer, young]) await store.blobs.put(key, Uint8Array.from([1]));
    const t = new Date(now - 3 * HOUR);
    for (const key of [older, newer]) await utimes((store.blobs as FsBlobs).pathOf(key), t, t);
    const kept = await store.saveProfile(
      newProfile(now),
      [{ name: 'cpu.pprof', bytes: Uint8Array.from([7]), compression: 'none' }],
      null,
      null,
    );

    const prefixes: string[] = [];
    const blobs = {
      ...store.blobs,
      get: (key: string) => store.blobs.get(key),
      delete: (key: string) => store.blobs.delete(key),
      list: (prefix?: string) => {
        prefixes.push(prefix ?? '(everything)');
        return store.blobs.list(prefix);
      },
    } as Blobs;
    const result = await enforceRetention({ index: store.index, blobs, now, sweptUpTo: blobHour(now - 5 * HOUR) });
    assert.equal(result.orphanBlobsDeleted, 1);
    assert.deepEqual(prefixes, [`${blobHour(now - 4 * HOUR)}/`, `${blobHour(now - 3 * HOUR)}/`, `${blobHour(now - 2 * HOUR)}/`]);
    assert.equal(result.sweptUpTo, blobHour(now - 2 * HOUR), 'the newest hour wholly older than the grace period');
    assert.notEqual(await store.blobs.get(older), null, 'an hour swept before is not listed again');
    assert.equal(await store.blobs.get(newer), null);
    assert.notEqual(await store.blobs.get(young), null, 'within the grace period');
    assert.notEqual(await store.readAttachment(kept.id, 'cpu.pprof'), null);

    prefixes.length = 0;
    const again = await enforceRetention({ index: store.index, blobs, now, sweptUpTo: result.sweptUpTo });
    assert.deepEqual(prefixes, [], 'nothing new to sweep in the same hour');
    assert.equal(again.sweptUpTo, result.sweptUpTo);

    prefixes.length = 0;
    const first = await enforceRetention({ index: store.index, blobs, now });
    assert.deepEqual(prefixes, ['(everything)'], 'the first run on a store lists everything once');
    assert.equal(first.orphanBlobsDeleted, 1, 'the older orphan, which the hour sweep had passed');
  });
});

describe('startRetentionJob', () => {
  let dir: string;
  let store: ProfileStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hotpath-retention-job-'));
    store = await openSqliteStore(dir);
    mock.timers.enable({ apis: ['setInterval'] });
  });
  afterEach(async () => {
    mock.timers.reset();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs every interval with the clock it is given', async () => {
    const now = Date.now();
    const old = await store.saveProfile(newProfile(now - 31 * DAY), [], Uint8Array.from([1]), Uint8Array.from([2]));
    const results: RetentionResult[] = [];
    const errors: unknown[] = [];
    const stop = startRetentionJob({
      index: store.index,
      blobs: store.blobs,
      intervalMs: HOUR,
      now: () => now,
      onResult: (r) => results.push(r),
      onError: (err) => errors.push(err),
    });
    mock.timers.tick(HOUR - 1);
    await stop.idle();
    assert.equal(results.length, 0, 'no run before the first interval');
    mock.timers.tick(1);
    await stop.idle();
    assert.deepEqual(results.map(counts), [{ rawDeleted: 0, profilesDeleted: 1, orphanBlobsDeleted: 0 }]);
    assert.equal(await store.getProfile(old.id), null);
    // The clock stands still: the next tick is within the interval of the last run, so it is
    // skipped, as on a replica whose peer ran retention a moment ago.
    mock.timers.tick(HOUR);
    await stop();
    assert.equal(results.length, 1);
    assert.deepEqual(errors, []);
  });

  it('reports errors to onError and keeps running, and never runs twice at once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    const index = overrideIndex(store.index, {
      async expired() {
        calls++;
        await gate;
        throw new Error('disk on fire');
      },
    });
    const errors: unknown[] = [];
    // The clock moves with the mocked timers, as the real one would.
    let clock = Date.now();
    const tick = (ms: number): void => {
      clock += ms;
      mock.timers.tick(ms);
    };
    const stop = startRetentionJob({ index, blobs: store.blobs, intervalMs: 1000, now: () => clock, onError: (err) => errors.push(err) });
    tick(1000);
    tick(1000);
    tick(1000);
    assert.equal(calls, 1, 'ticks during a run are skipped');
    release();
    await stop.idle();
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /disk on fire/);
    tick(1000);
    await stop();
    assert.equal(calls, 2, 'the job ran again after the error');
    assert.equal(errors.length, 2);
  });

  it('swallows an error thrown by onError itself', async () => {
    const index = overrideIndex(store.index, {
      async expired() {
        throw new Error('first');
      },
    });
    const stop = startRetentionJob({
      index,
      blobs: store.blobs,
      intervalMs: 1000,
      onError: () => {
        throw new Error('logger broke');
      },
    });
    mock.timers.tick(1000);
    await stop();
  });
});
