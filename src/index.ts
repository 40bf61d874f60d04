// The core's public API: register() and its handle, health and /stats, config. The package
// entry (index.ts at the root) adds the instrumentations' API to it.
export { register, getOtelkit, metricsHandler } from './register.js';
export {
  addHealthCheck,
  getStats,
  liveHandler,
  readyHandler,
  statsHandler,
  addStatsContributor,
} from './health/index.js';
export type { CheckResult, HealthCheckFn, HealthCheckOptions, Readiness, RouteStats, Stats } from './health/index.js';
export type { StatsContributor, WindowFigures } from './health/index.js';
export { defineConfig } from './config/index.js';
export type {
  OtelkitConfig,
  OtelkitUserConfig,
  EventMetric,
  EventMetricType,
  EventSink,
  EventsUserConfig,
  TrackedEvent,
} from './config/types.js';
export type { OtelkitHandle, PrometheusAddress } from './handle.js';
export type { Instrumentation } from './instrumentation.js';
