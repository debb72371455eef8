import { APP_SCOPES, type AppScope } from '../store/key-scopes.js';
import type { KeyStore } from '../store/keys.js';
import { CliError } from './errors.js';
import { table } from './format.js';
import type { CreateKeyFlags, ListKeysFlags } from './keys.js';
import { type StoreFlags, storeConfig } from './store-options.js';

/** Runs `use` with the key store the flags name; the backends are loaded only when a keys command runs. */
async function withKeys<T>(flags: StoreFlags, mustExist: boolean, use: (keys: KeyStore) => Promise<T>): Promise<T> {
  const { openKeyStore } = await import('../store/open-store.js');
  const opened = await openKeyStore(storeConfig(flags), mustExist);
  try {
    return await use(opened.keys);
  } finally {
    await opened.close();
  }
}

/** `hotpath keys create`: prints the new key's secret on stdout, what it is on stderr. */
export async function createKey(flags: CreateKeyFlags): Promise<void> {
  if (flags.kind !== 'api' && flags.kind !== 'app') throw new CliError(`--kind must be api or app, got ${JSON.stringify(flags.kind)}`);
  const kind = flags.kind;
  const scopes = kind === 'app' ? (flags.scopes.split(',').filter((s) => s !== '') as AppScope[]) : [];
  for (const s of scopes)
    if (!APP_SCOPES.includes(s)) throw new CliError(`unknown scope ${JSON.stringify(s)} (scopes: ${APP_SCOPES.join(', ')})`);
  const { secret, key } = await withKeys(flags, false, (store) => store.create(kind, flags.name, scopes));
  process.stdout.write(`${secret}\n`);
  process.stderr.write(
    `created ${key.kind} key ${key.id}${key.scopes.length ? ` with scopes ${key.scopes.join(',')}` : ''}: the secret above is not stored and cannot be shown again\n`,
  );
}

/** `hotpath keys list`: every key, never a secret. */
export async function listKeys(flags: ListKeysFlags): Promise<void> {
  const list = await withKeys(flags, true, (store) => store.list());
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    return;
  }
  const rows = list.map((k) => [
    k.id,
    k.kind,
    k.scopes.join(',') || '-',
    k.revokedAt ? 'revoked' : 'live',
    new Date(k.createdAt).toISOString(),
    k.name,
  ]);
  process.stdout.write(
    `${table(['id', 'kind', 'scopes', 'state', 'created', 'name'], rows, [false, false, false, false, false, false])}\n`,
  );
}

/** `hotpath keys revoke ID`. */
export async function revokeKey(id: string, flags: StoreFlags): Promise<void> {
  if (!(await withKeys(flags, true, (store) => store.revoke(id)))) throw new CliError(`no live key with id ${id}`);
  process.stderr.write(`revoked key ${id}\n`);
}
