// One export line per instrumentation file.
export type { Instrumentation } from './types.js';
export { instrumentCache, lruCacheDispose, detectCacheKind, type CacheInstrumentationOptions, type CacheKind } from './cache.js';
