import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** A PostgreSQL server for one test file: a throwaway cluster, or a fresh database on CI's shared server. */
export interface TestPostgres {
  /** `postgres://…` of a database that is empty at the start. */
  url: string;
  /** Another empty database on the same server (for a fresh index per test). */
  freshDatabase(): Promise<string>;
  /** Stops the server (fast shutdown: sessions are cut). Only with `own: true` or without a shared server. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data, after `stop`. */
  start(): Promise<void>;
  /** Stops the server and removes its data, or drops the databases made on the shared server. */
  close(): Promise<void>;
}

export interface StartPostgresOptions {
  /**
   * Start a cluster of its own even when HOTPATH_TEST_POSTGRES_URL names a shared server: tests
   * that stop and restart the server need this.
   */
  own?: boolean;
}

/** How long starting or stopping a cluster may take before the test fails. */
const PG_CTL_TIMEOUT_S = 60;

/**
 * Returns a PostgreSQL server for tests. With HOTPATH_TEST_POSTGRES_URL set (CI starts one
 * server) and without `own`, it creates a database with a random name there per call; otherwise
 * it runs `initdb` in a temporary directory and starts `postgres` on a free port of 127.0.0.1
 * with its socket in that directory, as the `postgres` user when running as root (PostgreSQL
 * refuses root). `fsync=off`: the data is thrown away, and the tests of durability are about
 * what PostgreSQL acknowledges, not about the disk.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  const shared = process.env.HOTPATH_TEST_POSTGRES_URL;
  if (shared !== undefined && shared !== '' && options.own !== true) return onSharedServer(shared);
  return ownCluster();
}

async function onSharedServer(adminUrl: string): Promise<TestPostgres> {
  const made: string[] = [];
  const freshDatabase = async (): Promise<string> => {
    const name = `hotpath_test_${randomBytes(6).toString('hex')}`;
    await withPostgresClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0`));
    made.push(name);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  const url = await freshDatabase();
  const unsupported = async (): Promise<void> => {
    throw new Error('stop/start need a server of their own: call startPostgres({ own: true })');
  };
  return {
    url,
    freshDatabase,
    stop: unsupported,
    start: unsupported,
    async close() {
      for (const name of made.splice(0)) await withPostgresClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

async function ownCluster(): Promise<TestPostgres> {
  const bin = await postgresBinDir();
  const dir = await mkdtemp(join(tmpdir(), 'hotpath-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? await postgresUser() : null;
  if (user !== null) await chown(dir, user.uid, user.gid);
  await chmod(dir, 0o700);
  const exec = async (program: string, args: string[]): Promise<void> => {
    const [file, argv] = user === null ? [join(bin, program), args] : ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]];
    await run(file, argv, { timeout: PG_CTL_TIMEOUT_S * 1000 });
  };
  try {
    await exec('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  let port = 0;
  const pgCtl = (action: 'start' | 'stop'): Promise<void> =>
    action === 'start'
      ? exec('pg_ctl', [
          'start',
          '-D',
          data,
          '-w',
          '-t',
          String(PG_CTL_TIMEOUT_S),
          '-l',
          join(dir, 'server.log'),
          '-o',
          `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
        ])
      : exec('pg_ctl', ['stop', '-D', data, '-w', '-t', String(PG_CTL_TIMEOUT_S), '-m', 'fast']);
  // A free port can be taken between the probe and the start: try a few.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await pgCtl('start');
      break;
    } catch (err) {
      if (attempt >= 4) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let running = true;
  let counter = 0;
  const freshDatabase = async (): Promise<string> => {
    const name = `hotpath_test_${++counter}`;
    await withPostgresClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
    return `postgres://postgres@127.0.0.1:${port}/${name}`;
  };
  const url = await freshDatabase();
  return {
    url,
    freshDatabase,
    async stop() {
      await pgCtl('stop');
      running = false;
    },
    async start() {
      await pgCtl('start');
      running = true;
    },
    async close() {
      if (running) await pgCtl('stop');
      running = false;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `f` on a plain client session of `url` (no Hotpath session settings), closed afterwards. */
export async function withPostgresClient<T>(url: string, f: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await f(client);
  } finally {
    await client.end();
  }
}

/** The newest installed PostgreSQL's bin directory (Debian keeps them outside PATH), or HOTPATH_POSTGRES_BIN. */
async function postgresBinDir(): Promise<string> {
  const configured = process.env.HOTPATH_POSTGRES_BIN;
  if (configured !== undefined && configured !== '') return configured;
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = (await readdir(root)).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  } catch {
    // Reported below.
  }
  if (versions.length === 0) {
    throw new Error(`no PostgreSQL under ${root}: install Debian's postgresql, or set HOTPATH_POSTGRES_BIN or HOTPATH_TEST_POSTGRES_URL`);
  }
  return join(root, versions[0], 'bin');
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
