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
  | 'restarts';

export interface AlertSetting {
  /** What the expression compares against; absent for alerts with nothing to compare. */
  threshold?: number;
  /** Prometheus `for:` duration, e.g. `5m`; `0s` fires at once. */
  for: string;
}

export type AlertsConfig = Record<AlertName, AlertSetting | false>;

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
  /** SLOs for the generated burn-rate rules (the valid ones). */
  slos: SloConfig[];
  /** Thresholds and `for:` durations of the generated alert rules. */
  alerts: AlertsConfig;
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
  slos?: SloConfig[];
  alerts?: { [K in AlertName]?: Partial<AlertSetting> | false };
};
