import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { injectFetch, openTestApp, type TestApp } from '../server/testing.js';
import type { ProfileRecord } from '../store/types.js';
import { fixture } from '../testing/fixtures.js';
import { fixtureProfile } from '../testing/profiles.js';
import { CallTreeTooLargeError, DICTIONARY_BYTES_PER_NODE } from './call-tree-dictionary.js';
import { encodePreparedForm } from './prepared-form.js';
import { mergeCallTrees, mergedFlameTree } from './prepared-merge.js';
import { type PreparedProfile, PreparedProfiles } from './prepared-profiles.js';

// The per-profile side of the prepared views over a real embedded store holding real Go
// profiles: prepared blob or raw attachment give the same result, a damaged blob falls back to
// the raw profile, and the cache and the dictionary stay within their bounds.

const FILES = ['cpu-small-1.pprof', 'cpu-small-2.pprof', 'cpu-small-3.pprof', 'cpu-json.pprof', 'cpu-sort.pprof'];
const LIMIT = 100 * 2 ** 20;

describe('prepared profiles', () => {
  let server: TestApp;
  /** Stored records, in FILES order, with no prepared blob whatever intake stored. */
  let raw: ProfileRecord[];
  /** The same records with a prepared blob each, written here. */
  let withBlob: ProfileRecord[];

  before(async () => {
    server = await openTestApp();
    raw = [];
    withBlob = [];
    for (const [i, name] of FILES.entries()) {
      const res = await injectFetch(server.app, `/api/v1/profiles?tags=service:p${i}`, {
        method: 'POST',
        body: readFileSync(fixture(name)),
        headers: { authorization: `Bearer ${server.keys.api}` },
      });
      assert.equal(res.status, 201);
      const record = (await server.store.getProfile(((await res.json()) as { id: string }).id)) as ProfileRecord;
      const key = `test/${record.id}/prepared`;
      await server.store.blobs.put(key, encodePreparedForm(fixtureProfile(name)));
      raw.push({ ...record, preparedBlobKey: null });
      withBlob.push({ ...record, preparedBlobKey: key });
    }
  });
  after(() => server.close());

  const ok = (p: PreparedProfile | { reason: string }): PreparedProfile => {
    assert.ok(!('reason' in p), 'reason' in p ? p.reason : '');
    return p;
  };
  const tree = (profiles: PreparedProfiles, records: ProfileRecord[]) => async () => {
    const d = profiles.beginView();
    const read = (await profiles.readAll(records, 'cpu.pprof', d)).map(ok);
    return mergedFlameTree(mergeCallTrees(d, [read.map((p) => ({ profile: p.mapped, column: 1 }))]), 1_000_000).tree;
  };

  it('reads the prepared blob when there is one and the raw attachment otherwise, with the same result', async () => {
    const a = new PreparedProfiles(server.store, LIMIT);
    const b = new PreparedProfiles(server.store, LIMIT);
    const fromBlob = await tree(a, withBlob)();
    const fromRaw = await tree(b, raw)();
    assert.deepEqual(fromBlob, fromRaw);
    const d = a.beginView();
    assert.equal(ok(await a.read(withBlob[0], 'cpu.pprof', d)).source, 'prepared');
    assert.equal(ok(await b.read(raw[0], 'cpu.pprof', b.beginView())).source, 'raw');
  });

  it('reads the raw attachment when the prepared blob is damaged or missing, with the same result', async () => {
    const damaged = await Promise.all(
      withBlob.map(async (r, i) => {
        if (i % 2 === 1) return { ...r, preparedBlobKey: `test/${r.id}/missing` };
        const key = `test/${r.id}/damaged`;
        const bytes = (await server.store.readBlob(r.preparedBlobKey as string)) as Uint8Array;
        const copy = bytes.slice();
        copy[copy.length >> 1] ^= 0x40;
        await server.store.blobs.put(key, copy);
        return { ...r, preparedBlobKey: key };
      }),
    );
    const profiles = new PreparedProfiles(server.store, LIMIT);
    assert.deepEqual(await tree(profiles, damaged)(), await tree(new PreparedProfiles(server.store, LIMIT), raw)());
    assert.equal(profiles.corruptBlobs, 3);
  });

  it('says why a profile cannot be read: raw data deleted, no such attachment', async () => {
    const profiles = new PreparedProfiles(server.store, LIMIT);
    const d = profiles.beginView();
    assert.deepEqual(await profiles.read({ ...withBlob[0], rawDeleted: true }, 'cpu.pprof', d), {
      reason: 'raw data deleted by retention',
    });
    assert.deepEqual(await profiles.read(withBlob[0], 'heap.pprof', d), { reason: 'no attachment heap.pprof' });
  });

  it('keeps the per-profile cache within its bytes, least recently used out', async () => {
    const probe = new PreparedProfiles(server.store, LIMIT);
    const sizes = (await probe.readAll(withBlob, 'cpu.pprof', probe.beginView())).map((p) => ok(p).bytes);
    const bound = sizes[3] + sizes[4] + 1;
    const profiles = new PreparedProfiles(server.store, LIMIT, { cacheBytes: bound });
    const d = profiles.beginView();
    for (const r of withBlob) await profiles.read(r, 'cpu.pprof', d);
    assert.ok(profiles.cached <= 2, `${profiles.cached} cached`);
    assert.ok(profiles.bytes - d.size * DICTIONARY_BYTES_PER_NODE <= bound);
    const last = ok(await profiles.read(withBlob[4], 'cpu.pprof', d));
    assert.equal(ok(await profiles.read(withBlob[4], 'cpu.pprof', d)), last, 'the most recent is a hit');
    assert.notEqual(
      ok(await profiles.read(withBlob[0], 'cpu.pprof', d)),
      ok(await probe.read(withBlob[0], 'cpu.pprof', probe.beginView())),
    );
  });

  it('starts a new dictionary, dropping the cache, once a view left it past its bound', async () => {
    const profiles = new PreparedProfiles(server.store, LIMIT, { dictionaryNodes: 100, viewNodes: 100_000 });
    const first = profiles.beginView();
    await profiles.read(withBlob[0], 'cpu.pprof', first);
    assert.ok(first.size > 100 && profiles.cached === 1);
    const second = profiles.beginView();
    assert.notEqual(second, first);
    assert.equal(profiles.cached, 0);
    // A view still holding the old dictionary keeps working with it.
    assert.equal(ok(await profiles.read(withBlob[0], 'cpu.pprof', first)).dictionary, first);
  });

  it('refuses a view whose profiles hold more call paths than one view may', async () => {
    const profiles = new PreparedProfiles(server.store, LIMIT, { dictionaryNodes: 50, viewNodes: 200 });
    await assert.rejects(profiles.readAll(withBlob, 'cpu.pprof', profiles.beginView()), CallTreeTooLargeError);
  });
});
