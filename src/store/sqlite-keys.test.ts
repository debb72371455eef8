import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyStoreContract } from './keys.contract.js';
import type { KeyStore } from './keys.js';
import { SqliteKeyStore } from './sqlite-keys.js';

keyStoreContract('SqliteKeyStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hotpath-sqlite-keys-'));
  const path = join(dir, 'keys.sqlite');
  let current: KeyStore = new SqliteKeyStore(path);
  return {
    keys: current,
    async reopen() {
      await current.close();
      current = new SqliteKeyStore(path);
      return current;
    },
    async cleanup() {
      await current.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
