// The package's public API (`otelkit`); the preload entry is src/preload.ts (`otelkit/register`).
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
export {
  instrumentCache,
  lruCacheDispose,
  instrumentCircuitBreaker,
  instrumentRateLimiter,
  instrumentQueue,
  instrumentWebSocketServer,
  instrumentSessionStore,
  trackSessions,
  sessions,
  instrumentHttpServer,
  setHttpRoute,
  instrumentHttpClient,
  instrumentHttpSpans,
  instrumentRuntime,
  instrumentTask,
  measure,
  timed,
  events,
  track,
} from '../instrumentations/index.js';
export type {
  CacheInstrumentationOptions,
  CacheKind,
  CircuitBreakerInstrumentation,
  CircuitBreakerInstrumentationOptions,
  CircuitBreakerKind,
  CircuitState,
  CallOutcome,
  RateLimiterInstrumentation,
  RateLimiterInstrumentationOptions,
  RateLimiterKind,
  JobOutcome,
  QueueInstrumentation,
  QueueInstrumentationOptions,
  QueueKind,
  WebSocketServerInstrumentationOptions,
  WebSocketServerKind,
  CloseClass,
  SessionStoreInstrumentationOptions,
  SessionTracker,
  SessionTrackerOptions,
  HttpServerInstrumentationOptions,
  RuntimeGroup,
  RuntimeInstrumentationOptions,
  TaskInstrumentation,
  TaskOutcome,
  TimedMethodDecorator,
  BoundEvent,
  EventAttributes,
  EventsApi,
  TrackOptions,
} from '../instrumentations/index.js';
