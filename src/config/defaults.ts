import type { OtelkitConfig } from './types.js';
import { DEFAULT_CARDINALITY_LIMIT } from '../series-policy.js';
import { defaultAlerts } from './alerts.js';

/** Paths the HTTP server instrumentation skips unless configured otherwise. */
export const DEFAULT_EXCLUDED_PATHS = ['/metrics', '/health', '/healthz', '/livez', '/readyz', '/ping'];

/** The configuration when neither env nor a config file says anything. */
export function defaultConfig(): OtelkitConfig {
  return {
    disabled: false,
    resourceAttributes: {},
    exporters: ['prometheus'],
    prometheus: {
      host: 'localhost',
      port: 9464,
      path: '/metrics',
      unitSuffixes: true,
      server: true,
      resourceLabels: [],
      scopeLabels: true,
    },
    otlp: {
      endpoint: 'http://localhost:4318/v1/metrics',
      protocol: 'http/protobuf',
      headers: {},
      timeoutMs: 10_000,
      compression: 'none',
      temporality: 'cumulative',
      histogram: 'explicit',
    },
    exportIntervalMs: 60_000,
    exportTimeoutMs: 30_000,
    logLevel: 'warn',
    histogramBuckets: {},
    cardinalityLimit: DEFAULT_CARDINALITY_LIMIT,
    instrumentations: ['http-server', 'http-client', 'runtime'],
    http: { excludePaths: [...DEFAULT_EXCLUDED_PATHS], bodySizes: false, mode: 'diagnostics-channel' },
    runtime: { names: 'otel' },
    shutdownTimeoutMs: 3_000,
    health: {
      livePath: '/health/live',
      readyPath: '/health/ready',
      statsPath: '/stats',
      open: ['live'],
      statsWindows: [60, 300, 900],
    },
    slos: [],
    alerts: defaultAlerts(),
    events: {
      metrics: {},
      modules: {},
      switches: ['all'],
      logExporters: [],
      logProtocol: 'http/protobuf',
      logEndpoint: 'http://localhost:4318/v1/logs',
    },
  };
}
