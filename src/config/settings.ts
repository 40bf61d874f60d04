/**
 * Every setting otelkit reads: its path in the config object, the environment
 * variables that set it (OpenTelemetry spec names first, signal-specific before
 * generic), and its parser. The README's variable table mirrors this list.
 */
import * as p from './parsers.js';
import type { Parser } from './parsers.js';

export interface Setting {
  /** Dotted path in OtelkitConfig / OtelkitUserConfig. */
  path: string;
  /** Env variables in precedence order. */
  env: string[];
  parse: Parser<unknown>;
  /** Key-value settings combine every source, higher precedence winning per key. */
  merge?: boolean;
}

const s = (path: string, env: string[], parse: Parser<unknown>, merge = false): Setting => ({
  path,
  env,
  parse,
  merge,
});

const otlp = (suffix: string): string[] => [`OTEL_EXPORTER_OTLP_METRICS_${suffix}`, `OTEL_EXPORTER_OTLP_${suffix}`];

export const SETTINGS: Setting[] = [
  s('disabled', ['OTEL_SDK_DISABLED'], p.boolean),
  s('exporters', ['OTEL_METRICS_EXPORTER'], p.listOf(['prometheus', 'otlp', 'console'] as const)),
  s('logLevel', ['OTEL_LOG_LEVEL'], p.oneOf(['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'] as const)),
  s('exportIntervalMs', ['OTEL_METRIC_EXPORT_INTERVAL'], p.positiveInteger),
  s('exportTimeoutMs', ['OTEL_METRIC_EXPORT_TIMEOUT'], p.positiveInteger),
  s('prometheus.host', ['OTEL_EXPORTER_PROMETHEUS_HOST'], p.host),
  s('prometheus.port', ['OTEL_EXPORTER_PROMETHEUS_PORT'], p.port),
  s('prometheus.path', ['OTELKIT_PROMETHEUS_PATH'], p.urlPath),
  s('prometheus.token', ['OTELKIT_PROMETHEUS_TOKEN'], p.nonEmptyString),
  s('prometheus.unitSuffixes', ['OTELKIT_PROMETHEUS_UNIT_SUFFIXES'], p.boolean),
  s('prometheus.server', ['OTELKIT_PROMETHEUS_SERVER'], p.boolean),
  s('prometheus.prefix', ['OTELKIT_PROMETHEUS_PREFIX'], p.metricPrefix),
  s('prometheus.resourceLabels', ['OTELKIT_PROMETHEUS_RESOURCE_LABELS'], p.resourceLabelList),
  s('prometheus.scopeLabels', ['OTELKIT_PROMETHEUS_SCOPE_LABELS'], p.boolean),
  s('otlp.protocol', otlp('PROTOCOL'), p.oneOf(['http/protobuf', 'http/json', 'grpc'] as const)),
  s('otlp.headers', otlp('HEADERS'), p.keyValues, true),
  s('otlp.timeoutMs', otlp('TIMEOUT'), p.positiveInteger),
  s('otlp.compression', otlp('COMPRESSION'), p.oneOf(['gzip', 'none'] as const)),
  s(
    'otlp.temporality',
    ['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE'],
    p.oneOf(['cumulative', 'delta', 'lowmemory'] as const),
  ),
  s(
    'otlp.histogram',
    ['OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION'],
    p.oneOf(['explicit', 'exponential'] as const, {
      explicit_bucket_histogram: 'explicit',
      base2_exponential_bucket_histogram: 'exponential',
    }),
  ),
  s('histogramBuckets', ['OTELKIT_HISTOGRAM_BUCKETS'], p.bucketsByInstrument),
  s('cardinalityLimit', ['OTELKIT_CARDINALITY_LIMIT'], p.positiveInteger),
  s('instrumentations', ['OTELKIT_INSTRUMENTATIONS'], p.instrumentationList),
  s('http.mode', ['OTELKIT_HTTP_MODE'], p.oneOf(['diagnostics-channel', 'instrumentation-http'] as const)),
  s('http.excludePaths', ['OTELKIT_HTTP_EXCLUDE_PATHS'], p.stringList),
  s('http.bodySizes', ['OTELKIT_HTTP_BODY_SIZES'], p.boolean),
  s('runtime.names', ['OTELKIT_RUNTIME_NAMES'], p.oneOf(['otel', 'prom-client'] as const)),
  s('shutdownTimeoutMs', ['OTELKIT_SHUTDOWN_TIMEOUT'], p.milliseconds),
  s('health.livePath', ['OTELKIT_HEALTH_LIVE_PATH'], p.urlPath),
  s('health.readyPath', ['OTELKIT_HEALTH_READY_PATH'], p.urlPath),
  s('health.statsPath', ['OTELKIT_STATS_PATH'], p.urlPath),
  s('health.open', ['OTELKIT_OPEN_ENDPOINTS'], p.listOf(['live', 'ready', 'stats'] as const)),
  s('health.statsWindows', ['OTELKIT_STATS_WINDOWS'], p.windowList),
  s('events.switches', ['OTELKIT_EVENTS'], p.eventSwitches),
  s('events.logExporters', ['OTEL_LOGS_EXPORTER'], p.listOf(['otlp', 'console'] as const)),
  // Without it, OTEL_EXPORTER_OTLP_PROTOCOL or the config's otlp.protocol (config/events.ts).
  s(
    'events.logProtocol',
    ['OTEL_EXPORTER_OTLP_LOGS_PROTOCOL'],
    p.oneOf(['http/protobuf', 'http/json', 'grpc'] as const),
  ),
];

/** Settings resolved by hand in resolve.ts because they combine several sources. */
export const SPECIAL_ENV = {
  serviceName: 'OTEL_SERVICE_NAME',
  resourceAttributes: 'OTEL_RESOURCE_ATTRIBUTES',
  otlpEndpoint: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  otlpBaseEndpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  logsEndpoint: 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
  configFile: 'OTELKIT_CONFIG',
} as const;

/** Top-level keys a config file or register() may carry. */
export const USER_CONFIG_KEYS = [
  'disabled',
  'serviceName',
  'serviceVersion',
  'resourceAttributes',
  'exporters',
  'prometheus',
  'otlp',
  'exportIntervalMs',
  'exportTimeoutMs',
  'logLevel',
  'histogramBuckets',
  'cardinalityLimit',
  'instrumentations',
  'http',
  'runtime',
  'shutdownTimeoutMs',
  'health',
  'slos',
  'alerts',
  'events',
] as const;
