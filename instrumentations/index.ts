// The instrumentations' public API, one export line per file (the package exports it through src/instrumentations.ts).
export { instrumentCache, lruCacheDispose, type CacheInstrumentationOptions, type CacheKind } from './cache.js';
export {
  instrumentCircuitBreaker,
  type CircuitBreakerInstrumentation,
  type CircuitBreakerInstrumentationOptions,
  type CircuitBreakerKind,
  type CircuitState,
  type CallOutcome,
} from './circuit-breaker.js';
export {
  instrumentRateLimiter,
  type RateLimiterInstrumentation,
  type RateLimiterInstrumentationOptions,
  type RateLimiterKind,
} from './rate-limiter.js';
export {
  instrumentQueue,
  type JobOutcome,
  type QueueInstrumentation,
  type QueueInstrumentationOptions,
  type QueueKind,
} from './queue/index.js';
export {
  instrumentWebSocketServer,
  webSocketSnapshot,
  type CloseClass,
  type WebSocketServerInstrumentationOptions,
  type WebSocketServerKind,
  type WebSocketServerSnapshot,
} from './websocket/index.js';
export {
  instrumentSessionStore,
  sessions,
  sessionSnapshot,
  trackSessions,
  type SessionSourceSnapshot,
  type SessionStoreInstrumentationOptions,
  type SessionTracker,
  type SessionTrackerOptions,
} from './session/index.js';
export { instrumentHttpServer, setHttpRoute, type HttpServerInstrumentationOptions } from './http-server.js';
export { instrumentHttpClient } from './http-client.js';
export { instrumentHttpSpans } from './http-spans.js';
export { instrumentRuntime, type RuntimeGroup, type RuntimeInstrumentationOptions } from './runtime.js';
export {
  instrumentTask,
  measure,
  timed,
  type TaskInstrumentation,
  type TaskOutcome,
  type TimedMethodDecorator,
} from './tasks/index.js';
export {
  events,
  track,
  type BoundEvent,
  type EventAttributes,
  type EventsApi,
  type TrackOptions,
} from './events/index.js';
