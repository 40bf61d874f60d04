/**
 * The one resolved configuration object. Environment, config file and defaults
 * are merged into this shape by `resolveConfig`; nothing downstream reads env.
 */

export type ExporterName = 'prometheus' | 'otlp' | 'console';
export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';
export type TemporalityPreference = 'cumulative' | 'delta' | 'lowmemory';
export type LogLevel = 'none' | 'error' | 'warn' | 'info' | 'debug' | 'verbose' | 'all';
export type HistogramKind = 'explicit' | 'exponential';
/** Names of the runtime metrics: OpenTelemetry's semantic conventions, or prom-client's default metrics. */
export type RuntimeNames = 'otel' | 'prom-client';

/** Names of the instrumentation groups register() can start on its own. */
export type DefaultInstrumentationName =
  | 'http-server'
  | 'http-client'
  | 'runtime'
  // one runtime group each (`runtime` = all four)
  | 'runtime-eventloop'
  | 'runtime-gc'
  | 'runtime-heap'
  | 'runtime-process';

/**
 * `diagnostics-channel`: otelkit's metrics only. `instrumentation-http`: the same metrics
 * plus @opentelemetry/instrumentation-http's spans.
 */
export type HttpMode = 'diagnostics-channel' | 'instrumentation-http';

export interface PrometheusConfig {
  /** Interface to bind; `0.0.0.0` for containers. */
  host: string;
  /** Port; 0 picks an ephemeral port (reported by the handle). */
  port: number;
  /** Path the scrape is served on. */
  path: string;
  /** When set, a scrape must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Append Prometheus unit suffixes (`_seconds`, `_bytes`, ...) to exported names. */
  unitSuffixes: boolean;
  /** Start the standalone server; false when only the mountable handler is used. */
  server: boolean;
  /** Prepended to every metric name with an underscore (`myapp` -> `myapp_http_...`); not to `target_info`. */
  prefix?: string;
  /** Resource attributes copied as labels onto every series (`service.name` -> `service_name`). */
  resourceLabels: string[];
  /** The `otel_scope_name` / `otel_scope_version` labels on every series. */
  scopeLabels: boolean;
}

export interface OtlpConfig {
  /** Full metrics URL for HTTP protocols, `http://host:port` for gRPC. */
  endpoint: string;
  protocol: OtlpProtocol;
  headers: Record<string, string>;
  timeoutMs: number;
  compression: 'gzip' | 'none';
  temporality: TemporalityPreference;
  /** Exponential histograms are OTLP-only; Prometheus text cannot carry them. */
  histogram: HistogramKind;
}

export interface HttpInstrumentationConfig {
  /** Paths never recorded (exact match, or prefix when ending in `*`). */
  excludePaths: string[];
  /** Record request/response body size histograms. */
  bodySizes: boolean;
  /** Default `diagnostics-channel`. */
  mode?: HttpMode;
}

export interface RuntimeConfig {
  /** `prom-client`: prom-client's default metric names instead of the OpenTelemetry ones. */
  names: RuntimeNames;
}

/** The endpoints served beside the scrape: health probes and the JSON snapshot (docs/health.md). */
export interface HealthConfig {
  /** Liveness: 200 while the process runs, no work done. */
  livePath: string;
  /** Readiness: runs the checks added with addHealthCheck(); 503 when a critical one fails. */
  readyPath: string;
  /** The JSON snapshot that getStats() returns. */
  statsPath: string;
  /** Endpoints answered without the Prometheus token (when one is set). */
  open: ('live' | 'ready' | 'stats')[];
  /** The sliding windows of the snapshot's HTTP figures, in seconds, ascending. */
  statsWindows: number[];
}

/**
 * A service level objective on one HTTP route, turned into burn-rate rules by
 * `npx otelkit assets` (the 30-day, multi-window multi-burn-rate scheme of the
 * Google SRE workbook). The app itself does nothing with it.
 */
export interface SloConfig {
  /** Becomes the `slo` label of the generated rules: letters, digits, `_`, `-`, `.`. */
  name: string;
  /** The route template as `http.route` carries it, e.g. `/checkout`. */
  route: string;
  /** Availability: the share of requests that must not answer 5xx, e.g. 0.999. */
  objective?: number;
  /** Latency: the share of requests (`objective`) that must take at most `threshold` seconds. */
  latency?: { threshold: number; objective: number };
}

/** The alerts `npx otelkit assets` writes; each can be tuned or switched off (`false`). */
export type AlertName =
  | 'httpErrorRatio'
  | 'httpLatencyP99'
  | 'eventLoopDelayP99'
  | 'heapGrowth'
  | 'breakerOpen'
  | 'breakerFlapping'
  | 'limiterRejectionRatio'
  | 'cacheHitRatioDrop'
  | 'websocketFailedCloses'
  | 'sessionStoreErrors'
  | 'targetDown'
  | 'restarts'
  | 'queueFailureRatio'
  | 'queueStalled'
  | 'queueWaitP99'
  | 'queueBacklogGrowth'
  | 'taskNotSucceeding'
  | 'taskErrorRatio';

export interface AlertSetting {
  /** What the expression compares against; absent for alerts with nothing to compare. */
  threshold?: number;
  /** Prometheus `for:` duration, e.g. `5m`; `0s` fires at once. */
  for: string;
}

export type AlertsConfig = Record<AlertName, AlertSetting | false>;
/** Instruments a tracked event can feed. */
export type EventMetricType = 'counter' | 'histogram' | 'updowncounter' | 'gauge';

/** One metric an event feeds: an entry of `events.metrics[eventName]`. */
export interface EventMetric {
  /** Metric name, e.g. `orders.placed`. */
  metric: string;
  /** Default `counter`. */
  type?: EventMetricType;
  /** UCUM unit, e.g. `s`, `By`, `{order}`. */
  unit?: string;
  description?: string;
  /**
   * The event attributes that become metric attributes; any other is dropped. A list
   * (a missing attribute becomes `'unknown'`), or attribute name → value when missing.
   */
  attributes?: readonly string[] | Readonly<Record<string, string>>;
  /**
   * The value to record: the name of the event attribute that holds it (when an event
   * lacks it, the value given to track()), or a constant such as `-1`. Without it,
   * counters count 1 per event; up-down counters, histograms and gauges take the value
   * given to track() (up-down counters count 1 when there is none).
   */
  value?: string | number;
}

/** An event as an audit sink receives it. */
export interface TrackedEvent {
  name: string;
  /** The attributes as given to track() (or bind()), all of them: the allowlist applies to metrics only. */
  attributes: Readonly<Record<string, unknown>>;
  value: number | undefined;
  /** When it was tracked, in milliseconds since the epoch. */
  time: number;
}

/** Receives every tracked event that is switched on; may return a promise. Errors are caught. */
export type EventSink = (event: TrackedEvent) => unknown;

/** Log exporters for tracked events (OTEL_LOGS_EXPORTER). */
export type LogExporterName = 'otlp' | 'console';

/** One metric an event feeds, validated: attributes sorted by name, each with its default. */
export interface ResolvedEventMetric {
  metric: string;
  type: EventMetricType;
  unit: string;
  description: string;
  attributes: readonly (readonly [name: string, fallback: string])[];
  value?: string | number;
}

export interface EventsConfig {
  /** Event name → the metrics it feeds (an empty list: a known event that feeds none). */
  metrics: Record<string, ResolvedEventMetric[]>;
  /** Module name → its events: exact names, or prefixes written `prefix.*`. */
  modules: Record<string, string[]>;
  /** Switch rules in order, the first being `all` or `none` (see OTELKIT_EVENTS). */
  switches: string[];
  sink?: EventSink;
  /** Where each tracked event also goes as a log record; none by default. */
  logExporters: LogExporterName[];
  /** OTLP protocol of the log records. */
  logProtocol: OtlpProtocol;
  /** Where OTLP log records go: the logs URL (HTTP) or `http://host:port` (gRPC). */
  logEndpoint: string;
}

/** What a user may write under `events`. */
export interface EventsUserConfig {
  metrics?: Record<string, EventMetric | readonly EventMetric[]>;
  modules?: Record<string, readonly string[]>;
  /** `'all'`, `'none'`, `'-trading'`, `'trading,auth'`… or the same as a list. */
  switches?: string | readonly string[];
  sink?: EventSink;
  logExporters?: LogExporterName[];
  logProtocol?: OtlpProtocol;
}

export interface OtelkitConfig {
  disabled: boolean;
  /** Resource attributes, `service.name` included when known. */
  resourceAttributes: Record<string, string>;
  exporters: ExporterName[];
  prometheus: PrometheusConfig;
  otlp: OtlpConfig;
  exportIntervalMs: number;
  exportTimeoutMs: number;
  logLevel: LogLevel;
  /** Bucket boundaries per instrument name, overriding the unit-based defaults. */
  histogramBuckets: Record<string, number[]>;
  /** Max distinct attribute sets per instrument; beyond it, one overflow series. */
  cardinalityLimit: number;
  /** Default instrumentations register() starts. */
  instrumentations: DefaultInstrumentationName[];
  http: HttpInstrumentationConfig;
  runtime: RuntimeConfig;
  /** Upper bound on the flush done at SIGTERM/SIGINT/beforeExit. */
  shutdownTimeoutMs: number;
  /** Health probes and the /stats snapshot. */
  health: HealthConfig;
  /** SLOs for the generated burn-rate rules (the valid ones). */
  slos: SloConfig[];
  /** Thresholds and `for:` durations of the generated alert rules. */
  alerts: AlertsConfig;
  /** Business events: what track() feeds, switches, audit sink, log export. */
  events: EventsConfig;
}

/** What a user may write in `otel.config.ts` or pass to `register()`: any subset. */
export type OtelkitUserConfig = {
  disabled?: boolean;
  serviceName?: string;
  serviceVersion?: string;
  resourceAttributes?: Record<string, string>;
  exporters?: ExporterName[];
  prometheus?: Partial<PrometheusConfig>;
  otlp?: Partial<OtlpConfig>;
  exportIntervalMs?: number;
  exportTimeoutMs?: number;
  logLevel?: LogLevel;
  histogramBuckets?: Record<string, number[]>;
  cardinalityLimit?: number;
  instrumentations?: DefaultInstrumentationName[];
  http?: Partial<HttpInstrumentationConfig>;
  runtime?: Partial<RuntimeConfig>;
  shutdownTimeoutMs?: number;
  health?: Partial<HealthConfig>;
  slos?: SloConfig[];
  alerts?: { [K in AlertName]?: Partial<AlertSetting> | false };
  events?: EventsUserConfig;
};
