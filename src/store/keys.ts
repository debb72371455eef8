import { createHash, randomBytes } from 'node:crypto';
import { APP_SCOPES, type AppScope, type KeyInfo, type KeyKind } from './key-scopes.js';

/**
 * API and application keys. Secrets are stored hashed (SHA-256: keys are random, so a slow hash
 * adds nothing) and shown once, when created. Implementations (SQLite, PostgreSQL) share the
 * secret format and the checks below, so a key made on one backend works after `hotpath migrate`.
 */
export interface KeyStore {
  /** Creates a key and returns its secret (shown once) and its record. Rejects on an unknown scope or an API key with scopes. */
  create(kind: KeyKind, name: string, scopes?: AppScope[]): Promise<{ secret: string; key: KeyInfo }>;
  /** Every key, oldest first, never the secrets. */
  list(): Promise<KeyInfo[]>;
  /** Revokes a key by id; resolves false when no live key has that id. */
  revoke(id: string): Promise<boolean>;
  /** Number of live keys. */
  count(): Promise<number>;
  /**
   * Returns the live key whose secret this is, or null (unknown or revoked). A key revoked
   * anywhere (another replica, the CLI) is refused here within REVOCATION_DELAY_MS.
   */
  verify(secret: string): Promise<KeyInfo | null>;
  /** Stores a key exactly as given (for `hotpath migrate`); resolves false when its id exists. */
  importKey(key: KeyInfo, hash: Buffer): Promise<boolean>;
  /** Every key with its hash (for `hotpath migrate`). */
  exportKeys(): Promise<Array<{ key: KeyInfo; hash: Buffer }>>;
  /** Releases the connection; calling it twice is harmless. */
  close(): Promise<void>;
}

/** Longest time a revoked key may still be accepted by a replica that cached it. */
export const REVOCATION_DELAY_MS = 1000;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A new key: its secret (a kind prefix and 32 base62 characters, 190 bits), hash and record. */
export function newKey(kind: KeyKind, name: string, scopes: AppScope[], now: number): { secret: string; hash: Buffer; key: KeyInfo } {
  for (const s of scopes)
    if (!APP_SCOPES.includes(s)) throw new RangeError(`unknown scope ${JSON.stringify(s)} (scopes: ${APP_SCOPES.join(', ')})`);
  if (kind === 'api' && scopes.length > 0) throw new RangeError('API keys have no scopes: they can only send profiles');
  let secret = `hp${kind}_`;
  for (const b of randomBytes(32)) secret += ALPHABET[b % 62];
  const hash = hashKey(secret);
  const key: KeyInfo = {
    id: hash.subarray(0, 6).toString('hex'),
    kind,
    name,
    scopes: kind === 'app' ? scopes : [],
    createdAt: now,
    revokedAt: null,
  };
  return { secret, hash, key };
}

export function hashKey(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** Scopes as stored in one text column. */
export function scopesToText(scopes: readonly AppScope[]): string {
  return scopes.join(',');
}

export function scopesFromText(text: string): AppScope[] {
  return text === '' ? [] : (text.split(',') as AppScope[]);
}

/** A key row as both stores read it; PostgreSQL's bigint times arrive as strings. */
export interface StoredKeyRow {
  id: string;
  kind: string;
  name: string;
  scopes: string;
  created_at: number | string;
  revoked_at: number | string | null;
}

/** The KeyInfo of a stored row. */
export function keyInfoFromRow(row: StoredKeyRow): KeyInfo {
  return {
    id: row.id,
    kind: row.kind as KeyKind,
    name: row.name,
    scopes: scopesFromText(row.scopes),
    createdAt: Number(row.created_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}
