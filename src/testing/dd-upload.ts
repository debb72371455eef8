/** What goes into one dd-trace-go upload. */
export interface DdUploadParts {
  cpu: Uint8Array;
  /** The delta heap profile, sent as dd-trace-go does when heap profiling is on (its default). */
  heap?: Uint8Array;
  /** dd-trace-go's `tags_profiler`: "k:v,k:v". */
  tags: string;
  start?: Date;
  end?: Date;
  boundary?: string;
  /** dd-trace-go's `endpoint_counts` (requests per endpoint during the profile); default one endpoint with 1,234; null sends none. */
  endpointCounts?: Record<string, number> | null;
  /** The metrics.json part: pairs as dd-trace-go writes them, or raw bytes; default one unknown figure. */
  metrics?: Array<[string, number]> | Uint8Array;
}

/**
 * Returns a dd-trace-go v2 upload body (multipart: one part per attachment, metrics.json, then
 * event.json) around profiles written by real Go programs, in the layout the recorded
 * dd-trace-go fixture shows, for tests and benchmarks that need many or varied uploads.
 */
export function ddTraceGoUpload(parts: DdUploadParts): { body: Buffer; contentType: string } {
  const boundary = parts.boundary ?? 'hotpathtestboundary';
  const end = parts.end ?? new Date();
  const start = parts.start ?? new Date(end.getTime() - 60_000);
  const attachments = parts.heap ? ['cpu.pprof', 'delta-heap.pprof', 'metrics.json'] : ['cpu.pprof', 'metrics.json'];
  const event = JSON.stringify({
    start: start.toISOString(),
    end: end.toISOString(),
    attachments,
    tags_profiler: parts.tags,
    family: 'go',
    version: '4',
    ...(parts.endpointCounts === null ? {} : { endpoint_counts: parts.endpointCounts ?? { 'GET /api': 1234 } }),
  });
  const part = (name: string, contentType: string, bytes: Uint8Array, filename = name) =>
    Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: ${contentType}\r\n\r\n`,
      ),
      bytes,
      Buffer.from('\r\n'),
    ]);
  const body = Buffer.concat([
    part('cpu.pprof', 'application/octet-stream', parts.cpu),
    ...(parts.heap ? [part('delta-heap.pprof', 'application/octet-stream', parts.heap)] : []),
    part('metrics.json', 'application/octet-stream', metricsPart(parts.metrics)),
    part('event', 'application/json', Buffer.from(event), 'event.json'),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

function metricsPart(metrics: DdUploadParts['metrics']): Uint8Array {
  if (metrics instanceof Uint8Array) return metrics;
  return Buffer.from(JSON.stringify(metrics ?? [['go_goroutines', 12]]));
}
