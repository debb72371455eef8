import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MigrationProgress } from '../store/migrate.js';
import { CliError } from './errors.js';
import { parseCount } from './format.js';
import type { MigrateFlags } from './migrate.js';
import { storeConfig } from './store-options.js';

/** `hotpath migrate` (flags in migrate.ts): copies the embedded store into PostgreSQL and S3, then reads it back. */
export async function runMigrate(flags: MigrateFlags): Promise<void> {
  const config = storeConfig(flags);
  if (config.indexUrl === undefined || config.blobsUrl === undefined) {
    throw new CliError('migrate needs both targets: --index postgres://… and --blobs s3://… (or HOTPATH_INDEX_URL and HOTPATH_BLOBS_URL)');
  }
  const indexFile = join(config.dataDir, 'index.sqlite');
  if (!existsSync(indexFile)) throw new CliError(`${config.dataDir} is not a Hotpath data directory: ${indexFile} does not exist`);
  const concurrency = parseCount(flags.concurrency, '--concurrency');
  if (concurrency < 1 || concurrency > 64) throw new CliError(`--concurrency must be from 1 to 64, got ${flags.concurrency}`);

  const [{ SqliteProfileIndex }, { SqliteKeyStore }, { FsBlobs }, { openStore }, { migrateStore }] = await Promise.all([
    import('../store/sqlite-index.js'),
    import('../store/sqlite-keys.js'),
    import('../store/fs-blobs.js'),
    import('../store/open-store.js'),
    import('../store/migrate.js'),
  ]);
  const sourceIndex = new SqliteProfileIndex(indexFile);
  const sourceKeys = new SqliteKeyStore(join(config.dataDir, 'keys.sqlite'));
  const sourceBlobs = await FsBlobs.open(join(config.dataDir, 'blobs'));
  try {
    const target = await openStore(config);
    try {
      process.stderr.write(`migrating ${config.dataDir} to ${target.description.index} and ${target.description.blobs}\n`);
      const progress = progressPrinter();
      const result = await migrateStore(
        { index: sourceIndex, blobs: sourceBlobs, keys: sourceKeys },
        { index: target.profiles.index, blobs: target.profiles.blobs, keys: target.keys },
        { concurrency, onProgress: progress.update },
      );
      progress.finish(result);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } else {
        process.stdout.write(
          `done: ${result.copied} profiles copied, ${result.alreadyThere} already there and checked, ${result.blobsVerified} objects read back and equal, ` +
            `${formatBytes(result.bytesCopied)} written; keys: ${result.keysCopied} copied, ${result.keysAlreadyThere} already there; ` +
            `the target holds ${result.targetCount} profiles\n`,
        );
      }
      for (const m of result.missingInSource.slice(0, 20)) {
        process.stderr.write(`warning: profile ${m.profileId}: blob ${m.blobKey} was already missing in ${config.dataDir}\n`);
      }
      if (result.missingInSource.length > 20) process.stderr.write(`warning: ${result.missingInSource.length - 20} more missing blobs\n`);
    } finally {
      await target.close();
    }
  } finally {
    await sourceIndex.close();
    await sourceKeys.close();
    await sourceBlobs.close();
  }
}

/** Progress on stderr: one rewritten line on a terminal, a line every 5 seconds otherwise. */
function progressPrinter(): { update: (p: MigrationProgress) => void; finish: (p: MigrationProgress) => void } {
  const started = Date.now();
  const tty = process.stderr.isTTY === true;
  let lastPrinted = 0;
  const line = (p: MigrationProgress): string => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? p.done / seconds : 0;
    const eta = rate > 0 ? Math.ceil((p.total - p.done) / rate) : null;
    return `${p.done}/${p.total} profiles (${p.total === 0 ? 100 : Math.floor((100 * p.done) / p.total)}%), ${formatBytes(p.bytesCopied)}, ${rate.toFixed(0)}/s${eta === null ? '' : `, ${eta}s left`}`;
  };
  return {
    update: (p) => {
      const now = Date.now();
      if (tty) process.stderr.write(`\r${line(p)}\u001b[K`);
      else if (now - lastPrinted >= 5000) {
        lastPrinted = now;
        process.stderr.write(`${line(p)}\n`);
      }
    },
    finish: (p) => process.stderr.write(`${tty ? '\r' : ''}${line(p)}${tty ? '\u001b[K' : ''}\n`),
  };
}

function formatBytes(n: number): string {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}
