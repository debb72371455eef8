import { createHash } from 'node:crypto';
import { BoundedLru } from '../cache/bounded-lru.js';
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
 * Serialized answers by key, least recently used evicted past `maxBytes` (two per UTF-16 code
 * unit) or `maxEntries`, so a repeated view costs only the search that selects its records.
 */
export class AnswerCache extends BoundedLru<string> {
  constructor(maxBytes = 64 * 2 ** 20, maxEntries = 48) {
    super(maxEntries, maxBytes, (json) => json.length * 2);
  }
}
