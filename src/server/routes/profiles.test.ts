import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProfileListJson } from '../../api/types.js';
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

  it('counts to the end of a page past TOTAL_COUNTED, so paging on never stops early', async () => {
    const far = await list(`query=service:busy&limit=50&offset=${TOTAL_COUNTED}`);
    assert.equal(far.profiles.length, 5);
    assert.deepEqual([far.total, far.totalExact], [matching, true]);
  });
});
