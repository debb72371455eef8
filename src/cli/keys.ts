import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { APP_SCOPES, type AppScope } from '../store/key-scopes.js';
import type { KeyStore } from '../store/keys.js';
import { CliError } from './errors.js';
import { table } from './format.js';
import { DEFAULT_DATA_DIR } from './serve.js';

/**
 * Opens the key store of data directory `data` (as the user wrote it, for messages); SQLite is
 * loaded only when a keys command runs. Throws CliError, one line naming the directory and what
 * to do, when the directory is missing or is not a directory, or when `mustExist` and it holds no
 * key store yet (so listing or revoking never leaves a keys.sqlite in a directory the user mistyped).
 */
async function open(data: string, mustExist: boolean): Promise<KeyStore> {
  const dir = resolve(data);
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (stat === undefined) {
    throw new CliError(
      `data directory ${data} does not exist: start the server once with \`hotpath serve --data ${data}\` (it creates the directory and the first keys), or pass --data with the directory the server uses`,
    );
  }
  if (!stat.isDirectory()) throw new CliError(`--data ${data} is not a directory: pass the server's data directory`);
  const path = join(dir, 'keys.sqlite');
  if (mustExist && !existsSync(path)) {
    throw new CliError(
      `${data} has no key store (keys.sqlite): is it the server's data directory? Start the server once with \`hotpath serve --data ${data}\`, or create a key there with \`hotpath keys create --data ${data}\``,
    );
  }
  const { SqliteKeyStore } = await import('../store/sqlite-keys.js');
  try {
    return new SqliteKeyStore(path);
  } catch (err) {
    throw new CliError(`cannot open the key store ${join(data, 'keys.sqlite')}: ${(err as Error).message}`);
  }
}

export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .summary('create, list and revoke API and application keys')
    .usage('create|list|revoke [options]')
    .description(
      'Manage the keys of a server data directory (works while the server runs). API keys send profiles; application keys read, with scopes.',
    );
  keys
    .command('create')
    .description('create a key and print its secret (shown only once)')
    .option('--kind <KIND>', 'api (send profiles) or app (read)', 'app')
    .option('--scopes <LIST>', `for app keys, comma-separated: ${APP_SCOPES.join(', ')}`, 'profiles_read,pgo_read')
    .option('--name <NAME>', 'what the key is for', '')
    .option('--data <DIR>', 'server data directory', DEFAULT_DATA_DIR)
    .action(async (flags: { kind: string; scopes: string; name: string; data: string }) => {
      if (flags.kind !== 'api' && flags.kind !== 'app') throw new CliError(`--kind must be api or app, got ${JSON.stringify(flags.kind)}`);
      const scopes = flags.kind === 'app' ? (flags.scopes.split(',').filter((s) => s !== '') as AppScope[]) : [];
      for (const s of scopes)
        if (!APP_SCOPES.includes(s)) throw new CliError(`unknown scope ${JSON.stringify(s)} (scopes: ${APP_SCOPES.join(', ')})`);
      const store = await open(flags.data, false);
      try {
        const { secret, key } = await store.create(flags.kind, flags.name, scopes);
        process.stdout.write(`${secret}\n`);
        process.stderr.write(
          `created ${key.kind} key ${key.id}${key.scopes.length ? ` with scopes ${key.scopes.join(',')}` : ''}: the secret above is not stored and cannot be shown again\n`,
        );
      } finally {
        await store.close();
      }
    });
  keys
    .command('list')
    .description('list keys (never their secrets)')
    .option('--data <DIR>', 'server data directory', DEFAULT_DATA_DIR)
    .option('--json', 'print JSON')
    .action(async (flags: { data: string; json?: boolean }) => {
      const store = await open(flags.data, true);
      try {
        const list = await store.list();
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
      } finally {
        await store.close();
      }
    });
  keys
    .command('revoke')
    .description('revoke a key by id: requests with it are refused from now on')
    .argument('<ID>', 'key id, as `hotpath keys list` shows')
    .option('--data <DIR>', 'server data directory', DEFAULT_DATA_DIR)
    .action(async (id: string, flags: { data: string }) => {
      const store = await open(flags.data, true);
      try {
        if (!(await store.revoke(id))) throw new CliError(`no live key with id ${id}`);
        process.stderr.write(`revoked key ${id}\n`);
      } finally {
        await store.close();
      }
    });
}
