import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { ErrorJson, ExplainJson, PgoAnswerJson } from '../../api/types.js';
import { fixture } from '../../testing/fixtures.js';
import { injectFetch, openTestApp, type TestApp } from '../testing.js';

// The PGO routes' HTTP contract in process; e2e/pgo.test.ts checks the files against Go's own
// tools through the real CLI.

describe('PGO routes', () => {
  let t: TestApp;
  const ids: string[] = [];
  const pgo = (body: unknown, accept = 'application/json') =>
    injectFetch(t.app, '/api/v1/pgo', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.keys.pgoRead}`, accept, 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  before(async () => {
    t = await openTestApp();
    for (const [name, version] of [
      ['cpu-json.pprof', '1'],
      ['cpu-sort.pprof', '2'],
      ['cpu-small-1.pprof', '3'],
    ]) {
      const res = await injectFetch(t.app, `/api/v1/profiles?tags=${encodeURIComponent(`service:shop,version:${version}`)}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.keys.api}` },
        body: readFileSync(fixture(name)),
      });
      assert.equal(res.status, 201);
      ids.push(((await res.json()) as { id: string }).id);
    }
  });
  after(() => t.close());

  it('builds a default.pgo with its provenance, the same bytes as JSON (base64) or as the file', async () => {
    const res = await pgo({ queries: [{ query: 'service:shop', from: 'now-1h', limit: 2 }] });
    assert.equal(res.status, 200);
    const answer = (await res.json()) as PgoAnswerJson;
    const bytes = Buffer.from(answer.pgo, 'base64');
    assert.equal(answer.bytes, bytes.length);
    assert.equal(answer.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(answer.profiles.length, 2);
    assert.deepEqual(answer.queries, [{ query: 'service:shop runtime:go', from: 'now-1h', to: 'now', limit: 2, matched: 2 }]);
    assert.equal(answer.debugQuery, `profile-id:(${answer.profiles.map((p) => p.id).join(' OR ')})`);

    const file = await pgo({ queries: [{ query: 'service:shop', from: 'now-1h', limit: 2 }] }, 'application/octet-stream');
    assert.equal(file.headers.get('x-hotpath-sha256'), answer.sha256);
    assert.equal(file.headers.get('x-hotpath-profile-ids'), answer.profiles.map((p) => p.id).join(','));
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), bytes);
  });

  it('answers a repeated request with the same file, and builds anew when a new profile is selected', async () => {
    const upload = async (name: string): Promise<void> => {
      const res = await injectFetch(t.app, `/api/v1/profiles?tags=${encodeURIComponent('service:cached')}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.keys.api}` },
        body: readFileSync(fixture(name)),
      });
      assert.equal(res.status, 201);
    };
    const ask = async (noInline?: string[]): Promise<PgoAnswerJson> => {
      const res = await pgo({ queries: [{ query: 'service:cached', limit: 10 }], noInline });
      assert.equal(res.status, 200);
      return (await res.json()) as PgoAnswerJson;
    };
    await upload('cpu-json.pprof');
    const first = await ask();
    const again = await ask();
    assert.deepEqual(again, first);
    assert.equal(first.profiles.length, 1);
    await upload('cpu-sort.pprof');
    const after = await ask();
    assert.equal(after.profiles.length, 2);
    assert.notEqual(after.sha256, first.sha256);
    // The no-inline list is part of what a file is built from.
    const explain = await injectFetch(t.app, '/api/v1/pgo/explain?query=service:cached&limit=10', {
      headers: { authorization: `Bearer ${t.keys.pgoRead}` },
    });
    const { callee } = ((await explain.json()) as ExplainJson).edges[0];
    const renamed = await ask([callee]);
    assert.ok(renamed.notInlined.includes(callee), `${callee} in ${renamed.notInlined.join(', ')}`);
    assert.notEqual(renamed.sha256, after.sha256);
    assert.deepEqual(await ask(), after);
  });

  it("reads datadog-pgo's form of a query ({filter: {query, from, to}, limit}) as ours", async () => {
    const ours = (await (await pgo({ queries: [{ query: 'service:shop', limit: 3 }] })).json()) as PgoAnswerJson;
    const theirs = (await (
      await pgo({ queries: [{ filter: { query: 'service:shop', from: 'now-72h' }, limit: 3 }] })
    ).json()) as PgoAnswerJson;
    assert.equal(theirs.sha256, ours.sha256);
    assert.deepEqual(theirs.profiles.map((p) => p.id).sort(), [...ids].sort());
  });

  it('explains the hot call sites of the file one query would build', async () => {
    const res = await injectFetch(t.app, '/api/v1/pgo/explain?query=service%3Ashop&limit=3&top=5', {
      headers: { authorization: `Bearer ${t.keys.pgoRead}` },
    });
    assert.equal(res.status, 200);
    const explain = (await res.json()) as ExplainJson;
    assert.equal(explain.query, 'service:shop runtime:go');
    assert.deepEqual(explain.profileIds, [...ids].sort());
    assert.ok(explain.edges.length <= 5 && explain.edgeCount >= explain.edges.length);
    assert.ok(explain.hotCount > 0);
  });

  it('answers 404 with the queries as run when nothing matches', async () => {
    const res = await pgo({ queries: [{ query: 'service:nothing' }] });
    assert.equal(res.status, 404);
    const body = (await res.json()) as ErrorJson & { queries: Array<{ query: string; matched: number }> };
    assert.equal(body.code, 'no_profiles');
    assert.deepEqual(
      body.queries.map((q) => [q.query, q.matched]),
      [['service:nothing runtime:go', 0]],
    );
  });

  it('refuses a body its schema does not allow with 400 naming the field', async () => {
    for (const [body, field] of [
      ['', '"queries"'],
      [{ queries: [] }, '"queries"'],
      [{ queries: [{ query: 'a', limit: 51 }] }, '"queries[0].limit"'],
      [{ queries: [{ query: 'a', limit: '5' }] }, '"queries[0].limit"'],
      [{ queries: [{ query: 5 }] }, '"queries[0].query"'],
      [{ queries: [{ query: 'a', from: 7 }] }, '"queries[0].from"'],
      [{ queries: [{ query: 'a' }], noInline: ['x', 2] }, '"noInline[1]"'],
    ] as const) {
      const res = await pgo(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const answer = (await res.json()) as ErrorJson;
      assert.equal(answer.code, 'bad_request');
      assert.ok(answer.error.startsWith(`bad PGO request: ${field}`), `${JSON.stringify(body)}: ${answer.error}`);
    }
  });
});
