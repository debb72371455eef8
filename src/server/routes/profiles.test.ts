import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProfileListJson } from '../../api/types.js';
import { blobObjectKey } from '../../store/blob-ref.js';
import { makeTestRecord } from '../../store/profile-index.contract.js';
import { injectFetch, openTestApp, type TestApp } from '../testing.js';
import { TOTAL_COUNTED } from './profiles.js';

describe('GET /api/v1/profiles total', () => {
  let server: TestApp;
  const matching = TOTAL_COUNTED + 5;
  before(async () => {
    server = await openTestApp();
    const now = Date.now();
    await Promise.all(
      Array.from({ length: matching }, (_, i) =>
        server.store.index.insert(makeTestRecord(`p${i}`, { start: now - 60_000 - i, end: now - i, tags: [['service', 'busy']] })),
      ),
    );
    await server.store.index.insert(makeTestRecord('other', { start: now - 60_000, end: now, tags: [['service', 'quiet']] }));
  });
  after(async () => {
    await server.close();
  });

  const list = async (params: string): Promise<ProfileListJson> => {
    const res = await injectFetch(server.app, `/api/v1/profiles?from=now-1h&${params}`, {
      headers: { authorization: `Bearer ${server.keys.admin}` },
    });
    assert.equal(res.status, 200);
    return (await res.json()) as ProfileListJson;
  };

  it('counts exactly up to TOTAL_COUNTED and says when there are more', async () => {
    const first = await list('query=service:busy&limit=50');
    assert.equal(first.profiles.length, 50);
    assert.equal(first.total, TOTAL_COUNTED);
    assert.equal(first.totalExact, false);
    const quiet = await list('query=service:quiet');
    assert.deepEqual([quiet.total, quiet.totalExact], [1, true]);
  });

  it('takes the total of a last page from the page itself, and counts a full page or one past the end', async () => {
    const index = server.store.index;
    const countMatching = index.countMatching.bind(index);
    let counts = 0;
    index.countMatching = (filter, atMost) => {
      counts++;
      return countMatching(filter, atMost);
    };
    try {
      const quiet = await list('query=service:quiet&limit=50');
      assert.deepEqual([quiet.profiles.length, quiet.total, quiet.totalExact, counts], [1, 1, true, 0]);
      const last = await list(`query=service:busy&limit=50&offset=${matching - 3}`);
      assert.deepEqual([last.profiles.length, last.total, last.totalExact, counts], [3, matching, true, 0]);
      // Past the end the page is empty and says nothing of the total: it is counted.
      const beyond = await list('query=service:quiet&limit=50&offset=10');
      assert.deepEqual([beyond.profiles.length, beyond.total, beyond.totalExact, counts], [0, 1, true, 1]);
      const none = await list('query=service:nobody&limit=50');
      assert.deepEqual([none.profiles.length, none.total, none.totalExact, counts], [0, 0, true, 1]);
      const full = await list('query=service:busy&limit=50');
      assert.deepEqual([full.profiles.length, full.total, counts], [50, TOTAL_COUNTED, 2]);
    } finally {
      index.countMatching = countMatching;
    }
  });

  it('counts to the end of a page past TOTAL_COUNTED, so paging on never stops early', async () => {
    const far = await list(`query=service:busy&limit=50&offset=${TOTAL_COUNTED}`);
    assert.equal(far.profiles.length, 5);
    assert.deepEqual([far.total, far.totalExact], [matching, true]);
  });
});

describe('GET /api/v1/profiles/:id/attachments/:name from a pack', () => {
  let server: TestApp;
  before(async () => {
    server = await openTestApp();
  });
  after(async () => {
    await server.close();
  });

  const download = (id: string, name: string) =>
    injectFetch(server.app, `/api/v1/profiles/${id}/attachments/${name}`, { headers: { authorization: `Bearer ${server.keys.admin}` } });

  it('answers each attachment byte-identical, and 422 naming the damage when the pack is shorter than its range', async () => {
    const { id: _id, attachments: _a, pgoBlobKey: _p, preparedBlobKey: _q, rawDeleted: _r, ...profile } = makeTestRecord('x');
    const cpu = new Uint8Array(500).map((_, i) => i * 3);
    const metrics = new TextEncoder().encode('{"ok":true}');
    const record = await server.store.saveProfile(
      profile,
      [
        { name: 'cpu.pprof', bytes: cpu, compression: 'gzip' },
        { name: 'metrics.json', bytes: metrics, compression: 'none' },
      ],
      null,
      null,
    );
    assert.deepEqual(new Uint8Array(await (await download(record.id, 'cpu.pprof')).arrayBuffer()), cpu);
    assert.deepEqual(new Uint8Array(await (await download(record.id, 'metrics.json')).arrayBuffer()), metrics);

    await server.store.blobs.put(blobObjectKey(record.attachments[0].blobKey), cpu);
    const damaged = await download(record.id, 'metrics.json');
    assert.equal(damaged.status, 422);
    assert.match(((await damaged.json()) as { error: string }).error, /damaged.*holds 500 bytes/);
    assert.deepEqual(new Uint8Array(await (await download(record.id, 'cpu.pprof')).arrayBuffer()), cpu);
  });
});
