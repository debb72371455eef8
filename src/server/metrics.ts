/**
 * A small Prometheus registry: counters and histograms with labels, rendered in the text
 * exposition format. Enough for /metrics without a dependency.
 */
type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${labels[k].replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

export class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels)) ?? 0;
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    for (const [labels, v] of this.values) out += `${this.name}${labels} ${v}\n`;
    return out;
  }
}

export class Histogram {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number; labels: Labels }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[],
  ) {}
  observe(value: number, labels: Labels = {}): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0, labels };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) s.counts[i]++;
    s.sum += value;
    s.count++;
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => {
        out += `${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}\n`;
      });
      out += `${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}\n`;
      out += `${this.name}_sum${labelText(s.labels)} ${s.sum}\n${this.name}_count${labelText(s.labels)} ${s.count}\n`;
    }
    return out;
  }
}

/** The server's metrics. */
export class ServerMetrics {
  readonly profilesIngested = new Counter('hotpath_profiles_ingested_total', 'Profiles stored, by intake protocol.');
  readonly bytesIngested = new Counter('hotpath_ingested_bytes_total', 'Request body bytes of stored profiles, by intake protocol.');
  readonly rejections = new Counter('hotpath_rejections_total', 'Requests refused, by reason.');
  readonly tracesDropped = new Counter(
    'hotpath_traces_dropped_total',
    "Traces dd-trace-go's tracer sent (as it counts them), dropped unstored.",
  );
  readonly traceBytesDropped = new Counter(
    'hotpath_trace_bytes_dropped_total',
    "Body bytes of dd-trace-go's trace and stats payloads, dropped unstored, by kind.",
  );
  readonly requestSeconds = new Histogram(
    'hotpath_request_duration_seconds',
    'HTTP request durations, by route and status class.',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );

  render(gauges: Array<{ name: string; help: string; value: number }>): string {
    let out =
      this.profilesIngested.render() +
      this.bytesIngested.render() +
      this.rejections.render() +
      this.tracesDropped.render() +
      this.traceBytesDropped.render() +
      this.requestSeconds.render();
    for (const g of gauges) out += `# HELP ${g.name} ${g.help}\n# TYPE ${g.name} gauge\n${g.name} ${g.value}\n`;
    return out;
  }
}
