/**
 * The OpenTelemetry instruments otelkit reports, one constant per instrument: its
 * name, unit and kind. The instrumentations create their instruments from these,
 * and the dashboards and Prometheus rules (assets/) derive their Prometheus names
 * from the same constants, so a renamed instrument reaches every panel and rule.
 *
 * `kind` is what decides the Prometheus type: a counter gets `_total`, a gauge
 * with unit `1` gets `_ratio`; an up-down counter is a Prometheus gauge without
 * `_ratio` (as the SDK's exporter types a non-monotonic sum).
 */

export type InstrumentKind = 'counter' | 'updowncounter' | 'gauge' | 'histogram';

export interface InstrumentName {
  readonly name: string;
  readonly unit: string;
  readonly kind: InstrumentKind;
}

const i = (name: string, unit: string, kind: InstrumentKind): InstrumentName => Object.freeze({ name, unit, kind });

/** HTTP server (instrumentations/http-server.ts creates them; it is to switch to these constants). */
export const HTTP_SERVER = Object.freeze({
  requestDuration: i('http.server.request.duration', 's', 'histogram'),
  activeRequests: i('http.server.active_requests', '{request}', 'updowncounter'),
  requestBodySize: i('http.server.request.body.size', 'By', 'histogram'),
  responseBodySize: i('http.server.response.body.size', 'By', 'histogram'),
});

export const HTTP_CLIENT = Object.freeze({
  requestDuration: i('http.client.request.duration', 's', 'histogram'),
});

/**
 * Node runtime (instrumentations/runtime-otel.ts and runtime.ts), under the names
 * @opentelemetry/instrumentation-runtime-node uses.
 */
export const RUNTIME = Object.freeze({
  eventLoopDelayMin: i('nodejs.eventloop.delay.min', 's', 'gauge'),
  eventLoopDelayMax: i('nodejs.eventloop.delay.max', 's', 'gauge'),
  eventLoopDelayMean: i('nodejs.eventloop.delay.mean', 's', 'gauge'),
  eventLoopDelayStddev: i('nodejs.eventloop.delay.stddev', 's', 'gauge'),
  eventLoopDelayP50: i('nodejs.eventloop.delay.p50', 's', 'gauge'),
  eventLoopDelayP90: i('nodejs.eventloop.delay.p90', 's', 'gauge'),
  /** Not in runtime-node: otelkit's, from the same monitor and interval as the others. */
  eventLoopDelayP95: i('nodejs.eventloop.delay.p95', 's', 'gauge'),
  eventLoopDelayP99: i('nodejs.eventloop.delay.p99', 's', 'gauge'),
  eventLoopUtilization: i('nodejs.eventloop.utilization', '1', 'gauge'),
  eventLoopTime: i('nodejs.eventloop.time', 's', 'counter'),
  gcDuration: i('v8js.gc.duration', 's', 'histogram'),
  heapUsed: i('v8js.memory.heap.used', 'By', 'gauge'),
  heapSpaceSize: i('v8js.memory.heap.space.size', 'By', 'updowncounter'),
  heapSpaceAvailable: i('v8js.memory.heap.space.available_size', 'By', 'gauge'),
  heapSpacePhysical: i('v8js.memory.heap.space.physical_size', 'By', 'gauge'),
  resourceActive: i('v8js.resource.active', '{resource}', 'gauge'),
  cpuTime: i('process.cpu.time', 's', 'counter'),
  cpuUtilization: i('process.cpu.utilization', '1', 'gauge'),
  memoryUsage: i('process.memory.usage', 'By', 'updowncounter'),
  uptime: i('process.uptime', 's', 'gauge'),
});

export const CACHE = Object.freeze({
  gets: i('cache.gets', '{get}', 'counter'),
  puts: i('cache.puts', '{put}', 'counter'),
  deletes: i('cache.deletes', '{delete}', 'counter'),
  evictions: i('cache.evictions', '{eviction}', 'counter'),
  size: i('cache.size', '{entry}', 'updowncounter'),
  maxSize: i('cache.max_size', '{entry}', 'gauge'),
  hitRatio: i('cache.hit_ratio', '1', 'gauge'),
});

export const RATE_LIMITER = Object.freeze({
  acquisitions: i('rate_limiter.acquisitions', '{acquisition}', 'counter'),
  waitDuration: i('rate_limiter.wait.duration', 's', 'histogram'),
  queueLength: i('rate_limiter.queue.length', '{call}', 'updowncounter'),
  permitsAvailable: i('rate_limiter.permits.available', '{permit}', 'gauge'),
});

export const CIRCUIT_BREAKER = Object.freeze({
  state: i('circuit_breaker.state', '', 'gauge'),
  stateCurrent: i('circuit_breaker.state.current', '{state}', 'gauge'),
  transitions: i('circuit_breaker.transitions', '{transition}', 'counter'),
  calls: i('circuit_breaker.calls', '{call}', 'counter'),
  callDuration: i('circuit_breaker.call.duration', 's', 'histogram'),
});

/** Job queues (instrumentations/queue/record.ts). */
export const QUEUE = Object.freeze({
  consumed: i('messaging.client.consumed.messages', '{message}', 'counter'),
  processDuration: i('messaging.process.duration', 's', 'histogram'),
  attempts: i('queue.job.attempts', '{attempt}', 'counter'),
  jobs: i('queue.jobs', '{job}', 'updowncounter'),
  waitDuration: i('queue.job.wait.duration', 's', 'histogram'),
});

/** WebSocket servers (ws, socket.io): instrumentations/websocket/. */
export const WEBSOCKET = Object.freeze({
  activeConnections: i('websocket.server.active_connections', '{connection}', 'updowncounter'),
  connectionsOpened: i('websocket.server.connections.opened', '{connection}', 'counter'),
  connectionsClosed: i('websocket.server.connections.closed', '{connection}', 'counter'),
  connectionDuration: i('websocket.server.connection.duration', 's', 'histogram'),
  messages: i('websocket.server.messages', '{message}', 'counter'),
  io: i('websocket.server.io', 'By', 'counter'),
  errors: i('websocket.server.errors', '{error}', 'counter'),
});

/** Sessions (express-session stores and the generic tracker): instrumentations/session/. */
export const SESSION = Object.freeze({
  active: i('session.active', '{session}', 'updowncounter'),
  starts: i('session.starts', '{session}', 'counter'),
  ends: i('session.ends', '{session}', 'counter'),
  refreshes: i('session.refreshes', '{refresh}', 'counter'),
  duration: i('session.duration', 's', 'histogram'),
  storeErrors: i('session.store.errors', '{error}', 'counter'),
});

/** Timed tasks (timed(), measure(), instrumentTask()): instrumentations/tasks/. */
export const TASK = Object.freeze({
  duration: i('task.duration', 's', 'histogram'),
  runs: i('task.runs', '{run}', 'counter'),
  active: i('task.active', '{run}', 'updowncounter'),
  lastSuccess: i('task.last_success.timestamp', 's', 'gauge'),
});

/** Every instrument above, by family. */
export const METRIC_FAMILIES = Object.freeze({
  HTTP_SERVER,
  HTTP_CLIENT,
  RUNTIME,
  CACHE,
  RATE_LIMITER,
  CIRCUIT_BREAKER,
  QUEUE,
  WEBSOCKET,
  SESSION,
  TASK,
});
