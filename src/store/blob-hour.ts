const HOUR_MS = 60 * 60 * 1000;

/**
 * The first segment of every blob key a save writes: its UTC write hour as `YYYYMMDDHH`. Orphan
 * collection lists one hour's prefix at a time (an object store lists a prefix without reading
 * the rest of the bucket), and retention deletes blobs by the keys their rows name.
 */
export function blobHour(ms: number): string {
  return new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString().slice(0, 13).replace(/[-T]/g, '');
}

/** The start of the hour `blobHour` returned, ms since the epoch; NaN for anything else. */
export function blobHourStart(hour: string): number {
  if (!/^\d{10}$/.test(hour)) return Number.NaN;
  return Date.parse(`${hour.slice(0, 4)}-${hour.slice(4, 6)}-${hour.slice(6, 8)}T${hour.slice(8, 10)}:00:00Z`);
}
