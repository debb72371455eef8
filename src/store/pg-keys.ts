import { timingSafeEqual } from 'node:crypto';
import pg from 'pg';
import type { AppScope, KeyInfo, KeyKind } from './key-scopes.js';
import { hashKey, type KeyStore, keyInfoFromRow, newKey, scopesToText } from './keys.js';
import { type PostgresPool, StoreClosedError } from './pg-pool.js';

/**
 * KeyStore in the index's PostgreSQL database (table `api_keys`, see PG_MIGRATIONS), shared by
 * every replica. There is no cache: each verify is one lookup by hash on a unique index, so a key
 * revoked through any replica or the CLI is refused by every replica from the revoke's commit
 * on, well within REVOCATION_DELAY_MS. The final comparison is constant-time. Every call
 * rejects with StoreUnavailableError when the database cannot serve it.
 */
export class PgKeyStore implements KeyStore {
  private closed = false;

  /** `onClose` runs once, at the first close (the backend ends the pool when nothing uses it). */
  constructor(
    private readonly db: PostgresPool,
    private readonly onClose: () => Promise<void> = async () => undefined,
  ) {}

  async create(kind: KeyKind, name: string, scopes: AppScope[] = []): Promise<{ secret: string; key: KeyInfo }> {
    const { secret, hash, key } = newKey(kind, name, scopes, Date.now());
    await this.insert(key, hash);
    return { secret, key };
  }

  async list(): Promise<KeyInfo[]> {
    const { rows } = await this.open().query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`);
    return rows.map(keyInfoFromRow);
  }

  async revoke(id: string): Promise<boolean> {
    if (id.includes('\u0000')) return false;
    const result = await this.open().query('UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [Date.now(), id]);
    return (result.rowCount ?? 0) > 0;
  }

  async count(): Promise<number> {
    const { rows } = await this.open().query<{ n: string }>('SELECT count(*) AS n FROM api_keys WHERE revoked_at IS NULL');
    return Number(rows[0].n);
  }

  async verify(secret: string): Promise<KeyInfo | null> {
    const hash = hashKey(secret);
    const { rows } = await this.open().query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE hash = $1`, [hash]);
    const row = rows[0];
    if (row === undefined || !timingSafeEqual(row.hash, hash) || row.revoked_at !== null) return null;
    return keyInfoFromRow(row);
  }

  async importKey(key: KeyInfo, hash: Buffer): Promise<boolean> {
    try {
      await this.insert(key, hash);
      return true;
    } catch (err) {
      if (err instanceof pg.DatabaseError && err.code === '23505' && err.constraint === 'api_keys_pkey') return false;
      throw err;
    }
  }

  async exportKeys(): Promise<Array<{ key: KeyInfo; hash: Buffer }>> {
    const { rows } = await this.open().query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`);
    return rows.map((row) => ({ key: keyInfoFromRow(row), hash: row.hash }));
  }

  /** Closes this key store; the pool ends once the index is closed too. Calling it twice is harmless. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.onClose();
  }

  private async insert(key: KeyInfo, hash: Buffer): Promise<void> {
    if (key.name.includes('\u0000')) throw new RangeError('a key name must not contain a NUL character');
    await this.open().query(
      'INSERT INTO api_keys (id, kind, name, scopes, hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [key.id, key.kind, key.name, scopesToText(key.scopes), hash, key.createdAt, key.revokedAt],
    );
  }

  private open(): PostgresPool {
    if (this.closed) throw new StoreClosedError('the PostgreSQL key store is closed');
    return this.db;
  }
}

const COLUMNS = 'id, kind, name, scopes, hash, created_at, revoked_at';

interface KeyRow {
  id: string;
  kind: string;
  name: string;
  scopes: string;
  hash: Buffer;
  /** bigint columns arrive as strings. */
  created_at: string;
  revoked_at: string | null;
}
