import { randomUUID } from 'node:crypto';
import { blobHour } from './blob-hour.js';
import { formatBlobRef } from './blob-ref.js';
import type { Blobs } from './blobs.js';

/** What one save asks to be written: its raw parts (attachments, then the prepared form) and its PGO form. */
export interface GroupEntry {
  raw: readonly Uint8Array[];
  pgo: Uint8Array | null;
}

/** Where a save's bytes were written: one blob reference per raw part, in order, and the PGO form's. */
export interface GroupPlacement {
  raw: string[];
  pgo: string | null;
}

export interface GroupWriterOptions {
  /** Saves written together at most; default 64. */
  maxEntries?: number;
  /** Bytes written together at most (one save larger than this is written alone); default 64 MiB. */
  maxBytes?: number;
  /** Groups written at once at most, while full groups wait; default 4. */
  maxInFlight?: number;
  /**
   * How long a save waits for others to join its group before the group is written, unless the
   * group fills first; default 10 ms. Longer makes larger groups under load (fewer requests to
   * the object store and fewer files on it) and adds up to this much to every save's latency.
   */
  lingerMs?: number;
  /** The clock the write hour comes from; default Date.now. */
  now?: () => number;
}

interface Waiting {
  entry: GroupEntry;
  bytes: number;
  /** When it arrived (performance.now()). */
  at: number;
  resolve: (placement: GroupPlacement) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for the objects of saves: the saves that arrive within a few milliseconds of each
 * other, or while a group is being written, are written together as one group, in two objects (`<hour>/<group id>/pack`: the
 * raw parts of every save back to back; `<hour>/<group id>/pgo`: their PGO forms, kept longer),
 * however many saves it holds. On an object store each put is a request the store also pays for
 * (signature, checksum, files and directories on a gateway), so under load N concurrent saves cost
 * two puts instead of 2N. A save waits at most lingerMs for others before its group is written
 * (at once when the group is full).
 * A placement is returned only when both objects are durable; when either write fails, every save
 * of the group gets the error (objects already written are left for orphan collection, since
 * no index row names them).
 */
export class GroupWriter {
  private readonly waiting: Waiting[] = [];
  private waitingBytes = 0;
  private inFlight = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly maxInFlight: number;
  private readonly now: () => number;
  private readonly lingerMs: number;
  private lingerTimer: NodeJS.Timeout | null = null;
  /** When the last group's writes settled (performance.now()). */
  private lastGroupEnd = 0;

  constructor(
    private readonly blobs: Blobs,
    options: GroupWriterOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 64;
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.maxInFlight = options.maxInFlight ?? 4;
    this.now = options.now ?? Date.now;
    this.lingerMs = options.lingerMs ?? 10;
  }

  /** Writes `entry` with whichever saves are waiting, and resolves with where its bytes are. */
  write(entry: GroupEntry): Promise<GroupPlacement> {
    let bytes = entry.pgo?.byteLength ?? 0;
    for (const part of entry.raw) bytes += part.byteLength;
    return new Promise<GroupPlacement>((resolve, reject) => {
      this.waiting.push({ entry, bytes, at: performance.now(), resolve, reject });
      this.waitingBytes += bytes;
      this.startGroups();
    });
  }

  /**
   * Starts a group when a full one is waiting and fewer than maxInFlight are being written (so a
   * slow store does not make groups, or the memory held by waiting saves, grow without bound), or
   * when nothing is being written and the group has collected saves for lingerMs (a timer comes
   * back then).
   */
  private startGroups(): void {
    for (;;) {
      if (this.waiting.length === 0) return;
      const full = this.waiting.length >= this.maxEntries || this.waitingBytes >= this.maxBytes;
      if (!full) {
        if (this.inFlight > 0) return;
        // Collect from the first save's arrival or from the end of the last group, whichever is
        // later: under load the saves that arrived during a write are joined by those of the
        // next lingerMs, so groups grow with the load instead of staying as small as a write is short.
        const wait = Math.max(this.waiting[0].at, this.lastGroupEnd) + this.lingerMs - performance.now();
        if (wait > 0) {
          this.lingerTimer ??= setTimeout(() => {
            this.lingerTimer = null;
            this.startGroups();
          }, wait);
          return;
        }
      } else if (this.inFlight >= this.maxInFlight) {
        return;
      }
      let count = 0;
      let bytes = 0;
      while (
        count < this.waiting.length &&
        count < this.maxEntries &&
        (count === 0 || bytes + this.waiting[count].bytes <= this.maxBytes)
      ) {
        bytes += this.waiting[count].bytes;
        count++;
      }
      // The group takes the saves the timer was for: whatever is left waits for this group to end.
      if (this.lingerTimer !== null) {
        clearTimeout(this.lingerTimer);
        this.lingerTimer = null;
      }
      const group = this.waiting.splice(0, count);
      this.waitingBytes -= bytes;
      this.inFlight++;
      void this.writeGroup(group).finally(() => {
        this.inFlight--;
        this.lastGroupEnd = performance.now();
        this.startGroups();
      });
    }
  }

  private async writeGroup(group: Waiting[]): Promise<void> {
    const dir = `${blobHour(this.now())}/${randomUUID()}`;
    const packKey = `${dir}/pack`;
    const pgoKey = `${dir}/pgo`;
    const packParts: Uint8Array[] = [];
    const pgoParts: Uint8Array[] = [];
    let packLength = 0;
    let pgoLength = 0;
    const placements = group.map(({ entry }): GroupPlacement => {
      const raw = entry.raw.map((part) => {
        const ref = formatBlobRef(packKey, packLength, part.byteLength);
        packParts.push(part);
        packLength += part.byteLength;
        return ref;
      });
      let pgo: string | null = null;
      if (entry.pgo !== null) {
        pgo = formatBlobRef(pgoKey, pgoLength, entry.pgo.byteLength);
        pgoParts.push(entry.pgo);
        pgoLength += entry.pgo.byteLength;
      }
      return { raw, pgo };
    });
    const writes: Promise<void>[] = [];
    if (packParts.length > 0) writes.push(this.blobs.put(packKey, concat(packParts, packLength)));
    if (pgoParts.length > 0) writes.push(this.blobs.put(pgoKey, concat(pgoParts, pgoLength)));
    // Settle every write before failing, so that no write is still running when a caller (or a
    // shutdown) goes on after a rejection.
    const failed = (await Promise.allSettled(writes)).find((w) => w.status === 'rejected');
    group.forEach((waiting, i) => {
      if (failed === undefined) waiting.resolve(placements[i]);
      else waiting.reject(failed.reason);
    });
  }
}

/** One part is written as it is (no copy); several are joined. */
function concat(parts: Uint8Array[], length: number): Uint8Array {
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, length);
}
