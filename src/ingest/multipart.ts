import { IngestError } from './errors.js';

export interface MultipartPart {
  /** The `name` of the Content-Disposition header. */
  name: string;
  /** The `filename` of the Content-Disposition header, or null. */
  filename: string | null;
  contentType: string | null;
  /** The part's body: a view into the request body, not a copy. */
  body: Buffer;
}

export interface MultipartLimits {
  /** Most parts accepted in one request. */
  maxParts: number;
  /** Longest header block accepted for one part, in bytes. */
  maxHeaderBytes?: number;
}

/** Returns the boundary of a multipart/form-data Content-Type, or throws IngestError (415/400). */
export function multipartBoundary(contentType: string | undefined): string {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) {
    throw new IngestError(415, 'content_type', `expected Content-Type multipart/form-data, got ${JSON.stringify(contentType ?? '')}`);
  }
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw new IngestError(400, 'multipart', 'multipart/form-data Content-Type has no boundary parameter');
  return boundary;
}

/**
 * Splits a buffered multipart/form-data body (RFC 7578) into its parts. Strict about what
 * matters (delimiters, the closing delimiter, a name on every part, limits) and lenient about
 * the rest (preamble, epilogue, header case, LF-only line ends in headers). Throws IngestError
 * with status 400 (malformed) or 413 (too many parts) naming the problem.
 */
export function parseMultipart(body: Buffer, boundary: string, limits: MultipartLimits): MultipartPart[] {
  const maxHeaderBytes = limits.maxHeaderBytes ?? 16 * 1024;
  const delimiter = Buffer.from(`--${boundary}`);
  const malformed = (why: string): IngestError => new IngestError(400, 'multipart', `malformed multipart body: ${why}`);

  let pos = body.indexOf(delimiter);
  if (pos < 0) throw malformed('the boundary never occurs');
  const parts: MultipartPart[] = [];
  for (;;) {
    pos += delimiter.length;
    // "--" right after a delimiter closes the body.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts;
    // Skip transport padding, then the line end.
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++;
    if (body[pos] === 0x0d) pos++;
    if (body[pos] !== 0x0a) throw malformed(`expected a line end after the boundary at byte ${pos}`);
    pos++;
    if (parts.length === limits.maxParts) {
      throw new IngestError(413, 'too_many_parts', `too many parts in multipart body: the limit is ${limits.maxParts}`);
    }
    let headerEnd = body.indexOf('\r\n\r\n', pos);
    let bodyStart = headerEnd + 4;
    const lfOnly = body.indexOf('\n\n', pos);
    if (lfOnly >= 0 && (headerEnd < 0 || lfOnly < headerEnd)) {
      headerEnd = lfOnly;
      bodyStart = lfOnly + 2;
    }
    if (headerEnd < 0) throw malformed(`part ${parts.length + 1} has no end of headers`);
    if (headerEnd - pos > maxHeaderBytes) throw malformed(`part ${parts.length + 1} has more than ${maxHeaderBytes} bytes of headers`);
    const headers = parseHeaders(body.toString('latin1', pos, headerEnd));
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), bodyStart);
    if (next < 0) throw malformed(`part ${parts.length + 1} is not terminated by the boundary (truncated body?)`);
    const disposition = headers.get('content-disposition');
    if (!disposition || !/^form-data\b/i.test(disposition))
      throw malformed(`part ${parts.length + 1} has no Content-Disposition: form-data header`);
    const name = dispositionParam(disposition, 'name');
    if (name === null || name === '') throw malformed(`part ${parts.length + 1} has no name`);
    parts.push({
      name,
      filename: dispositionParam(disposition, 'filename'),
      contentType: headers.get('content-type') ?? null,
      body: body.subarray(bodyStart, next),
    });
    pos = next + 2;
  }
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

function dispositionParam(disposition: string, param: string): string | null {
  const re = new RegExp(`;\\s*${param}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, 'i');
  const m = re.exec(disposition);
  if (!m) return null;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? '');
}
