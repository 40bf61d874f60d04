// One export line per instrumentation file.
export { instrumentCache, lruCacheDispose, detectCacheKind, type CacheInstrumentationOptions, type CacheKind } from './cache.js';
export { instrumentCircuitBreaker, detectCircuitBreakerKind, type CircuitBreakerInstrumentation, type CircuitBreakerInstrumentationOptions, type CircuitBreakerKind, type CircuitState, type CallOutcome } from './circuit-breaker.js';
export { instrumentRateLimiter, detectRateLimiterKind, type RateLimiterInstrumentation, type RateLimiterInstrumentationOptions, type RateLimiterKind } from './rate-limiter.js';
export { instrumentHttpServer, setHttpRoute, type HttpServerInstrumentationOptions } from './http-server.js';
export { instrumentHttpClient } from './http-client.js';
export { instrumentHttpSpans } from './http-spans.js';
export { instrumentRuntime, RUNTIME_GROUPS, type RuntimeGroup, type RuntimeInstrumentationOptions } from './runtime.js';
