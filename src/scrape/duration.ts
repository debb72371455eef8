// Durations and sizes as Prometheus configs write them, so a scrape job pasted from a
// prometheus.yml or a Parca config reads the same here.

const UNIT_MS: Record<string, number> = {
  y: 365 * 86_400_000,
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};

/** Prometheus's duration grammar: units from the largest to the smallest, each at most once ("1h30m", "90s", "500ms"). */
const DURATION = /^(?:(\d{1,9})y)?(?:(\d{1,9})w)?(?:(\d{1,9})d)?(?:(\d{1,9})h)?(?:(\d{1,9})m)?(?:(\d{1,9})s)?(?:(\d{1,9})ms)?$/;
const DURATION_UNITS = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];

/**
 * Returns a Prometheus duration ("15s", "1m", "1h30m", "500ms", "0s") in ms, or null when the
 * text is not one. Units go from the largest to the smallest, each at most once, as Prometheus
 * requires; a bare number has no unit and is not a duration.
 */
export function parseConfigDuration(text: string): number | null {
  if (text === '') return null;
  const m = DURATION.exec(text);
  if (!m) return null;
  let ms = 0;
  for (let i = 0; i < DURATION_UNITS.length; i++) if (m[i + 1] !== undefined) ms += Number(m[i + 1]) * UNIT_MS[DURATION_UNITS[i]];
  return ms;
}

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1024,
  KiB: 1024,
  MB: 1024 ** 2,
  MiB: 1024 ** 2,
  GB: 1024 ** 3,
  GiB: 1024 ** 3,
};

/**
 * Returns a size such as "64MB" or "512KiB" in bytes, or null when the text is not one. As in
 * Prometheus's body_size_limit, KB, MB and GB are powers of 1024.
 */
export function parseConfigSize(text: string): number | null {
  const m = /^(\d{1,12})(B|KB|KiB|MB|MiB|GB|GiB)$/.exec(text);
  if (!m) return null;
  const bytes = Number(m[1]) * SIZE_UNITS[m[2]];
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** A duration for messages and the API, in the config's own notation ("1m30s", "250ms"). */
export function formatConfigDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms']) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * UNIT_MS[unit];
    }
  }
  return out;
}
