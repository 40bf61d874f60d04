/**
 * HTTP server metrics for every node:http / node:https server in the process,
 * following the OpenTelemetry HTTP semantic conventions:
 *   http.server.request.duration (s)   histogram, per method/route/status/scheme/protocol/error
 *   http.server.active_requests        up-down counter, per method/scheme
 *   http.server.request.body.size,
 *   http.server.response.body.size (By) histograms, when `bodySizes` is on
 *
 * How: Node's built-in diagnostics channels (no patching, so ESM and CJS apps alike,
 * no loader flag). `http.server.request.start`: the request is filtered (otelkit's
 * own scrape server, excluded paths) and its start time noted on the connection's
 * record. `http.server.response.finish`: the route template is read (see
 * http-route.ts) and the duration lands in an in-place histogram series found
 * through small-integer keys (see http-shared.ts).
 *
 * Per-request state lives in otelkit's own per-connection record (a WeakMap keyed by
 * the socket), never as properties added to Node's request/response objects, so
 * their shape stays exactly what Node's HTTP code expects. A response that never
 * finishes (client gone) is caught by ONE 'close' listener per connection, not per
 * request, so active_requests never drifts and the abort is recorded
 * (`error.type=aborted`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { diag, ValueType, type Attributes, type Histogram, type Meter, type ObservableResult } from '@opentelemetry/api';
import type { OtelkitConfig } from '../src/config/types.js';
import { DEFAULT_EXCLUDED_PATHS } from '../src/config/defaults.js';
import { isDisabled, onMeter } from '../src/meter.js';
import { otelkitState } from '../src/state.js';
import { METHOD_NAMES, clock, OTHER_METHOD_INDEX, SeriesTable, methodIndex, processSingleton, secondsSince, shareSubscription, type SharedSubscription, type SeriesEntry } from './http-shared.js';
import { routeOf, watchFastify } from './http-route.js';
import { noopInstrumentation, type Instrumentation } from './types.js';

export { setHttpRoute } from './http-route.js';

export interface HttpServerInstrumentationOptions {
  /** Paths never recorded: exact, or a prefix when ending in `*`. Default: config `http.excludePaths`. */
  excludePaths?: string[];
  /** Also record request/response body sizes (from Content-Length). Default: config `http.bodySizes`. */
  bodySizes?: boolean;
}

type Res = ServerResponse & { _contentLength?: unknown };

/** A request in flight: one of the two slots of a connection. */
class InFlight {
  res: Res | undefined = undefined;
  req: IncomingMessage | undefined = undefined;
  start = 0;
  /** methodIndex * 2 + tls */
  slot = 0;

  take(req: IncomingMessage, res: Res, start: number, slot: number): void {
    this.req = req;
    this.res = res;
    this.start = start;
    this.slot = slot;
  }
}

/**
 * One per connection. Two slots: a client may send its next request before Node has
 * run the previous response's 'finish' (HTTP/1.1 pipelining, or a write completing in
 * a later callback). A third request in flight goes to the `pipelined` fallback.
 */
class Connection {
  readonly a = new InFlight();
  readonly b = new InFlight();
  constructor(readonly tls: number) {}
}

/** socket -> its record; created at the connection's first counted request. */
const connections = new WeakMap<Socket, Connection>();
/** HTTP pipelining (several requests queued on one connection): start times of the queued ones. */
const pipelined = new WeakMap<Res, { start: number; slot: number }>();

/** otelkit's state, read once (a symbol lookup on globalThis costs more than the rest of a request's accounting). */
const state = otelkitState();

const PROTOCOLS = ['1.1', '1.0', '2'] as const;
function protocolIndex(v: string): number {
  return v === '1.1' ? 0 : v === '1.0' ? 1 : v === '2.0' ? 2 : 3;
}

/** Everything that exists once otelkit's meter does: one per process. */
class ServerMetrics {
  readonly durations: SeriesTable;
  /** route ('' = no route) -> integer key -> series */
  private readonly byRoute = new Map<string, Map<number, SeriesEntry>>();
  /** active request counts by methodIndex * 2 + (https ? 1 : 0) */
  private readonly active = new Float64Array((OTHER_METHOD_INDEX + 1) * 2);
  private readonly activeSeen = new Uint8Array((OTHER_METHOD_INDEX + 1) * 2);
  private requestSize: Histogram | undefined;
  private responseSize: Histogram | undefined;
  private exact = new Set<string>();
  /** exactLength[n] === 1 when an exact path has length n: most paths are ruled out without hashing. */
  private exactLength = new Uint8Array(0);
  /** Shorter URLs match nothing. */
  private minLength = 0;
  private prefixes: string[] = [];

  constructor(meter: Meter, config: OtelkitConfig) {
    this.durations = new SeriesTable(meter, config, 'http.server.request.duration', 'Duration of HTTP server requests.');
    const active = meter.createObservableUpDownCounter('http.server.active_requests', {
      unit: '{request}',
      description: 'Number of active HTTP server requests.',
      valueType: ValueType.INT,
    });
    active.addCallback((result) => this.observeActive(result));
    this.configure(config.http.excludePaths, config.http.bodySizes, meter);
  }

  private meter?: Meter;
  configure(excludePaths: string[] | undefined, bodySizes: boolean | undefined, meter?: Meter): void {
    if (meter) this.meter = meter;
    const paths = excludePaths ?? DEFAULT_EXCLUDED_PATHS;
    this.exact = new Set(paths.filter((p) => !p.endsWith('*')));
    const lengths = [...this.exact].map((p) => p.length);
    this.exactLength = new Uint8Array(Math.max(0, ...lengths) + 1);
    for (const n of lengths) this.exactLength[n] = 1;
    this.minLength = Math.min(Infinity, ...paths.map((p) => (p.endsWith('*') ? p.length - 1 : p.length)));
    this.prefixes = paths.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
    if (bodySizes && !this.requestSize && this.meter) {
      this.requestSize = this.meter.createHistogram('http.server.request.body.size', { unit: 'By', description: 'Size of HTTP server request bodies (from Content-Length).', valueType: ValueType.INT });
      this.responseSize = this.meter.createHistogram('http.server.response.body.size', { unit: 'By', description: 'Size of HTTP server response bodies (from Content-Length).', valueType: ValueType.INT });
    }
  }

  excluded(url: string | undefined): boolean {
    if (url === undefined || url.length < this.minLength) return false;
    const q = url.indexOf('?');
    const end = q < 0 ? url.length : q;
    if (this.exactLength[end] === 1 && this.exact.has(q < 0 ? url : url.slice(0, q))) return true;
    const prefixes = this.prefixes;
    for (let i = 0; i < prefixes.length; i++) if (url.startsWith(prefixes[i]!)) return true;
    return false;
  }

  start(req: IncomingMessage, res: Res, socket: Socket | undefined): void {
    const now = clock();
    let conn = socket && connections.get(socket);
    if (socket && conn === undefined) {
      conn = new Connection((socket as { encrypted?: boolean }).encrypted ? 1 : 0);
      connections.set(socket, conn);
      const c = conn;
      socket.once('close', () => onConnectionClose(c));
    }
    const slot = methodIndex(req.method) * 2 + (conn ? conn.tls : 0);
    this.active[slot]!++;
    this.activeSeen[slot] = 1;
    if (conn !== undefined && conn.a.res === undefined) conn.a.take(req, res, now, slot);
    else if (conn !== undefined && conn.b.res === undefined) conn.b.take(req, res, now, slot);
    else {
      // HTTP pipelining: a third request queued on the connection
      pipelined.set(res, { start: now, slot });
      res.once('close', onPipelinedClose);
    }
  }

  /** `started`: the clock() at start; `slot`: its method/scheme slot; `finished`: false for a response that ended without finishing. */
  finish(req: IncomingMessage, res: Res, started: number, slot: number, finished: boolean): void {
    const seconds = secondsSince(started);
    this.active[slot]!--;
    if (state.excludedRequests.has(req)) return;
    const status = res.headersSent ? res.statusCode | 0 : 0;
    const proto = protocolIndex(req.httpVersion);
    const route = routeOf(req) ?? '';
    // slot carries method and scheme; status < 1000; proto < 4; aborted 0/1.
    const key = ((status * 22 + slot) * 4 + proto) * 2 + (finished ? 0 : 1);
    let byKey = this.byRoute.get(route);
    if (byKey === undefined) this.byRoute.set(route, (byKey = new Map()));
    let entry = byKey.get(key);
    if (entry === undefined) {
      entry = this.durations.create(attributesFor(req, slot, status, proto, route, finished));
      if (!this.durations.full) byKey.set(key, entry);
    }
    entry.duration.record(seconds);
    if (this.requestSize) recordSizes(this.requestSize, this.responseSize!, req, res, entry.attributes);
  }

  private observeActive(result: ObservableResult): void {
    for (let slot = 0; slot < this.active.length; slot++) {
      if (this.activeSeen[slot]) result.observe(this.active[slot]!, activeAttributes(slot));
    }
  }
}

const activeAttrCache: Attributes[] = [];
function activeAttributes(slot: number): Attributes {
  return (activeAttrCache[slot] ??= Object.freeze({ 'http.request.method': METHOD_NAMES[slot >> 1]!, 'url.scheme': slot & 1 ? 'https' : 'http' }));
}

function attributesFor(req: IncomingMessage, slot: number, status: number, proto: number, route: string, finished: boolean): Attributes {
  const a: Attributes = {
    'http.request.method': METHOD_NAMES[slot >> 1]!,
    'url.scheme': slot & 1 ? 'https' : 'http',
    'network.protocol.version': PROTOCOLS[proto] ?? String(req.httpVersion),
  };
  if (status > 0) a['http.response.status_code'] = status;
  if (route !== '') a['http.route'] = route;
  if (!finished) a['error.type'] = 'aborted';
  else if (status >= 500) a['error.type'] = String(status);
  return a;
}

function contentLength(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function recordSizes(request: Histogram, response: Histogram, req: IncomingMessage, res: Res, attributes: Attributes): void {
  const inLen = contentLength(req.headers['content-length']);
  if (inLen !== undefined) request.record(inLen, attributes);
  // `_contentLength` is what Node computed for `res.end(body)` without an explicit header.
  const outLen = contentLength(res.getHeader('content-length') ?? res._contentLength);
  if (outLen !== undefined) response.record(outLen, attributes);
}

// ---- process-wide wiring -------------------------------------------------------

interface Shared extends SharedSubscription {
  metrics?: ServerMetrics;
}

const shared = processSingleton<Shared>('otelkit.http.server', () => ({ users: 0 }));

/** A connection closed: its responses in flight, if any, never finished. */
function onConnectionClose(conn: Connection): void {
  abort(conn.a);
  abort(conn.b);
}

function abort(f: InFlight): void {
  const { res, req } = f;
  if (res === undefined || req === undefined) return;
  f.res = f.req = undefined;
  try {
    shared.metrics?.finish(req, res, f.start, f.slot, false);
  } catch (err) {
    diag.error('otelkit: recording an aborted HTTP server request failed', err);
  }
}

function onPipelinedClose(this: Res): void {
  const p = pipelined.get(this);
  if (p === undefined || this.writableFinished) return;
  pipelined.delete(this);
  try {
    if (this.req) shared.metrics?.finish(this.req as IncomingMessage, this, p.start, p.slot, false);
  } catch (err) {
    diag.error('otelkit: recording an aborted HTTP server request failed', err);
  }
}

interface ServerMessage {
  request: IncomingMessage;
  response: Res;
  socket?: Socket;
  server?: object;
}

// The two subscribers are plain functions with their own try/catch (not a shared
// wrapper), so V8 can inline what they call.
function onStart(message: unknown): void {
  try {
    const metrics = shared.metrics;
    if (metrics === undefined) return;
    const m = message as ServerMessage;
    if (m.server !== undefined && state.ownServers.has(m.server)) return;
    if (metrics.excluded(m.request.url)) return;
    metrics.start(m.request, m.response, m.socket);
  } catch (err) {
    diag.error('otelkit: http.server.request.start failed', err);
  }
}

function onFinish(message: unknown): void {
  try {
    const { request, response, socket } = message as ServerMessage;
    const conn = socket === undefined ? undefined : connections.get(socket);
    if (conn !== undefined) {
      const f = conn.a.res === response ? conn.a : conn.b.res === response ? conn.b : undefined;
      if (f !== undefined) {
        f.res = f.req = undefined;
        shared.metrics?.finish(request, response, f.start, f.slot, true);
        return;
      }
    }
    const p = pipelined.get(response); // a queued request, or not one we started (excluded)
    if (p === undefined) return;
    pipelined.delete(response);
    shared.metrics?.finish(request, response, p.start, p.slot, true);
  } catch (err) {
    diag.error('otelkit: http.server.response.finish failed', err);
  }
}

/**
 * Starts HTTP server metrics for every node:http/https server in the process.
 * One process-wide subscription: calling it again returns another handle on the same
 * subscription (options of the first call win); it stops when every handle is disposed.
 */
export function instrumentHttpServer(options: HttpServerInstrumentationOptions = {}): Instrumentation {
  if (isDisabled()) return noopInstrumentation;
  return shareSubscription(shared, () => {
    const unwatchFastify = watchFastify();
    subscribe('http.server.request.start', onStart);
    subscribe('http.server.response.finish', onFinish);
    const stopWaiting = onMeter(({ meter, config }) => {
      shared.metrics ??= new ServerMetrics(meter, config);
      shared.metrics.configure(options.excludePaths ?? config.http.excludePaths, options.bodySizes ?? config.http.bodySizes);
    });
    return () => {
      unsubscribe('http.server.request.start', onStart);
      unsubscribe('http.server.response.finish', onFinish);
      unwatchFastify();
      stopWaiting();
    };
  });
}
