import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { hashKey, type KeyStore } from './keys.js';

/**
 * One instance of a KeyStore implementation under test. `reopen` closes `keys` and returns a new
 * instance over the same storage; `cleanup` closes whatever is open and removes the storage.
 */
export interface KeyStoreHarness {
  keys: KeyStore;
  reopen(): Promise<KeyStore>;
  cleanup(): Promise<void>;
}

/**
 * The behaviour every KeyStore implementation must have. Call it from the implementation's test
 * file with a factory that makes a fresh, empty storage per test.
 */
export function keyStoreContract(name: string, make: () => Promise<KeyStoreHarness>): void {
  describe(`KeyStore contract: ${name}`, () => {
    let harness: KeyStoreHarness;
    let keys: KeyStore;
    beforeEach(async () => {
      harness = await make();
      keys = harness.keys;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    it('creates keys whose secret verifies to the record, shown once and stored only as a hash', async () => {
      const api = await keys.create('api', 'ci uploads');
      const app = await keys.create('app', 'dashboard', ['profiles_read', 'pgo_read']);
      assert.match(api.secret, /^hpapi_[A-Za-z0-9]{32}$/);
      assert.match(app.secret, /^hpapp_[A-Za-z0-9]{32}$/);
      assert.deepEqual(await keys.verify(api.secret), api.key);
      assert.deepEqual(await keys.verify(app.secret), app.key);
      assert.deepEqual(app.key.scopes, ['profiles_read', 'pgo_read']);
      assert.deepEqual(api.key.scopes, []);
      assert.equal(api.key.revokedAt, null);
      assert.equal(await keys.count(), 2);
      const exported = await keys.exportKeys();
      assert.deepEqual(
        exported.map((e) => e.hash.toString('hex')),
        [hashKey(api.secret).toString('hex'), hashKey(app.secret).toString('hex')],
      );
      for (const e of exported) assert.ok(!e.hash.toString('latin1').includes(api.secret.slice(6)), 'no secret in storage');
    });

    it('refuses unknown, altered and empty secrets', async () => {
      const { secret } = await keys.create('api', 'x');
      assert.equal(await keys.verify(''), null);
      assert.equal(await keys.verify('hpapi_nothing'), null);
      assert.equal(await keys.verify(`${secret.slice(0, -1)}${secret.endsWith('a') ? 'b' : 'a'}`), null);
      assert.equal(await keys.verify(secret.toLowerCase() === secret ? secret.toUpperCase() : secret.toLowerCase()), null);
      assert.equal(await keys.verify(`${secret} `), null);
      assert.equal(await keys.verify('\u0000'), null);
    });

    it('rejects an unknown scope and an API key with scopes, storing nothing', async () => {
      await assert.rejects(keys.create('app', 'x', ['root' as never]), RangeError);
      await assert.rejects(keys.create('api', 'x', ['admin']), RangeError);
      assert.equal(await keys.count(), 0);
      assert.deepEqual(await keys.list(), []);
    });

    it('revokes a key: it no longer verifies, stays listed with its revocation time, and cannot be revoked twice', async () => {
      const kept = await keys.create('app', 'kept', ['admin']);
      const gone = await keys.create('api', 'gone');
      const before = Date.now();
      assert.equal(await keys.revoke(gone.key.id), true);
      assert.equal(await keys.verify(gone.secret), null);
      assert.deepEqual(await keys.verify(kept.secret), kept.key);
      assert.equal(await keys.revoke(gone.key.id), false, 'already revoked');
      assert.equal(await keys.revoke('000000000000'), false, 'unknown id');
      assert.equal(await keys.count(), 1);
      const listed = await keys.list();
      assert.deepEqual(listed.map((k) => k.id).sort(), [kept.key.id, gone.key.id].sort());
      const revoked = listed.find((k) => k.id === gone.key.id);
      assert.ok(revoked?.revokedAt !== null && revoked !== undefined && revoked.revokedAt >= before);
    });

    it('lists keys oldest first (ties by id), without secrets', async () => {
      for (const name of ['a', 'b', 'c', 'd']) await keys.create('api', name);
      const listed = await keys.list();
      const expected = [...listed].sort((x, y) => x.createdAt - y.createdAt || (x.id < y.id ? -1 : 1));
      assert.deepEqual(listed, expected);
      assert.equal(listed.length, 4);
      for (const k of listed) assert.deepEqual(Object.keys(k).sort(), ['createdAt', 'id', 'kind', 'name', 'revokedAt', 'scopes']);
    });

    it('imports keys exactly as exported into another store: secrets stay valid, revocations stay, a taken id is refused', async () => {
      const live = await keys.create('app', 'live', ['pgo_read']);
      const revoked = await keys.create('api', 'revoked');
      await keys.revoke(revoked.key.id);
      const exported = await keys.exportKeys();
      const target = await make();
      try {
        for (const e of exported) assert.equal(await target.keys.importKey(e.key, e.hash), true, e.key.id);
        for (const e of exported) assert.equal(await target.keys.importKey(e.key, e.hash), false, 'the id is taken');
        assert.deepEqual(await target.keys.list(), await keys.list());
        assert.deepEqual(await target.keys.verify(live.secret), live.key);
        assert.equal(await target.keys.verify(revoked.secret), null);
        assert.equal(await target.keys.count(), 1);
      } finally {
        await target.cleanup();
      }
    });

    it('keeps keys and revocations across close and reopen', async () => {
      const live = await keys.create('app', 'live', ['admin']);
      const gone = await keys.create('api', 'gone');
      await keys.revoke(gone.key.id);
      keys = await harness.reopen();
      assert.deepEqual(await keys.verify(live.secret), live.key);
      assert.equal(await keys.verify(gone.secret), null);
      assert.equal(await keys.count(), 1);
      assert.equal((await keys.list()).length, 2);
    });

    it('can be closed twice', async () => {
      await keys.close();
      await keys.close();
    });
  });
}
