import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { startPostgres, type TestPostgres, withPostgresClient } from '../testing/postgres.js';
import { TRIGRAM_INDEX } from './pg-migrations.js';
import { openPostgres } from './pg-store.js';
import { makeTestRecord } from './profile-index.contract.js';

// The trigram index for wildcards without a literal prefix, on a server that lets Hotpath create
// pg_trgm and on one that does not (a role without CREATE on the database, as a managed
// PostgreSQL may give): searches are the same either way, the operator is told, and the index
// comes once the extension is there.

const server: TestPostgres = await startPostgres();
after(() => server.close());

async function hasTrigramIndex(url: string): Promise<boolean> {
  return withPostgresClient(
    url,
    async (c) => (await c.query('SELECT 1 FROM pg_class WHERE relname = $1', [TRIGRAM_INDEX])).rows.length === 1,
  );
}

describe('pg_trgm for leading wildcards', () => {
  it('creates the extension and the index when it may, and says nothing', async () => {
    const url = await server.freshDatabase();
    const backend = await openPostgres(url);
    try {
      assert.deepEqual(backend.warnings, []);
      assert.ok(await hasTrigramIndex(url));
      // A second start finds it there.
      const again = await openPostgres(url);
      assert.deepEqual(again.warnings, []);
      await again.close();
    } finally {
      await backend.close();
    }
  });

  it('works without it when the extension cannot be created, says why and what to do, and builds the index once it exists', async () => {
    const adminUrl = await server.freshDatabase();
    const role = `hotpath_limited_${randomBytes(4).toString('hex')}`;
    const database = new URL(adminUrl).pathname.slice(1);
    await withPostgresClient(adminUrl, async (c) => {
      await c.query(`CREATE ROLE ${role} LOGIN`);
      // Tables in public, but no CREATE on the database: a trusted extension needs that.
      await c.query(`GRANT CREATE, USAGE ON SCHEMA public TO ${role}`);
      await c.query(`REVOKE CREATE ON DATABASE ${database} FROM PUBLIC`);
    });
    const limitedUrl = new URL(adminUrl);
    limitedUrl.username = role;
    try {
      const backend = await openPostgres(limitedUrl.toString());
      try {
        assert.equal(backend.warnings.length, 1);
        assert.match(backend.warnings[0], /pg_trgm is not available \(permission denied/);
        assert.match(backend.warnings[0], /CREATE EXTENSION pg_trgm/);
        assert.equal(await hasTrigramIndex(adminUrl), false);
        for (let i = 0; i < 20; i++) await backend.index.insert(makeTestRecord(`p${i}`, { host: `host-${i}` }));
        const found = await backend.index.search({ query: 'host:*-1?', from: 0, to: Number.MAX_SAFE_INTEGER, limit: 100, sort: 'start' });
        assert.deepEqual(
          found.map((r) => r.id).sort(),
          Array.from({ length: 10 }, (_, i) => `p${10 + i}`),
        );
      } finally {
        await backend.close();
      }
      // An administrator installs it; the next start builds the index as the limited role.
      await withPostgresClient(adminUrl, (c) => c.query('CREATE EXTENSION pg_trgm'));
      const next = await openPostgres(limitedUrl.toString());
      try {
        assert.deepEqual(next.warnings, []);
        assert.ok(await hasTrigramIndex(adminUrl));
        const found = await next.index.search({ query: 'host:*-1?', from: 0, to: Number.MAX_SAFE_INTEGER, limit: 100 });
        assert.equal(found.length, 10);
      } finally {
        await next.close();
      }
    } finally {
      await withPostgresClient(adminUrl, async (c) => {
        await c.query(`DROP OWNED BY ${role}`);
        await c.query(`DROP ROLE ${role}`);
      });
    }
  });
});
