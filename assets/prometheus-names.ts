/**
 * The Prometheus name of each otelkit instrument, derived from the constants the
 * instrumentations create them from (instrumentations/metric-names.ts) by the rules
 * otelkit's Prometheus reader applies (src/exporters/unit-suffix.ts): dots and other
 * characters to `_`, the unit's word appended, `_total` last on counters. With the
 * default settings (unit suffixes on, no prefix), these are the names a scrape shows.
 */
import { unitSuffix } from '../src/exporters/unit-suffix.js';
import {
  CACHE,
  CIRCUIT_BREAKER,
  HTTP_CLIENT,
  HTTP_SERVER,
  QUEUE,
  RATE_LIMITER,
  RUNTIME,
  SESSION,
  TASK,
  WEBSOCKET,
  type InstrumentName,
} from '../instrumentations/metric-names.js';

const sanitize = (name: string): string => name.replace(/[^a-zA-Z0-9_:]/g, '_').replace(/_+/g, '_');

/**
 * `http.server.request.duration` (s, histogram) -> `http_server_request_duration_seconds`;
 * with `unitSuffixes` false (OTELKIT_PROMETHEUS_UNIT_SUFFIXES=false), `http_server_request_duration`.
 */
export function prometheusName(instrument: InstrumentName, unitSuffixes = true): string {
  const counter = instrument.kind === 'counter';
  let base = sanitize(instrument.name);
  if (counter && base.endsWith('_total')) base = base.slice(0, -'_total'.length);
  const suffix = unitSuffixes ? unitSuffix(instrument.unit, instrument.kind === 'gauge') : '';
  if (suffix && !base.endsWith(`_${suffix}`)) base = `${base}_${suffix}`;
  return counter ? `${base}_total` : base;
}

type Names<T> = { readonly [K in keyof T]: string };

function names<T extends Record<string, InstrumentName>>(family: T): Names<T> {
  return Object.freeze(
    Object.fromEntries(Object.entries(family).map(([key, instrument]) => [key, prometheusName(instrument)])),
  ) as Names<T>;
}

/** Prometheus names by family and key, e.g. `PROM.httpServer.requestDuration`. */
export const PROM = Object.freeze({
  httpServer: names(HTTP_SERVER),
  httpClient: names(HTTP_CLIENT),
  runtime: names(RUNTIME),
  cache: names(CACHE),
  rateLimiter: names(RATE_LIMITER),
  circuitBreaker: names(CIRCUIT_BREAKER),
  queue: names(QUEUE),
  websocket: names(WEBSOCKET),
  session: names(SESSION),
  task: names(TASK),
});

/** The attribute names the queries group and filter on, as Prometheus labels. */
export const LABEL = Object.freeze({
  route: 'http_route',
  method: 'http_request_method',
  status: 'http_response_status_code',
  errorType: 'error_type',
  serverAddress: 'server_address',
  serverPort: 'server_port',
  gcType: 'v8js_gc_type',
  heapSpace: 'v8js_heap_space_name',
  resourceType: 'v8js_resource_type',
  cpuMode: 'cpu_mode',
  cacheName: 'cache_name',
  cacheResult: 'cache_result',
  evictionReason: 'cache_eviction_reason',
  limiterName: 'rate_limiter_name',
  limiterResult: 'rate_limiter_result',
  breakerName: 'circuit_breaker_name',
  breakerState: 'circuit_breaker_state',
  breakerToState: 'circuit_breaker_to_state',
  breakerOutcome: 'circuit_breaker_call_outcome',
  queueName: 'messaging_destination_name',
  queueSystem: 'messaging_system',
  jobState: 'queue_job_state',
  jobOutcome: 'queue_job_outcome',
  wsServer: 'websocket_server_name',
  wsCloseClass: 'websocket_close_class',
  wsDirection: 'websocket_message_direction',
  sessionSource: 'session_source_name',
  sessionEndReason: 'session_end_reason',
  sessionRefreshReason: 'session_refresh_reason',
  sessionOperation: 'session_store_operation',
  taskName: 'task_name',
  taskOutcome: 'task_outcome',
});
