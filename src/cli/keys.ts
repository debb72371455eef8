import type { Command } from 'commander';
import { APP_SCOPES } from '../store/key-scopes.js';
import { addStoreOptions, type StoreFlags } from './store-options.js';

/** The flags of `hotpath keys create`. */
export interface CreateKeyFlags extends StoreFlags {
  kind: string;
  scopes: string;
  name: string;
}

/** The flags of `hotpath keys list`. */
export interface ListKeysFlags extends StoreFlags {
  json?: boolean;
}

/** Registers `hotpath keys create|list|revoke`; what they run (keys-run.ts) is loaded only when one runs. */
export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .summary('create, list and revoke API and application keys')
    .description(
      'Manage the keys of a server (works while it runs): in its data directory, or in PostgreSQL with --index. API keys send profiles; application keys read, with scopes.',
    );
  addStoreOptions(
    keys
      .command('create')
      .description('create a key and print its secret (shown only once)')
      .option('--kind <KIND>', 'api (send profiles) or app (read)', 'app')
      .option('--scopes <LIST>', `for app keys, comma-separated: ${APP_SCOPES.join(', ')}`, 'profiles_read,pgo_read')
      .option('--name <NAME>', 'what the key is for', ''),
  ).action(async (flags: CreateKeyFlags) => (await import('./keys-run.js')).createKey(flags));
  addStoreOptions(keys.command('list').description('list keys (never their secrets)').option('--json', 'print JSON')).action(
    async (flags: ListKeysFlags) => (await import('./keys-run.js')).listKeys(flags),
  );
  addStoreOptions(
    keys
      .command('revoke')
      .description('revoke a key by id: requests with it are refused from now on, on every replica within a second')
      .argument('<ID>', 'key id, as `hotpath keys list` shows'),
  ).action(async (id: string, flags: StoreFlags) => (await import('./keys-run.js')).revokeKey(id, flags));
}
