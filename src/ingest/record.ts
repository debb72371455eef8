import type { ProfileProtocol } from '../api/types.js';

/**
 * What every intake protocol is normalised into: the core never knows which client sent a
 * profile. Attachments are kept exactly as received (compressed or not); the CPU profile is
 * named so that it can be decoded once, at ingest.
 */
export interface IngestedProfile {
  /** Which adapter parsed it (see registry.ts). */
  protocol: ProfileProtocol;
  /** Start and end of the profiled period, ms since the epoch; a null start is taken from the profile's duration. */
  start: number | null;
  end: number;
  /** Every tag as [key, value], in the order received; a key may repeat. */
  tags: Array<[string, string]>;
  attachments: Array<{ name: string; bytes: Uint8Array }>;
  /** Name of the attachment holding the CPU profile, or null when there is none. */
  cpuAttachment: string | null;
  /** dd-trace-go's request counts per endpoint during the profile, when sent. */
  endpointCounts: Record<string, number> | null;
}

/** An upload whose protocol always says when the profile started (dd-trace-go, pyroscope). */
export type TimedIngestedProfile = IngestedProfile & { start: number };

/** The request as intake sees it: lower-case header names, a fully buffered body. */
export interface IntakeRequest {
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Decoded query string parameters. */
  query?: Record<string, string | undefined>;
}

/** Returns a header's value (the first one when repeated), or undefined. */
export function header(req: IntakeRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Returns the value of the first tag with `key`, or undefined. */
export function tagValue(tags: ReadonlyArray<[string, string]>, key: string): string | undefined {
  for (const [k, v] of tags) if (k === key) return v;
  return undefined;
}
