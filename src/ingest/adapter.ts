import type { ProfileRecord } from '../store/types.js';
import type { IngestError } from './errors.js';
import type { IntakeLimits } from './limits.js';
import type { IngestedProfile, IntakeRequest } from './record.js';

/** How a client is told its upload was stored: the status and body its library expects. */
export interface IntakeAnswer {
  status: number;
  /** A JSON object, text ('' for an empty body), or bytes (a protobuf answer). */
  body: Readonly<Record<string, unknown>> | string | Uint8Array;
  /** The Content-Type of a bytes body. */
  contentType?: string;
}

/** A profile of a request that the pipeline refused while others of the request were stored. */
export interface RefusedProfile {
  /** Its position among the profiles `parse` returned. */
  index: number;
  error: IngestError;
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
   * the request is parsed whole before anything is stored. A protocol whose parsing has work for
   * the thread pool (inflating, compressing) returns a promise.
   */
  parse(req: IntakeRequest, limits: IntakeLimits): IngestedProfile[] | Promise<IngestedProfile[]>;
  /**
   * True when the protocol can tell a client that some profiles of a request were refused and
   * the others stored (OTLP's partial_success): the server then stores every profile the
   * pipeline accepts and passes the refused ones to `answer`. Otherwise the first refusal fails
   * the request.
   */
  readonly partialSuccess?: boolean;
  /**
   * The success answer once the profiles of the request are stored, in the order parsed, with
   * the ones refused (only ever non-empty for a `partialSuccess` adapter, and never all of them).
   */
  answer(stored: readonly ProfileRecord[], req: IntakeRequest, refused: readonly RefusedProfile[]): IntakeAnswer;
}
