import { parseBlobRef } from './blob-ref.js';
import type { Blobs } from './blobs.js';
import type { ProfileIndex } from './profile-index.js';

/**
 * For tests: returns a ProfileIndex that runs `overrides` where given and `index` otherwise, to
 * inject failures (a crash between writes) or to hold a call open.
 */
export function overrideIndex(index: ProfileIndex, overrides: Partial<ProfileIndex>): ProfileIndex {
  return {
    callsRunInline: index.callsRunInline,
    insert: (record) => index.insert(record),
    get: (id) => index.get(id),
    search: (options) => index.search(options),
    countMatching: (filter, atMost) => index.countMatching(filter, atMost),
    facets: (filter, perField) => index.facets(filter, perField),
    referencedBlobKeys: (keys) => index.referencedBlobKeys(keys),
    runExclusive: (job, everyMs, run, now) => index.runExclusive(job, everyMs, run, now),
    markRawDeleted: (ids) => index.markRawDeleted(ids),
    delete: (ids) => index.delete(ids),
    expiredRaw: (beforeMs, limit) => index.expiredRaw(beforeMs, limit),
    expired: (beforeMs, limit) => index.expired(beforeMs, limit),
    count: () => index.count(),
    services: (from, to) => index.services(from, to),
    close: () => index.close(),
    ...overrides,
  };
}

/**
 * For tests: damages the bytes a blob reference names and nothing else, as a disk fault would.
 * A range of a pack gets `fill` repeated to the range's length (the object keeps its size and the
 * other ranges their bytes); a plain key gets `fill` as its whole content.
 */
export async function overwriteBlobRef(blobs: Pick<Blobs, 'get' | 'put'>, ref: string, fill: Uint8Array): Promise<void> {
  const { objectKey, range } = parseBlobRef(ref);
  if (range === null) {
    await blobs.put(objectKey, fill);
    return;
  }
  const whole = await blobs.get(objectKey);
  if (whole === null) throw new Error(`overwriteBlobRef: no object ${objectKey}`);
  const changed = Uint8Array.from(whole);
  for (let i = 0; i < range.length; i++) changed[range.offset + i] = fill[i % fill.length];
  await blobs.put(objectKey, changed);
}
