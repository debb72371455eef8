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
