import { createHash } from 'node:crypto';
import { BoundedLru } from '../cache/bounded-lru.js';

/** A default.pgo as POST /api/v1/pgo answers it, without the selection it was built from. */
export interface CachedPgoBuild {
  /** The gzip-compressed default.pgo. */
  bytes: Buffer;
  /** Ids of the profiles merged, sorted. */
  ids: string[];
  samples: number;
  renamed: string[];
}

/** What determines the bytes of a build: each profile merged (with the blob its PGO form is read from) and the options. */
export interface PgoBuildInputs {
  profiles: ReadonlyArray<{ id: string; pgoBlobKey: string | null }>;
  noInline: ReadonlySet<string>;
  maxDecompressedBytes: number;
}

/** Most builds kept; CI jobs of a few hundred services repeat a few hundred selections at most between ingests. */
export const PGO_CACHE_ENTRIES = 256;
/** Most bytes of default.pgo kept (a build is tens to hundreds of KiB). */
export const PGO_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * Built default.pgo files, keyed by everything their bytes depend on (PgoBuildInputs): a CI
 * pipeline that asks for the same service again before a new profile arrives gets the same file
 * without reading and merging the profiles again. A build is deterministic and a stored PGO form
 * never changes under its blob key, so a hit is byte-identical to a fresh build. Least recently
 * used entries go first once PGO_CACHE_ENTRIES or PGO_CACHE_BYTES would be exceeded; a build
 * larger than the byte bound is not kept.
 */
export class PgoBuildCache {
  private readonly builds: BoundedLru<CachedPgoBuild>;

  constructor(maxEntries = PGO_CACHE_ENTRIES, maxBytes = PGO_CACHE_BYTES) {
    this.builds = new BoundedLru(maxEntries, maxBytes, (build) => build.bytes.length);
  }

  /** The key of a build: a SHA-256 of the inputs in a canonical order (profile ids and no-inline names sorted). */
  static key(inputs: PgoBuildInputs): string {
    const profiles = [...inputs.profiles].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((p) => [p.id, p.pgoBlobKey]);
    const canonical = JSON.stringify([profiles, [...inputs.noInline].sort(), inputs.maxDecompressedBytes]);
    return createHash('sha256').update(canonical).digest('hex');
  }

  get(key: string): CachedPgoBuild | undefined {
    return this.builds.get(key);
  }

  set(key: string, build: CachedPgoBuild): void {
    this.builds.set(key, build);
  }

  /** How many builds and bytes are kept. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.builds.size, bytes: this.builds.bytes };
  }
}
