import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { StoreConfig } from '../store/open-store.js';
import { CliError } from './errors.js';

export const DEFAULT_DATA_DIR = 'hotpath-data';

export interface StoreFlags {
  data: string;
  index?: string;
  blobs?: string;
}

/**
 * Adds the options that choose the storage: the embedded data directory, and the PostgreSQL
 * index and S3 blobs that replace parts of it. Every command that opens the store takes the
 * same three, with the same environment variables, so `hotpath keys` works on the store the
 * server runs on.
 */
export function addStoreOptions(command: Command): Command {
  return command
    .option('--data <DIR>', 'data directory of the embedded storage (SQLite index and keys, profile files)', DEFAULT_DATA_DIR)
    .option(
      '--index <URL>',
      'PostgreSQL index, keys and coordination instead of SQLite: postgres://USER@HOST:PORT/DB (password: PGPASSWORD or ~/.pgpass) [env: HOTPATH_INDEX_URL]',
    )
    .option(
      '--blobs <URL>',
      'S3-compatible blobs instead of files: s3://BUCKET/PREFIX with ?endpoint=http://HOST:PORT, &region=REGION and &forcePathStyle=true for stores other than AWS (credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) [env: HOTPATH_BLOBS_URL]',
    );
}

/** The StoreConfig the flags (or, when a flag is absent, HOTPATH_INDEX_URL and HOTPATH_BLOBS_URL) name. */
export function storeConfig(flags: StoreFlags, env: NodeJS.ProcessEnv = process.env): StoreConfig {
  const indexUrl = nonEmpty(flags.index, '--index') ?? nonEmpty(env.HOTPATH_INDEX_URL, 'HOTPATH_INDEX_URL');
  const blobsUrl = nonEmpty(flags.blobs, '--blobs') ?? nonEmpty(env.HOTPATH_BLOBS_URL, 'HOTPATH_BLOBS_URL');
  return { dataDir: resolve(flags.data), indexUrl, blobsUrl };
}

function nonEmpty(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new CliError(`${name} is empty: give a URL or leave it out for the embedded storage`);
  return value.trim();
}
