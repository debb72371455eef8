import type { ProfileRecord } from '../store/types.js';
import type { IntakeLimits } from './limits.js';
import type { IngestedProfile, IntakeRequest } from './record.js';

/** How a client is told its upload was stored: the status and body its library expects. */
export interface IntakeAnswer {
  status: number;
  /** A JSON object, or text ('' for an empty body). */
  body: Readonly<Record<string, unknown>> | string;
}

/**
 * One intake protocol: the POST paths its clients send to, how a request becomes profiles and
 * how success is answered. Adding a protocol is writing one adapter (copy src/ingest/upload.ts)
 * and listing it in registry.ts; the server registers every listed adapter with intake access,
 * the intake gate, the body limit and the same ingest pipeline.
 */
export interface IntakeAdapter {
  /** The protocol recorded on each stored profile and the label of the ingest metrics. */
  readonly protocol: IngestedProfile['protocol'];
  /** POST paths this protocol's clients send to. */
  readonly routes: readonly string[];
  /**
   * Returns the profiles of one request (one for today's protocols; more for a batching one such
   * as OTLP), each normalised and within `limits`. Throws IngestError naming what is malformed;
   * the request is parsed whole before anything is stored.
   */
  parse(req: IntakeRequest, limits: IntakeLimits): IngestedProfile[];
  /** The success answer once every profile of the request is stored, in the order parsed. */
  answer(stored: readonly ProfileRecord[]): IntakeAnswer;
}
