import { BlobRangeError } from '../store/errors.js';
import type { ProfileStore } from '../store/store.js';
import type { ProfileRecord } from '../store/types.js';
import { CallTreeDictionary, DICTIONARY_BYTES_PER_NODE } from './call-tree-dictionary.js';
import { decodePreparedForm, type PreparedForm, preparedFormOf } from './prepared-form.js';
import { type MappedProfile, mapProfile } from './prepared-merge.js';
import { decodeStoredAttachment } from './stored-attachment.js';

/** A profile attachment ready to merge: its nodes in a dictionary and what the views say about it. */
export interface PreparedProfile {
  dictionary: CallTreeDictionary;
  mapped: MappedProfile;
  sampleTypes: Array<{ type: string; unit: string }>;
  mainModule: string | null;
  /** Where it came from: the prepared blob stored at ingest, or the raw attachment decoded here. */
  source: 'prepared' | 'raw';
  /** Approximate bytes it holds in the cache. */
  bytes: number;
}

/** Bounds of the process-wide state behind the prepared views. */
export interface PreparedProfilesOptions {
  /** Bytes the per-profile cache may hold (least recently used first out). Default 256 MB. */
  cacheBytes?: number;
  /** Dictionary nodes after which the next view starts a new dictionary (and drops the cache). Default 4 M (~180 MB at DICTIONARY_BYTES_PER_NODE). */
  dictionaryNodes?: number;
  /** Dictionary nodes one view may reach before it is refused (CallTreeTooLargeError). Default 2 × dictionaryNodes (each costs the view ~40 bytes of arrays). */
  viewNodes?: number;
}

/** Attachments read at once: enough to overlap blob reads, few enough to bound memory. */
const CONCURRENCY = 8;

/** Attachment names the intake adapters give a CPU profile when a record has more than one profile attachment. */
const CPU_ATTACHMENT_NAMES = ['cpu.pprof', 'cpu.pb.gz'];

/**
 * The attachment a record's prepared blob was built from: its only profile attachment, or the one
 * dd-trace-go and OTLP name the CPU profile; null when the record does not say. A record has a
 * prepared blob only when intake had a CPU profile, so the other attachments (heap, mutex, ...)
 * are always read raw.
 */
export function cpuAttachmentOf(record: ProfileRecord): string | null {
  const profiles = record.attachments.filter((a) => !a.name.endsWith('.json'));
  if (profiles.length === 1) return profiles[0].name;
  for (const name of CPU_ATTACHMENT_NAMES) if (profiles.some((a) => a.name === name)) return name;
  return null;
}

/**
 * The per-profile side of the merged flame views: one process-wide CallTreeDictionary and, per
 * (record, attachment), the profile mapped into it, least recently used evicted past
 * `cacheBytes`. A record's prepared blob is read when it has one; otherwise (stored before
 * prepared forms, or a blob that is missing or does not decode) its raw attachment is decoded
 * and turned into the same form here, so both give the same answer.
 *
 * Memory: the cache holds at most `cacheBytes`; the dictionary at most `dictionaryNodes` nodes
 * between views (a view that leaves it larger makes the next one start a new dictionary, which
 * drops every cached mapping of the old one) and at most `viewNodes` during one view.
 */
export class PreparedProfiles {
  private dictionary: CallTreeDictionary;
  private readonly cache = new Map<string, PreparedProfile>();
  private cachedBytes = 0;
  readonly cacheBytes: number;
  readonly dictionaryNodes: number;
  readonly viewNodes: number;
  /** Prepared blobs that failed to decode and were read raw instead (a count for tests and logs). */
  corruptBlobs = 0;

  constructor(
    private readonly store: ProfileStore,
    private readonly maxDecompressedBytes: number,
    options: PreparedProfilesOptions = {},
  ) {
    this.cacheBytes = options.cacheBytes ?? 256 * 2 ** 20;
    this.dictionaryNodes = options.dictionaryNodes ?? 4 * 2 ** 20;
    this.viewNodes = options.viewNodes ?? 2 * this.dictionaryNodes;
    this.dictionary = new CallTreeDictionary(this.viewNodes);
  }

  /**
   * The dictionary a view maps its profiles into, for the whole view (a concurrent view may
   * replace the current one meanwhile; this one stays valid for whoever holds it).
   */
  beginView(): CallTreeDictionary {
    if (this.dictionary.size > this.dictionaryNodes) {
      this.dictionary = new CallTreeDictionary(this.viewNodes);
      this.cache.clear();
      this.cachedBytes = 0;
    }
    return this.dictionary;
  }

  /** Bytes held: the cache and the current dictionary. */
  get bytes(): number {
    return this.cachedBytes + this.dictionary.size * DICTIONARY_BYTES_PER_NODE;
  }

  /** Number of cached profiles. */
  get cached(): number {
    return this.cache.size;
  }

  /** Returns attachment `attachment` of `record` mapped into `dictionary`, or why it cannot be read. */
  async read(record: ProfileRecord, attachment: string, dictionary: CallTreeDictionary): Promise<PreparedProfile | { reason: string }> {
    const key = `${record.id}\u0000${attachment}`;
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.dictionary === dictionary && !record.rawDeleted) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const form = await this.formOf(record, attachment);
    if ('reason' in form) return form;
    const entry = this.mapInto(dictionary, form.form, form.source);
    if (hit !== undefined) {
      this.cache.delete(key);
      this.cachedBytes -= hit.bytes;
    }
    if (dictionary === this.dictionary && entry.bytes <= this.cacheBytes) {
      this.cache.set(key, entry);
      this.cachedBytes += entry.bytes;
      for (const [k, v] of this.cache) {
        if (this.cachedBytes <= this.cacheBytes) break;
        this.cache.delete(k);
        this.cachedBytes -= v.bytes;
      }
    }
    return entry;
  }

  /** Reads attachment `attachment` of every record, CONCURRENCY at a time; results in record order. */
  async readAll(
    records: readonly ProfileRecord[],
    attachment: string,
    dictionary: CallTreeDictionary,
  ): Promise<Array<PreparedProfile | { reason: string }>> {
    const out: Array<PreparedProfile | { reason: string }> = new Array(records.length);
    let next = 0;
    const worker = async () => {
      while (next < records.length) {
        const i = next++;
        out[i] = await this.read(records[i], attachment, dictionary);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, records.length) }, worker));
    return out;
  }

  private async formOf(
    record: ProfileRecord,
    attachment: string,
  ): Promise<{ form: PreparedForm; source: 'prepared' | 'raw' } | { reason: string }> {
    if (record.rawDeleted) return { reason: 'raw data deleted by retention' };
    const stored = record.attachments.find((a) => a.name === attachment);
    if (stored === undefined) return { reason: `no attachment ${attachment}` };
    if (record.preparedBlobKey !== null && cpuAttachmentOf(record) === attachment) {
      const bytes = await this.store.readPreparedOf(record).catch((err: unknown) => {
        // A pack shorter than the prepared form's range: damaged like a bad CRC, read the raw profile.
        if (err instanceof BlobRangeError) return new Uint8Array(0);
        throw err;
      });
      if (bytes !== null) {
        try {
          return { form: decodePreparedForm(bytes), source: 'prepared' };
        } catch {
          // Derived data: the raw attachment gives the same answer, so a bad blob costs only time.
          this.corruptBlobs++;
        }
      }
    }
    const profile = await decodeStoredAttachment(this.store, stored, this.maxDecompressedBytes);
    return 'reason' in profile ? profile : { form: preparedFormOf(profile), source: 'raw' };
  }

  private mapInto(dictionary: CallTreeDictionary, form: PreparedForm, source: 'prepared' | 'raw'): PreparedProfile {
    const mapped = mapProfile(dictionary, form);
    let bytes = 256 + mapped.ids.byteLength + mapped.values.byteLength;
    for (const t of form.sampleTypes) bytes += 2 * (t.type.length + t.unit.length) + 64;
    return { dictionary, mapped, sampleTypes: form.sampleTypes, mainModule: form.mainModule, source, bytes };
  }
}
