import { timingSafeEqual } from 'node:crypto';
import Database from 'better-sqlite3';
import type { AppScope, KeyInfo, KeyKind } from './key-scopes.js';
import { hashKey, type KeyStore, keyInfoFromRow, newKey, scopesToText } from './keys.js';

/**
 * KeyStore in a SQLite file of the data directory. Every lookup reads the file, so a key
 * revoked by `hotpath keys revoke` in another process is refused on the next request. Lookups go
 * by hash and the final comparison is constant-time.
 */
export class SqliteKeyStore implements KeyStore {
  private readonly db: Database.Database;
  private readonly byHash: Database.Statement;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS keys (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      name TEXT NOT NULL,
      scopes TEXT NOT NULL,
      hash BLOB NOT NULL UNIQUE,
      created_at INTEGER NOT NULL,
      revoked_at INTEGER
    )`);
    this.byHash = this.db.prepare('SELECT id, kind, name, scopes, hash, created_at, revoked_at FROM keys WHERE hash = ?');
  }

  async create(kind: KeyKind, name: string, scopes: AppScope[] = []): Promise<{ secret: string; key: KeyInfo }> {
    const { secret, hash, key } = newKey(kind, name, scopes, Date.now());
    this.insert(key, hash);
    return { secret, key };
  }

  async list(): Promise<KeyInfo[]> {
    const rows = this.db
      .prepare('SELECT id, kind, name, scopes, created_at, revoked_at FROM keys ORDER BY created_at, id')
      .all() as KeyRow[];
    return rows.map(keyInfoFromRow);
  }

  async revoke(id: string): Promise<boolean> {
    return this.db.prepare('UPDATE keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(Date.now(), id).changes > 0;
  }

  async count(): Promise<number> {
    return (this.db.prepare('SELECT count(*) AS n FROM keys WHERE revoked_at IS NULL').get() as { n: number }).n;
  }

  async verify(secret: string): Promise<KeyInfo | null> {
    const hash = hashKey(secret);
    const row = this.byHash.get(hash) as (KeyRow & { hash: Buffer }) | undefined;
    if (!row || !timingSafeEqual(row.hash, hash) || row.revoked_at !== null) return null;
    return keyInfoFromRow(row);
  }

  async importKey(key: KeyInfo, hash: Buffer): Promise<boolean> {
    if (this.db.prepare('SELECT 1 FROM keys WHERE id = ?').get(key.id) !== undefined) return false;
    this.insert(key, hash);
    return true;
  }

  async exportKeys(): Promise<Array<{ key: KeyInfo; hash: Buffer }>> {
    const rows = this.db
      .prepare('SELECT id, kind, name, scopes, hash, created_at, revoked_at FROM keys ORDER BY created_at, id')
      .all() as Array<KeyRow & { hash: Buffer }>;
    return rows.map((row) => ({ key: keyInfoFromRow(row), hash: row.hash }));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private insert(key: KeyInfo, hash: Buffer): void {
    this.db
      .prepare('INSERT INTO keys (id, kind, name, scopes, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(key.id, key.kind, key.name, scopesToText(key.scopes), hash, key.createdAt, key.revokedAt);
  }
}

interface KeyRow {
  id: string;
  kind: string;
  name: string;
  scopes: string;
  created_at: number;
  revoked_at: number | null;
}
