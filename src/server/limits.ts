import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../pprof/compression.js';

/** Request and decompression limits of the server; its own module so the CLI can show them without loading the server. */
export interface ServerLimits {
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Largest decompressed CPU profile, in bytes (decompression bombs stop here). */
  maxDecompressedBytes: number;
  /** Most attachments in one upload. */
  maxAttachments: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxBodyBytes: 32 * 1024 * 1024,
  maxDecompressedBytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
  maxAttachments: 16,
};
