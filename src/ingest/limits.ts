import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../pprof/compression.js';
import { IngestError } from './errors.js';
import { jsonShapeViolation } from './json-shape.js';
import type { IngestedProfile } from './record.js';

/**
 * What one upload may contain, whatever protocol sent it. A request over a count or length limit
 * is refused with 413, a malformed one with 400; the message names the limit and its value.
 */
export interface IntakeLimits {
  /** Most tags in one upload (client tags and agent tags together). */
  maxTags: number;
  /** Longest tag, in characters, written as "key:value" (Datadog's own limit is 200). */
  maxTagLength: number;
  /** Most entries in dd-trace-go's endpoint_counts. */
  maxEndpoints: number;
  /** Longest endpoint name in endpoint_counts, in characters. */
  maxEndpointNameLength: number;
  /** Most attachments (files) in one upload. */
  maxAttachments: number;
  /** Largest event.json of a dd-trace-go upload, in bytes. */
  maxEventJsonBytes: number;
  /** Deepest nesting of arrays and objects in event.json (dd-trace-go sends 2). */
  maxEventJsonDepth: number;
  /** Largest request body once its Content-Encoding is undone (OTLP exporters gzip their requests). */
  maxDecompressedBytes: number;
}

export const DEFAULT_INTAKE_LIMITS: Readonly<IntakeLimits> = Object.freeze({
  maxTags: 256,
  maxTagLength: 200,
  maxEndpoints: 1000,
  maxEndpointNameLength: 512,
  maxAttachments: 16,
  // Room for every limit above at once (256 tags of 200 characters, 1,000 endpoints of 512) with
  // a margin; a real event.json is a few kB.
  maxEventJsonBytes: 1024 * 1024,
  maxEventJsonDepth: 32,
  maxDecompressedBytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
});

/** A valid attachment name: a plain file name, as dd-trace-go and pyroscope send them. */
const ATTACHMENT_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/** A control character (C0 or DEL): never valid in a tag or an endpoint name. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** Returns `text` JSON-quoted and cut to 64 characters, to name a value in a message without echoing all of it. */
function quoted(text: string): string {
  return text.length <= 64 ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, 64))}…`;
}

function tooMany(reason: string, what: string, count: number, limit: number, where?: string): IngestError {
  return new IngestError(413, reason, `too many ${what}: ${count}, the limit is ${limit}${where ? ` (${where})` : ''}`);
}

/**
 * Returns the number of non-blank items in a `separator`-separated list without splitting it,
 * so a list of a million items is refused before a million strings are made. Never fewer than
 * the items a split-and-trim finds.
 */
export function countListItems(text: string, separator: string): number {
  const sep = separator.charCodeAt(0);
  let count = 0;
  let blank = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === sep) {
      if (!blank) count++;
      blank = true;
    } else if (c !== 0x20 && (c < 0x09 || c > 0x0d)) {
      // Only ASCII whitespace, which trim() removes, leaves an item blank; counting other
      // whitespace (U+00A0...) as text can only overcount.
      blank = false;
    }
  }
  return blank ? count : count + 1;
}

/** Throws 413 when `count` tags (from `where`, when given) are over the limit. */
export function checkTagCount(count: number, limits: IntakeLimits, where?: string): void {
  if (count > limits.maxTags) throw tooMany('tags', 'tags', count, limits.maxTags, where);
}

/** Throws 413 when `count` endpoint_counts entries are over the limit. */
export function checkEndpointCount(count: number, limits: IntakeLimits): void {
  if (count > limits.maxEndpoints) throw tooMany('endpoints', 'endpoint_counts entries', count, limits.maxEndpoints);
}

/** Throws 400 when `name` is not a plain file name ([A-Za-z0-9._-], 1 to 128 characters). */
export function checkAttachmentName(name: string): void {
  if (!ATTACHMENT_NAME.test(name)) {
    throw new IngestError(
      400,
      'attachment',
      `attachment name ${quoted(name)} is not a plain file name ([A-Za-z0-9._-], 1 to 128 characters)`,
    );
  }
}

/**
 * Throws 413 when the tag is longer than the limit as "key:value", 400 naming the tag when its key
 * holds ":" or its key or value holds a control character (U+0000-U+001F, U+007F): every place
 * that shows or groups tags can then rely on them being printable and unambiguous.
 */
export function checkTag(key: string, value: string, limits: IntakeLimits): void {
  const length = key.length + 1 + value.length;
  if (length > limits.maxTagLength) {
    throw new IngestError(413, 'tags', `tag ${quoted(key)} is ${length} characters long as key:value, the limit is ${limits.maxTagLength}`);
  }
  // The API shows a tag as "key:value" and the search language splits at the first ":".
  if (key.includes(':')) throw new IngestError(400, 'tags', `tag key ${quoted(key)} contains ":", which separates key and value`);
  const inKey = CONTROL_CHARACTER.exec(key);
  const found = inKey ?? CONTROL_CHARACTER.exec(value);
  if (found) {
    const code = `U+${found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    throw new IngestError(
      400,
      'tags',
      `tag ${quoted(key)} has a control character (${code}) in its ${inKey ? 'key' : 'value'}: tags may not contain U+0000-U+001F or U+007F`,
    );
  }
}

/** Throws 413 when an endpoint name is too long, 400 when it holds a control character. */
export function checkEndpointName(name: string, limits: IntakeLimits): void {
  if (name.length > limits.maxEndpointNameLength) {
    throw new IngestError(
      413,
      'endpoints',
      `endpoint name ${quoted(name)} is ${name.length} characters long, the limit is ${limits.maxEndpointNameLength}`,
    );
  }
  if (CONTROL_CHARACTER.test(name)) {
    throw new IngestError(
      400,
      'endpoints',
      `endpoint name ${quoted(name)} has a control character: U+0000-U+001F and U+007F are not allowed`,
    );
  }
}

/** Throws 413 when event.json is larger than the limit. */
export function checkEventJsonSize(bytes: number, limits: IntakeLimits): void {
  if (bytes > limits.maxEventJsonBytes) {
    throw new IngestError(413, 'event', `event.json is too large: ${bytes} bytes, the limit is ${limits.maxEventJsonBytes}`);
  }
}

/**
 * Throws 400 when the JSON text in `bytes` nests arrays and objects deeper than the limit:
 * JSON.parse recurses once per level, so 100,000 "[" overflow its stack. Reads the bytes once,
 * skipping strings; it does not otherwise check the JSON.
 */
export function checkJsonDepth(bytes: Uint8Array, limits: IntakeLimits, what: string): void {
  if (jsonShapeViolation(bytes, limits.maxEventJsonDepth) === 'depth') {
    throw new IngestError(400, 'event', `${what} nests arrays and objects deeper than ${limits.maxEventJsonDepth} levels`);
  }
}

/**
 * Enforces every IntakeLimits rule on a parsed upload: the one place all three adapters
 * (dd-trace-go, pyroscope, native upload) call before returning it. Adapters also check counts
 * early, before building large lists (countListItems, checkTagCount), so this pass only ever
 * sees bounded lists. Throws IngestError (413 over a limit, 400 malformed) naming the first
 * problem.
 */
export function enforceIntakeLimits(upload: IngestedProfile, limits: IntakeLimits): void {
  checkTagCount(upload.tags.length, limits);
  for (const [key, value] of upload.tags) checkTag(key, value, limits);
  if (upload.attachments.length > limits.maxAttachments) {
    throw tooMany('too_many_parts', 'attachments', upload.attachments.length, limits.maxAttachments);
  }
  for (const { name } of upload.attachments) checkAttachmentName(name);
  if (upload.endpointCounts !== null) {
    const names = Object.keys(upload.endpointCounts);
    checkEndpointCount(names.length, limits);
    for (const name of names) checkEndpointName(name, limits);
  }
}
