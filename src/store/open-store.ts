import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Blobs } from './blobs.js';
import type { KeyStore } from './keys.js';
import type { ProfileIndex } from './profile-index.js';
import { ProfileStore } from './store.js';
import { checkPostgresUrl, parseS3Url, redactUrl, StoreConfigError } from './store-urls.js';

/**
 * Which backends hold the index (with the keys and job coordination) and the blobs. Whatever no
 * URL names is embedded under `dataDir`: SQLite files for the index and keys, files for blobs.
 */
export interface StoreConfig {
  dataDir: string;
  /** `postgres://USER@HOST:PORT/DB`: a PostgreSQL index, shared by any number of replicas. */
  indexUrl?: string;
  /** `s3://BUCKET/PREFIX?endpoint=…&region=…&forcePathStyle=true`: blobs in an S3-compatible store. */
  blobsUrl?: string;
}

/** The backends `openStore` chose, ready to use; nothing else needs to know which they are. */
export interface OpenedStore {
  profiles: ProfileStore;
  keys: KeyStore;
  /** What runs, for logs: URLs with passwords redacted, or paths. */
  description: { index: string; blobs: string };
  /** What the operator should be told at start (the server logs each as a warning). */
  warnings: string[];
  /** Closes the index, the keys and the blobs; calling it twice is harmless. */
  close(): Promise<void>;
}

/**
 * Opens only the key store of `config` (for `hotpath keys`): PostgreSQL when an index URL is
 * given, else the SQLite file in the data directory. The directory must exist and, when
 * `mustExist` (listing, revoking), hold a key store already: a mistyped --data must not leave an
 * empty key store beside the real one. Rejects with StoreConfigError naming the directory and
 * what to do.
 */
export async function openKeyStore(config: StoreConfig, mustExist: boolean): Promise<{ keys: KeyStore; close(): Promise<void> }> {
  if (config.indexUrl !== undefined) {
    const { openPostgres } = await import('./pg-store.js');
    const pg = await openPostgres(checkPostgresUrl(config.indexUrl));
    return { keys: pg.keys, close: () => pg.close() };
  }
  const dir = config.dataDir;
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (stat === undefined) {
    throw new StoreConfigError(
      `data directory ${dir} does not exist: start the server once with \`hotpath serve --data ${dir}\` (it creates the directory and the first keys), or pass --data with the directory the server uses`,
    );
  }
  if (!stat.isDirectory()) throw new StoreConfigError(`--data ${dir} is not a directory: pass the server's data directory`);
  const path = join(dir, 'keys.sqlite');
  if (mustExist && !existsSync(path)) {
    throw new StoreConfigError(
      `${dir} has no key store (keys.sqlite): is it the server's data directory? Start the server once with \`hotpath serve --data ${dir}\`, or create a key there with \`hotpath keys create --data ${dir}\``,
    );
  }
  const { SqliteKeyStore } = await import('./sqlite-keys.js');
  let keys: KeyStore;
  try {
    keys = new SqliteKeyStore(path);
  } catch (err) {
    throw new StoreConfigError(`cannot open the key store ${path}: ${(err as Error).message}`);
  }
  return { keys, close: () => keys.close() };
}

/**
 * Opens the store `config` names: PostgreSQL or SQLite for the index and keys, S3 or files for
 * blobs, in any combination. Rejects with StoreConfigError for a bad URL, and with the backend's
 * error when it cannot be reached; nothing is left open then.
 */
export async function openStore(config: StoreConfig): Promise<OpenedStore> {
  const indexUrl = config.indexUrl === undefined ? undefined : checkPostgresUrl(config.indexUrl);
  const s3 = config.blobsUrl === undefined ? undefined : parseS3Url(config.blobsUrl);
  if (indexUrl === undefined || s3 === undefined) await mkdir(config.dataDir, { recursive: true });

  const opened: Array<{ close(): Promise<void> }> = [];
  const closeAll = async (): Promise<void> => {
    for (const o of opened.splice(0).reverse()) await o.close();
  };
  try {
    let index: ProfileIndex;
    let keys: KeyStore;
    const warnings: string[] = [];
    if (indexUrl === undefined) {
      const [{ SqliteProfileIndex }, { SqliteKeyStore }] = await Promise.all([import('./sqlite-index.js'), import('./sqlite-keys.js')]);
      index = new SqliteProfileIndex(join(config.dataDir, 'index.sqlite'));
      opened.push(index);
      keys = new SqliteKeyStore(join(config.dataDir, 'keys.sqlite'));
      opened.push(keys);
    } else {
      const { openPostgres } = await import('./pg-store.js');
      const pg = await openPostgres(indexUrl);
      opened.push(pg);
      index = pg.index;
      keys = pg.keys;
      warnings.push(...pg.warnings);
    }
    let blobs: Blobs;
    if (s3 === undefined) {
      const { FsBlobs } = await import('./fs-blobs.js');
      blobs = await FsBlobs.open(join(config.dataDir, 'blobs'));
    } else {
      const { S3Blobs } = await import('./s3-blobs.js');
      blobs = await S3Blobs.open(s3);
    }
    opened.push(blobs);
    const profiles = new ProfileStore(index, blobs);
    return {
      profiles,
      keys,
      description: {
        index: indexUrl === undefined ? join(config.dataDir, 'index.sqlite') : redactUrl(indexUrl),
        blobs: config.blobsUrl ?? join(config.dataDir, 'blobs'),
      },
      warnings,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
