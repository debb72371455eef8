// The JSON the HTTP API answers, written once: the server's routes build these shapes, the web
// UI (web/tsconfig.json compiles this file) and the end-to-end tests read them. A declaration
// file because it holds only types: the web build can include it from outside its rootDir,
// and nothing of it exists at run time. Times are RFC 3339 strings.

/** Every refusal: a message saying what to fix and a machine-readable code (the reason label in /metrics). */
export interface ErrorJson {
  error: string;
  code: string;
  /** Column of a query syntax error (code `query`). */
  column?: number;
}

/** The answer to an upload (POST /api/v1/profiles, dd-trace-go intake): the stored profile's id. */
export interface StoredJson {
  id: string;
}

/** The intake protocol a profile arrived through. */
export type ProfileProtocol = 'datadog' | 'pyroscope' | 'upload' | 'scrape' | 'otlp';

/** What a stored profile says about the program it came from: the same in the store's record and in the API. */
export interface ProfileOrigin {
  protocol: ProfileProtocol;
  service: string;
  env: string;
  version: string;
  host: string;
  runtime: string;
  /** Whether the service was built with PGO; null when the client did not say. */
  pgo: boolean | null;
  /** Average CPU cores used during the profile; null when there is no CPU profile. */
  cpuCores: number | null;
}

/** One stored profile (GET /api/v1/profiles/:id, the rows of GET /api/v1/profiles). */
export interface ProfileJson extends ProfileOrigin {
  id: string;
  start: string;
  end: string;
  received: string;
  samples: number;
  durationNanos: number;
  /** Every tag as `key:value`, in the order received. */
  tags: string[];
  attachments: Array<{ name: string; size: number; compression: string }>;
  rawDeleted: boolean;
  endpointCounts: Record<string, number> | null;
}

/** GET /api/v1/profiles: one page of a search and how many profiles match in all. */
export interface ProfileListJson {
  profiles: ProfileJson[];
  /** Profiles matching, counted up to 10,000 or the end of the requested page, whichever is further. */
  total: number;
  /** False when more profiles match than `total` says (the count stopped there). */
  totalExact: boolean;
  from: string;
  to: string;
}

export interface FacetValue {
  value: string;
  count: number;
}

/** GET /api/v1/facets: how many profiles match, and the most common values of each field among them. */
export interface FacetsJson {
  total: number;
  facets: Record<string, FacetValue[]>;
}

/**
 * A flame tree as drawing code reads it: frames depth-first, `name` indexing `names`. A flame
 * graph has self and total per frame, a diff before and after.
 */
export interface TreeJson {
  names: string[];
  name: number[];
  depth: number[];
  self?: number[];
  total?: number[];
  before?: number[];
  after?: number[];
}

export interface FlameTreeJson extends TreeJson {
  self: number[];
  total: number[];
}

export interface DiffTreeJson extends TreeJson {
  before: number[];
  after: number[];
}

/** One value column of one attachment, keyed `<attachment>:<type>` (e.g. `cpu.pprof:cpu`). */
export interface SampleTypeJson {
  key: string;
  attachment: string;
  type: string;
  unit: string;
}

/** A selected profile left out of a view, and why. */
export interface SkippedJson {
  id: string;
  reason: string;
}

export interface FunctionTotalJson {
  name: string;
  flat: number;
  cum: number;
}

/** GET /api/v1/flamegraph: one profile, or the profiles matching a query, as one tree. */
export interface FlameJson {
  profiles: number;
  profileIds: string[];
  seconds: number;
  sampleTypes: SampleTypeJson[];
  sampleType: string;
  unit: string;
  /**
   * Import path of the profiled program's own module, read from function and file names (functions
   * under `main.` are its own in any case); null when the profiles do not tell. The UI colours
   * frames by it: runtime, standard library, own module, dependencies.
   */
  mainModule: string | null;
  total: number;
  /** Frames in the full tree, and how many of the smallest the server left out (maxNodes). */
  nodes: number;
  droppedNodes: number;
  tree: FlameTreeJson;
  top: FunctionTotalJson[];
  skipped: SkippedJson[];
}

/** One side of a diff, its totals scaled as the diff's `normalize` says. */
export interface DiffSide {
  profiles: number;
  profileIds: string[];
  seconds: number;
  total: number;
  skipped: SkippedJson[];
}

export interface FunctionChangeJson {
  name: string;
  before: number;
  after: number;
  delta: number;
}

/** GET /api/v1/diff: two selections in one tree, per second, per profile or as summed. */
export interface DiffJson {
  before: DiffSide;
  after: DiffSide;
  normalize: 'second' | 'profile' | 'none';
  unit: string;
  sampleType: string;
  sampleTypes: SampleTypeJson[];
  nodes: number;
  droppedNodes: number;
  tree: DiffTreeJson;
  changes: FunctionChangeJson[];
}

/** One service seen in a window, with its PGO adoption (what the store's index answers). */
export interface ServiceAdoption {
  service: string;
  envs: string[];
  /** Version of its newest profile. */
  latestVersion: string;
  profiles: number;
  /** Mean CPU cores over its CPU profiles; null when it has none. */
  cpuCores: number | null;
  /** Share (0..1) of its profiles tagged pgo:true, among those that say either way. */
  pgoShare: number;
  /** pgo tag of its newest profile: true, false, or null when not sent. */
  latestPgo: boolean | null;
}

/** One service of GET /api/v1/services. */
export interface ServiceJson extends ServiceAdoption {
  /** Its newest profile says pgo:false: it runs a build without PGO. */
  withoutPgo: boolean;
}

/** GET /api/v1/services. */
export interface ServicesJson {
  from: string;
  to: string;
  services: ServiceJson[];
}

export interface HotCallSiteJson {
  caller: string;
  callee: string;
  offset: number;
  weight: number;
  sharePercent: number;
  hot: boolean;
}

/** GET /api/v1/pgo/explain: the hot call sites of the default.pgo one query would build. */
export interface ExplainJson {
  query: string;
  profileIds: string[];
  debugQuery: string;
  valueType: string;
  totalWeight: number;
  thresholdPercent: number;
  hotCount: number;
  edgeCount: number;
  edges: HotCallSiteJson[];
}

/** One query of a PGO build as run (runtime:go added), with how many profiles it matched. */
export interface PgoQueryJson {
  query: string;
  from: string;
  to: string;
  limit: number;
  matched: number;
}

/** POST /api/v1/pgo with `Accept: application/json`: the default.pgo (base64) and where it came from. */
export interface PgoAnswerJson {
  profiles: Array<{ id: string; service: string; env: string; version: string; cpuCores: number | null; start: string; end: string }>;
  queries: PgoQueryJson[];
  sha256: string;
  bytes: number;
  samples: number;
  notInlined: string[];
  debugQuery: string;
  pgo: string;
}

/**
 * POST /api/unstable/profiles/list (datadog-pgo's older search): Datadog's shape, as far as
 * datadog-pgo reads it. The event id is the profile id.
 */
export interface DatadogProfileListJson {
  data: Array<{
    type: 'profile';
    id: string;
    attributes: {
      id: string;
      service: string;
      env: string;
      version: string;
      /** Start of the profiled period, RFC 3339 UTC. */
      timestamp: string;
      duration_nanos: number;
      custom: { metrics: { core_cpu_cores: number } };
    };
  }>;
}

/** How GET /api/v1/timeline splits CPU into series: by the version tag or by the pgo flag. */
export type TimelineSplit = 'version' | 'pgo';

/** One split value's CPU over the timeline's buckets (all arrays have one entry per bucket). */
export interface TimelineSeriesJson {
  /** The version, or "true"/"false" for pgo; "" when the profiles do not say, "(other)" for the smallest values summed. */
  value: string;
  /** The value as a legend shows it. */
  label: string;
  /** Profiles of this value overlapping the window. */
  profiles: number;
  /** CPU time spent in each bucket, in seconds. */
  cpuSeconds: number[];
  /** Mean CPU cores in each bucket: cpuSeconds over the bucket's length. */
  cpuCores: number[];
  /** Requests served in each bucket, from dd-trace-go's endpoint counts (0 where no profile sent them). */
  requests: number[];
  /** CPU seconds per request in each bucket, over the profiles that sent endpoint counts; null where there were none. */
  cpuPerRequest: Array<number | null>;
}

/** The first profile of a new version or pgo value in the window. */
export interface TimelineMarkerJson {
  kind: 'version' | 'pgo';
  at: string;
  atMs: number;
  value: string;
  /** The value of the profile just before it. */
  previous: string;
}

/** GET /api/v1/timeline: CPU over time for the profiles a query matches, split by version or pgo. */
export interface TimelineJson {
  query: string;
  from: string;
  to: string;
  fromMs: number;
  toMs: number;
  /** Bucket length in ms; bucket i starts at fromMs + i × stepMs, the last one ends at toMs. */
  stepMs: number;
  buckets: number;
  split: TimelineSplit;
  series: TimelineSeriesJson[];
  markers: TimelineMarkerJson[];
  /** Sums over every series and bucket: CPU seconds and requests in the window, CPU seconds per request where counted. */
  totals: { cpuSeconds: number; requests: number; cpuPerRequest: number | null };
  /** Profiles matching, used (the newest, up to the limit), with a CPU profile, and with endpoint counts. */
  profiles: { matched: number; used: number; withCpu: number; withRequests: number };
  /** False when more profiles matched than the limit: only the newest were used and older buckets are short. */
  complete: boolean;
}

/** One API or application key, never its secret (GET /api/v1/keys). */
export interface KeyJson {
  id: string;
  kind: 'api' | 'app';
  name: string;
  scopes: Array<'profiles_read' | 'pgo_read' | 'admin'>;
  createdAt: string;
  revokedAt: string | null;
}

export interface KeyListJson {
  keys: KeyJson[];
}

/** POST /api/v1/keys: the new key, with its secret shown this once. */
export interface CreatedKeyJson {
  key: KeyJson;
  secret: string;
}

/** A scrape target's state: `up` after a successful scrape, `down` after a failed one, `unknown` before the first. */
export type TargetHealth = 'up' | 'down' | 'unknown';

/** One net/http/pprof target of `hotpath serve --scrape` and how its scrapes go. */
export interface TargetJson {
  job: string;
  /** The address as configured (host:port). */
  instance: string;
  /** The CPU profile URL scraped. */
  url: string;
  labels: Record<string, string>;
  /** Where the target came from: "static_configs" or a file_sd file's path. */
  source: string;
  health: TargetHealth;
  /** True while a scrape of it runs (a CPU profile takes profile_seconds). */
  scraping: boolean;
  /** When the last scrape finished, and how long it took (seconds), or null before the first. */
  lastScrape: string | null;
  lastDurationSeconds: number | null;
  /** What went wrong at the last scrape (or what was left out of it); null when it went well. */
  lastError: string | null;
  /** Why the last scrape failed: profiler_busy, connection, timeout, tls, http_status, too_large, credentials, ingest; null when it did not. */
  lastErrorReason: string | null;
  consecutiveFailures: number;
  /** When the next scrape starts (later than the interval while backing off after failures); null while one runs. */
  nextScrape: string | null;
  /** The profile stored by the last successful scrape. */
  lastProfileId: string | null;
  profilesStored: number;
  intervalSeconds: number;
  profileSeconds: number;
}

/** A file_sd file that could not be used; the targets it last listed are still scraped. */
export interface TargetDiscoveryErrorJson {
  job: string;
  file: string;
  error: string;
  since: string;
}

/** GET /api/v1/targets: every scrape target with its health. */
export interface TargetsJson {
  /** False when the server runs without --scrape. */
  scraping: boolean;
  /** The scrape config file, when there is one. */
  configFile: string | null;
  targets: TargetJson[];
  discoveryErrors: TargetDiscoveryErrorJson[];
}

/** A figure and its 95% confidence interval (low and high are ±Infinity, sent as null, when it cannot be bounded). */
export interface ImpactIntervalJson {
  value: number;
  low: number | null;
  high: number | null;
}

/** What the impact report concludes: less or more CPU per request (or cores), or why it cannot say. */
export type ImpactVerdict = 'less' | 'more' | 'not significant' | 'not enough data';

/** One side (before or after) of GET /api/v1/impact. */
export interface ImpactSideJson {
  query: string;
  /** Profiles matching the query in the window (at most the report's limit), and of those, the ones with a CPU profile. */
  profiles: number;
  profilesWithCpu: number;
  /** Profiles carrying dd-trace-go's endpoint_counts, and the requests they count. */
  profilesWithCounts: number;
  requests: number;
  /** Wall-clock seconds the profiles with a CPU profile cover. */
  seconds: number;
  /** CPU nanoseconds per request (total CPU / total requests over the profiles with counts); null without counts. */
  cpuPerRequestNanos: ImpactIntervalJson | null;
  /** Average CPU cores (load included); null without CPU profiles. */
  cpuCores: ImpactIntervalJson | null;
}

/** after − before, in the report's unit, and relative to before (a fraction: −0.1 is 10% less). */
export interface ImpactDifferenceJson {
  absolute: ImpactIntervalJson;
  relative: ImpactIntervalJson | null;
  /** Welch–Satterthwaite degrees of freedom; null when there was not enough data. */
  df: number | null;
  verdict: ImpactVerdict;
}

/** One endpoint (dd-trace-go's `trace endpoint`, e.g. "GET /users") of the impact report. */
export interface ImpactEndpointJson {
  endpoint: string;
  beforeRequests: number;
  afterRequests: number;
  beforeCpuPerRequestNanos: ImpactIntervalJson | null;
  afterCpuPerRequestNanos: ImpactIntervalJson | null;
  difference: ImpactDifferenceJson;
}

/**
 * GET /api/v1/impact: did the change between two selections (typically pgo:false and pgo:true of
 * one service) use less CPU? Measured per request when both sides send request counts, so that a
 * change in load is not mistaken for a change in cost; otherwise in CPU cores, saying so.
 */
export interface ImpactJson {
  from: string;
  to: string;
  /** The confidence level of every interval (0.95). */
  level: number;
  metric: 'cpu_per_request' | 'cpu_cores';
  unit: 'nanoseconds' | 'cores';
  before: ImpactSideJson;
  after: ImpactSideJson;
  difference: ImpactDifferenceJson;
  /** One sentence a reader can act on: the verdict with its numbers. */
  summary: string;
  /** Caveats: load not accounted for, profiles skipped, limits reached. */
  notes: string[];
  /** Per-endpoint rows, most requests first (at most the report's endpoint limit); empty without counts. */
  endpoints: ImpactEndpointJson[];
  /**
   * The regression guard: heap in use and goroutines from the profiles, each flagged on a
   * significant rise; then the memory and goroutine figures of the client's metrics.json
   * (dd-trace-go), only those either side sent.
   */
  guard: ImpactGuardJson[];
}

/**
 * One resource the regression guard of GET /api/v1/impact watches: its mean per profile on each
 * side, the rise after − before with Welch's interval, and whether it is flagged (a significant rise).
 */
export interface ImpactGuardJson {
  /**
   * heap_inuse_bytes and goroutines are read from heap and goroutine profiles; the go_* figures
   * are dd-trace-go's metrics.json values as sent (mean over the profiles that carry them).
   */
  metric: 'heap_inuse_bytes' | 'goroutines' | 'go_num_goroutine' | 'go_alloc_bytes_per_sec' | 'go_heap_growth_bytes_per_sec';
  unit: 'bytes' | 'count' | 'bytes_per_second';
  /** Where the figure comes from: the profiles themselves, or the client's metrics.json. Absent in answers of older servers. */
  source?: 'profiles' | 'metrics.json';
  beforeProfiles: number;
  afterProfiles: number;
  before: ImpactIntervalJson | null;
  after: ImpactIntervalJson | null;
  rise: ImpactIntervalJson | null;
  relativeRise: ImpactIntervalJson | null;
  verdict: ImpactVerdict;
  /** A significant rise that is also material: at least 10% and at least 32 MiB of heap (32 MiB/s of a rate) or 100 goroutines. */
  flagged: boolean;
  /** When flagged: the functions whose share (mean per profile, stacks through them) grew most; empty for metrics.json figures. */
  grew: Array<{ function: string; before: number; after: number }>;
  /** When flagged: functions inlined in the after side's stacks but never before, heaviest first (candidates for `hotpath pgo --no-inline`). */
  noInlineCandidates: string[];
}
