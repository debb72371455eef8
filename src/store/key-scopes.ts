// Key kinds and scopes, apart from the SQLite key store so the CLI can list them cheaply.

/** What a key may do. API keys only send profiles; application keys read, with scopes. */
export type KeyKind = 'api' | 'app';
export const APP_SCOPES = ['profiles_read', 'pgo_read', 'admin'] as const;
export type AppScope = (typeof APP_SCOPES)[number];

export interface KeyInfo {
  id: string;
  kind: KeyKind;
  name: string;
  scopes: AppScope[];
  createdAt: number;
  revokedAt: number | null;
}
