import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { startPostgres, type TestPostgres } from '../testing/postgres.js';
import { ProfileExistsError, StoreUnavailableError } from './errors.js';
import { PostgresPool, storeError } from './pg-pool.js';

const server: TestPostgres = await startPostgres();
after(() => server.close());

describe('PostgresPool', () => {
  it('sets the statement timeout, the idle-in-transaction timeout and its application name on every connection', async () => {
    const pool = new PostgresPool(server.url, { statementTimeoutMs: 1234 });
    try {
      const show = async (setting: string): Promise<string> =>
        (await pool.query<Record<string, string>>(`SHOW ${setting}`)).rows[0][setting];
      assert.equal(await show('statement_timeout'), '1234ms');
      assert.equal(await show('idle_in_transaction_session_timeout'), '1min');
      assert.equal(await show('application_name'), 'hotpath');
    } finally {
      await pool.close();
    }
  });

  it('runs its sessions without JIT or parallel workers and with cached-index costs, unless the URL says otherwise', async () => {
    const settings = async (url: string): Promise<string[]> => {
      const pool = new PostgresPool(url);
      try {
        const { rows } = await pool.query<{ jit: string; workers: string; cost: string }>(
          "SELECT current_setting('jit') AS jit, current_setting('max_parallel_workers_per_gather') AS workers, current_setting('random_page_cost') AS cost",
        );
        return [rows[0].jit, rows[0].workers, rows[0].cost];
      } finally {
        await pool.close();
      }
    };
    assert.deepEqual(await settings(server.url), ['off', '0', '1.1']);
    const own = new URL(server.url);
    own.searchParams.set('options', '-c jit=on -c random_page_cost=2');
    const defaults = await withDefaultSettings(server.url);
    assert.deepEqual(await settings(own.toString()), ['on', defaults.workers, '2']);
  });

  it('rejects a statement that runs past the timeout with StoreUnavailableError, and keeps serving', async () => {
    const pool = new PostgresPool(server.url, { statementTimeoutMs: 100 });
    try {
      await assert.rejects(
        pool.query('SELECT pg_sleep(5)'),
        (err: unknown) => err instanceof StoreUnavailableError && /statement timeout/.test(err.message),
      );
      assert.equal((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0].one, 1);
    } finally {
      await pool.close();
    }
  });

  it('rolls a transaction back when its function rejects, and passes our errors through unchanged', async () => {
    const pool = new PostgresPool(server.url);
    try {
      await pool.query('CREATE TABLE IF NOT EXISTS pool_test (n integer)');
      const mine = new ProfileExistsError('x');
      await assert.rejects(
        pool.transaction(async (client) => {
          await client.query('INSERT INTO pool_test VALUES (1)');
          throw mine;
        }),
        (err: unknown) => err === mine,
      );
      assert.equal((await pool.query<{ n: string }>('SELECT count(*) AS n FROM pool_test')).rows[0].n, '0');
      await pool.close();
      await pool.close();
      await assert.rejects(pool.query('SELECT 1'), /closed/);
    } finally {
      await pool.close();
    }
  });
});

describe('storeError', () => {
  it('maps outages to StoreUnavailableError and leaves statement errors and our own errors alone', () => {
    const database = (code: string): pg.DatabaseError => Object.assign(new pg.DatabaseError('x', 1, 'error'), { code });
    for (const err of [
      database('57P01'), // admin shutdown
      database('53300'), // too many connections
      database('08006'), // connection failure
      database('40001'), // serialization failure
      new Error('Connection terminated unexpectedly'),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', syscall: 'connect' }),
    ]) {
      assert.ok(storeError(err) instanceof StoreUnavailableError, String(err));
    }
    for (const err of [database('23505'), database('42P01'), new ProfileExistsError('a'), new TypeError('bug'), 'text']) {
      assert.equal(storeError(err), err);
    }
  });
});

/** The server's own max_parallel_workers_per_gather, as a plain client session sees it. */
async function withDefaultSettings(url: string): Promise<{ workers: string }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ workers: string }>("SELECT current_setting('max_parallel_workers_per_gather') AS workers");
    return rows[0];
  } finally {
    await client.end();
  }
}
