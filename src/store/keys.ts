import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import Database from 'better-sqlite3';
import { APP_SCOPES, type AppScope, type KeyInfo, type KeyKind } from './key-scopes.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Returns a new random key: a kind prefix and 32 base62 characters (190 bits). */
function newSecret(kind: KeyKind): string {
  const bytes = randomBytes(32);
  let s = '';
  for (const b of bytes) s += ALPHABET[b % 62];
  return `hp${kind}_${s}`;
}

function hashKey(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/**
 * API and application keys, stored hashed (SHA-256: keys are random, so a slow hash adds
 * nothing) in SQLite. The secret is shown once, when created. Lookups go by hash and the
 * final comparison is constant-time.
 */
export class KeyStore {
  private readonly db: Database.Database;
  private readonly byHash: Database.Statement;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
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

  /** Creates a key and returns its secret (shown once) and its record. */
  create(kind: KeyKind, name: string, scopes: AppScope[] = []): { secret: string; key: KeyInfo } {
    for (const s of scopes)
      if (!APP_SCOPES.includes(s)) throw new Error(`unknown scope ${JSON.stringify(s)} (scopes: ${APP_SCOPES.join(', ')})`);
    if (kind === 'api' && scopes.length > 0) throw new Error('API keys have no scopes: they can only send profiles');
    const secret = newSecret(kind);
    const hash = hashKey(secret);
    const id = hash.subarray(0, 6).toString('hex');
    const key: KeyInfo = { id, kind, name, scopes: kind === 'app' ? scopes : [], createdAt: Date.now(), revokedAt: null };
    this.db
      .prepare('INSERT INTO keys (id, kind, name, scopes, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, kind, name, key.scopes.join(','), hash, key.createdAt);
    return { secret, key };
  }

  list(): KeyInfo[] {
    const rows = this.db
      .prepare('SELECT id, kind, name, scopes, created_at, revoked_at FROM keys ORDER BY created_at, id')
      .all() as KeyRow[];
    return rows.map(toInfo);
  }

  /** Revokes a key by id; returns false when no such key exists. */
  revoke(id: string): boolean {
    return this.db.prepare('UPDATE keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(Date.now(), id).changes > 0;
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM keys WHERE revoked_at IS NULL').get() as { n: number }).n;
  }

  /** Returns the live key whose secret this is, or null (unknown or revoked). */
  verify(secret: string): KeyInfo | null {
    const hash = hashKey(secret);
    const row = this.byHash.get(hash) as (KeyRow & { hash: Buffer }) | undefined;
    if (!row || !timingSafeEqual(row.hash, hash) || row.revoked_at !== null) return null;
    return toInfo(row);
  }

  close(): void {
    this.db.close();
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

function toInfo(row: KeyRow): KeyInfo {
  return {
    id: row.id,
    kind: row.kind as KeyKind,
    name: row.name,
    scopes: row.scopes === '' ? [] : (row.scopes.split(',') as AppScope[]),
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}
