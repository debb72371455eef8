import { createHash } from 'node:crypto';
import type { ProfileRecord } from '../store/types.js';

/**
 * The key of one view's answer: the route, every parameter that shapes the answer beyond the
 * selection, and the exact selected records, in order, with whether their raw data is gone. The
 * selection already reflects the query, the window and the newest profile, and a stored profile
 * never changes (only retention deletes its data), so equal keys mean equal answers.
 */
export function answerKey(
  route: string,
  parameters: readonly (string | number)[],
  selections: readonly (readonly ProfileRecord[])[],
): string {
  const h = createHash('sha256');
  h.update(route);
  for (const p of parameters) h.update(`\u0000${p}`);
  for (const records of selections) {
    h.update('\u0001');
    for (const r of records) h.update(`${r.id}${r.rawDeleted ? '-' : '+'}`);
  }
  return h.digest('base64url');
}

/**
 * Serialized answers by key, least recently used evicted past `maxBytes` or `maxEntries`, so a
 * repeated view costs only the search that selects its records.
 */
export class AnswerCache {
  private readonly entries = new Map<string, string>();
  private held = 0;

  constructor(
    readonly maxBytes = 64 * 2 ** 20,
    readonly maxEntries = 48,
  ) {}

  get(key: string): string | undefined {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  /** Keeps `json` under `key` (an answer larger than the whole cache is not kept). */
  set(key: string, json: string): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.held -= old.length * 2;
    }
    if (json.length * 2 > this.maxBytes) return;
    this.entries.set(key, json);
    this.held += json.length * 2;
    for (const [k, v] of this.entries) {
      if (this.held <= this.maxBytes && this.entries.size <= this.maxEntries) break;
      this.entries.delete(k);
      this.held -= v.length * 2;
    }
  }

  /** Bytes held (two per UTF-16 code unit). */
  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.size;
  }
}
