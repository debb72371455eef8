import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startPostgres, type TestPostgres } from '../testing/postgres.js';
import { keyStoreContract } from './keys.contract.js';
import { REVOCATION_DELAY_MS } from './keys.js';
import { openPostgres } from './pg-store.js';

const server: TestPostgres = await startPostgres();
after(() => server.close());

keyStoreContract('PgKeyStore', async () => {
  const url = await server.freshDatabase();
  let backend = await openPostgres(url);
  return {
    keys: backend.keys,
    async reopen() {
      await backend.close();
      backend = await openPostgres(url);
      return backend.keys;
    },
    async cleanup() {
      await backend.close();
    },
  };
});

describe('PgKeyStore across replicas', () => {
  it('refuses a key on every replica within REVOCATION_DELAY_MS of its revocation on one', async () => {
    const url = await server.freshDatabase();
    const [one, two] = await Promise.all([openPostgres(url), openPostgres(url)]);
    try {
      const { secret, key } = await one.keys.create('api', 'replicated');
      // Replica two accepts it (and would have cached it, if it cached).
      assert.equal((await two.keys.verify(secret))?.id, key.id);
      assert.equal(await one.keys.revoke(key.id), true);
      const revokedAt = performance.now();
      // Poll replica two until it refuses; the deadline is the guarantee, not the poll interval.
      let refused = false;
      while (performance.now() - revokedAt <= REVOCATION_DELAY_MS) {
        if ((await two.keys.verify(secret)) === null) {
          refused = true;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(refused, `replica two still accepted the key ${REVOCATION_DELAY_MS} ms after the revocation`);
      assert.equal((await two.keys.list())[0].revokedAt !== null, true);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('refuses a key name with a NUL character, which PostgreSQL text cannot hold', async () => {
    const backend = await openPostgres(await server.freshDatabase());
    try {
      await assert.rejects(backend.keys.create('api', 'a\u0000b'), RangeError);
      assert.equal(await backend.keys.count(), 0);
    } finally {
      await backend.close();
    }
  });
});
