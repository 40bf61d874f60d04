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
 * own scrape server, excluded paths) and its start time queued on the connection's
 * record. `http.server.response.finish`: the route template is read (see
 * http-route.ts) and the duration lands in an in-place histogram series: the one
 * the connection's previous response went to when route and key are the same, else
 * found through small-integer keys (see http-shared.ts). active_requests is counted
 * from the connection queues at collection.
 *
 * Per-request state is numbers only: start time and a small-integer key, queued on
 * otelkit's own per-connection record (a WeakMap keyed by the socket). HTTP/1.1
 * answers a connection's requests in order, so the oldest entry belongs to the
 * response that finishes. Nothing is added to Node's request/response objects (their
 * shape stays what Node's HTTP code is optimized for) and no reference to them is
 * kept: storing two young objects per request into a long-lived record cost a
 * measurable share of a hello-world request (write barriers, remembered set).
 * A response that never finishes (connection closed) is recorded as aborted
 * (`error.type=aborted`, with the route when the request had one): through a 'close'
 * listener added to a connection once a sweep (every second, and at each collection)
 * finds a request in flight on it, else by the sweep that finds the connection closed.
 * Never a listener per request, and none on connections whose requests all finish
 * between sweeps (see `sweep`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  diag,
  ValueType,
  type Attributes,
  type Histogram,
  type Meter,
  type ObservableResult,
} from '@opentelemetry/api';
import type { OtelkitConfig } from '../src/config/types.js';
import { DEFAULT_EXCLUDED_PATHS } from '../src/config/defaults.js';
import { isDisabled, onMeter } from '../src/meter-handoff.js';
import { otelkitState } from '../src/state.js';
import {
  METHOD_NAMES,
  OTHER_METHOD_INDEX,
  SeriesTable,
  methodIndex,
  shareSubscription,
  type SharedSubscription,
  type SeriesEntry,
} from './http-shared.js';
import { clock, secondsSince } from '../src/util/clock.js';
import { processSingleton } from '../src/process-singleton.js';
import { routeOf, watchFastify } from './http-route.js';
import { isNotCounted } from '../src/own-traffic.js';
import type { DurationSeries } from '../src/histograms/duration-histogram.js';
import { noopInstrumentation, type Instrumentation } from '../src/instrumentation.js';

export { setHttpRoute } from './http-route.js';

export interface HttpServerInstrumentationOptions {
  /** Paths never recorded: exact, or a prefix when ending in `*`. Default: config `http.excludePaths`. */
  excludePaths?: string[];
  /** Also record request/response body sizes (from Content-Length). Default: config `http.bodySizes`. */
  bodySizes?: boolean;
}

type Res = ServerResponse & { _contentLength?: unknown };

/**
 * One per connection: the requests in flight, oldest first, as (start, key) pairs.
 * The first two live in fields (a client may send its next request before Node has
 * run the previous response's 'finish'); deeper HTTP pipelining spills into `more`.
 * key: `slotOf(method, tls, protocol)`, or NOT_COUNTED for an excluded path.
 */
class Connection {
  n = 0;
  t0 = 0;
  k0 = 0;
  t1 = 0;
  k1 = 0;
  more: number[] | undefined = undefined;
  /**
   * The series this connection's last response went to, and its key: a keep-alive
   * connection mostly repeats one route and status, and this record is already in hand,
   * so the common finish skips the route and series map lookups.
   */
  lastRoute: string | undefined = undefined;
  lastKey = -1;
  lastSeries: DurationSeries | undefined = undefined;
  lastAttributes: Attributes | undefined = undefined;
  /** Set once a `close` listener watches this connection (see `sweep`). */
  watched = false;
  constructor(
    readonly tls: number,
    /** The subscription this record's queue belongs to (see `generation`). */
    public generation: number,
    readonly socket: Socket | undefined,
  ) {}

  push(start: number, key: number): void {
    if (this.n === 0) {
      this.t0 = start;
      this.k0 = key;
    } else if (this.n === 1) {
      this.t1 = start;
      this.k1 = key;
    } else {
      (this.more ??= []).push(start, key);
    }
    this.n++;
  }

  /** Forgets every entry: they belong to an earlier subscription (see `generation`). */
  reset(generation: number): void {
    this.n = 0;
    this.more = undefined;
    this.generation = generation;
  }

  /** Adds the active count of each queued request's slot (method, scheme) to `counts`. */
  countActive(counts: number[]): void {
    if (this.n > 0 && this.k0 !== NOT_COUNTED) counts[this.k0 >> 2]!++;
    if (this.n > 1 && this.k1 !== NOT_COUNTED) counts[this.k1 >> 2]!++;
    const more = this.more;
    if (more !== undefined)
      for (let i = 1; i < more.length; i += 2) if (more[i] !== NOT_COUNTED) counts[more[i]! >> 2]!++;
  }

  /** Drops the oldest entry (read t0/k0 first). */
  shift(): void {
    this.t0 = this.t1;
    this.k0 = this.k1;
    const more = this.more;
    if (more !== undefined && more.length > 0) {
      this.t1 = more.shift()!;
      this.k1 = more.shift()!;
    }
    this.n--;
  }
}

const NOT_COUNTED = -1;
/** How often connections are checked for ones that closed with requests in flight (see `sweep`). */
const SWEEP_INTERVAL_MS = 1000;

/** otelkit's state, read once (a symbol lookup on globalThis costs more than the rest of a request's accounting). */
const state = otelkitState();

const PROTOCOLS = ['1.1', '1.0', '2'] as const;
/**
 * Index into PROTOCOLS (3: other). From the version numbers: `httpVersion` is a fresh
 * string per request, so comparing it costs a string comparison.
 */
function protocolIndex(major: number, minor: number): number {
  return major === 1 ? (minor === 1 ? 0 : minor === 0 ? 1 : 3) : major === 2 && minor === 0 ? 2 : 3;
}

/** Everything that exists once otelkit's meter does: one per process. */
class ServerMetrics {
  readonly durations: SeriesTable;
  /** route -> integer key -> series */
  private readonly byRoute = new Map<string, Map<number, SeriesEntry>>();
  /** integer key -> series, for requests without a route (kept apart: no string-keyed lookup for them) */
  private readonly noRoute = new Map<number, SeriesEntry>();
  /**
   * Bit `slot` (methodIndex * 2 + (https ? 1 : 0)) set once a request of that slot was
   * seen: its active count is reported from then on, 0 included.
   */
  private activeSeen = 0;
  requestSize: Histogram | undefined;
  responseSize: Histogram | undefined;
  private exact = new Set<string>();
  /**
   * Bit n set when an exact path has length n (< 31); `exactLong` when one is longer.
   * Most paths are ruled out by their length without hashing, reading only this object.
   */
  private exactLengths = 0;
  private exactLong = 0;
  /** Shorter URLs match nothing. */
  private minLength = 0;
  private prefixes: string[] = [];

  constructor(meter: Meter, config: OtelkitConfig) {
    this.durations = new SeriesTable(
      meter,
      config,
      'http.server.request.duration',
      'Duration of HTTP server requests.',
      () => shared.running?.sweep(),
    );
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
    this.exactLengths = 0;
    this.exactLong = 0;
    for (const { length } of this.exact) {
      if (length < 31) this.exactLengths |= 1 << length;
      else this.exactLong = 1;
    }
    this.minLength = Math.min(Infinity, ...paths.map((p) => (p.endsWith('*') ? p.length - 1 : p.length)));
    this.prefixes = paths.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
    if (bodySizes && !this.requestSize && this.meter) {
      this.requestSize = this.meter.createHistogram('http.server.request.body.size', {
        unit: 'By',
        description: 'Size of HTTP server request bodies (from Content-Length).',
        valueType: ValueType.INT,
      });
      this.responseSize = this.meter.createHistogram('http.server.response.body.size', {
        unit: 'By',
        description: 'Size of HTTP server response bodies (from Content-Length).',
        valueType: ValueType.INT,
      });
    }
  }

  excluded(url: string | undefined): boolean {
    if (url === undefined || url.length < this.minLength) return false;
    const q = url.indexOf('?');
    const end = q < 0 ? url.length : q;
    const lengthMatches = end < 31 ? (this.exactLengths >> end) & 1 : this.exactLong;
    if (lengthMatches === 1 && this.exact.has(q < 0 ? url : url.slice(0, q))) return true;
    const prefixes = this.prefixes;
    for (let i = 0; i < prefixes.length; i++) if (url.startsWith(prefixes[i]!)) return true;
    return false;
  }

  /** The series for a request's attributes (created on first sight), looked up by route and integer key. */
  entryFor(
    req: IncomingMessage | undefined,
    key: number,
    status: number,
    route: string | undefined,
    finished: boolean,
    seriesKey: number,
  ): SeriesEntry {
    let byKey = route === undefined ? this.noRoute : this.byRoute.get(route);
    if (byKey === undefined) this.byRoute.set(route!, (byKey = new Map()));
    let entry = byKey.get(seriesKey);
    if (entry === undefined) {
      entry = this.durations.create(attributesFor(req, key, status, route, finished));
      if (!this.durations.full) byKey.set(seriesKey, entry);
      this.activeSeen |= 1 << (key >> 2);
    }
    return entry;
  }

  private observeActive(result: ObservableResult): void {
    const counts = new Array<number>((OTHER_METHOD_INDEX + 1) * 2).fill(0);
    const running = shared.running;
    running?.sweep();
    running?.countActive(counts);
    for (let slot = 0; slot < counts.length; slot++) {
      if (counts[slot]! > 0) this.activeSeen |= 1 << slot;
      if ((this.activeSeen >> slot) & 1) result.observe(counts[slot]!, activeAttributes(slot));
    }
  }
}

const activeAttrCache: Attributes[] = [];
function activeAttributes(slot: number): Attributes {
  return (activeAttrCache[slot] ??= Object.freeze({
    'http.request.method': METHOD_NAMES[slot >> 1]!,
    'url.scheme': slot & 1 ? 'https' : 'http',
  }));
}

function attributesFor(
  req: IncomingMessage | undefined,
  key: number,
  status: number,
  route: string | undefined,
  finished: boolean,
): Attributes {
  const slot = key >> 2;
  const a: Attributes = {
    'http.request.method': METHOD_NAMES[slot >> 1]!,
    'url.scheme': slot & 1 ? 'https' : 'http',
  };
  const protocol = PROTOCOLS[key & 3] ?? req?.httpVersion;
  if (protocol !== undefined) a['network.protocol.version'] = protocol;
  if (status > 0) a['http.response.status_code'] = status;
  if (route) a['http.route'] = route;
  if (!finished) a['error.type'] = 'aborted';
  else if (status >= 500) a['error.type'] = String(status);
  return a;
}

function contentLength(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function recordSizes(
  request: Histogram,
  response: Histogram,
  req: IncomingMessage,
  res: Res,
  attributes: Attributes,
): void {
  const inLen = contentLength(req.headers['content-length']);
  if (inLen !== undefined) request.record(inLen, attributes);
  // `_contentLength` is what Node computed for `res.end(body)` without an explicit header.
  const outLen = contentLength(res.getHeader('content-length') ?? res._contentLength);
  if (outLen !== undefined) response.record(outLen, attributes);
}

// ---- process-wide wiring -------------------------------------------------------

interface Shared extends SharedSubscription {
  metrics?: ServerMetrics;
  /** The running subscription's connections (the ESM and CJS builds each have their own subscribers). */
  running?: {
    /** Adds the requests in flight per slot to `counts` (read at collection). */
    countActive(counts: number[]): void;
    /** Records the requests of connections that closed since the last sweep. */
    sweep(): void;
  };
}

const shared = processSingleton<Shared>('otelkit.http.server', () => ({ users: 0 }));

interface ServerMessage {
  request: IncomingMessage;
  response: Res;
  socket?: Socket;
  server?: object;
}

/**
 * The per-request work, in one closure: the two subscribers and what they call read
 * their bindings from this function's small context. As module bindings they would be
 * spread over the bundle's large module scope, and between two requests the rest of a
 * request's work evicts those cache lines (`BENCH_CACHE_SIM=1 npm run bench:http-instructions`).
 * One per module instance; the subscription and the meter's metrics are process-wide.
 */
function createServerSubscribers() {
  /** socket -> its record; created at the connection's first request. */
  const connections = new WeakMap<Socket, Connection>();
  /**
   * The records with requests this subscription follows (until their connection closes
   * or the subscription stops): `http.server.active_requests` is counted from their
   * queues at collection, so a request costs no counter updates of its own.
   */
  const followed = new Set<Connection>();
  /** Connections of otelkit's own scrape server: never counted. */
  const own = new Connection(0, -1, undefined);
  // Local names for the module bindings the hot path uses, so they are read from here.
  const notCounted = NOT_COUNTED;
  const now = clock;
  const since = secondsSince;
  const methodOf = methodIndex;
  const protocolOf = protocolIndex;
  const marked = isNotCounted;
  const routeFor = routeOf;
  /**
   * Bumped when the subscription starts or stops: a connection record from an earlier
   * subscription may hold requests whose finish was never seen, and is reset on sight.
   */
  let generation = 0;
  let metrics: ServerMetrics | undefined;

  /**
   * A counted request ended. `started` and `key` are what onStart queued; req/res are
   * undefined for an aborted request queued behind another (pipelining): it is
   * recorded without route or status. `finished`: false for a response that ended
   * without finishing.
   */
  function finish(
    metrics: ServerMetrics,
    conn: Connection,
    req: IncomingMessage | undefined,
    res: Res | undefined,
    started: number,
    key: number,
    finished: boolean,
  ): void {
    const seconds = since(started);
    if (req !== undefined && marked(req)) return;
    const status = res?.headersSent ? res.statusCode | 0 : 0;
    let route = req !== undefined ? routeFor(req, status) : undefined;
    if (route === '') route = undefined;
    // key < 88 (method, scheme, protocol); status < 1000; aborted 0/1.
    const seriesKey = (status * 88 + key) * 2 + (finished ? 0 : 1);
    let series = conn.lastSeries;
    if (seriesKey !== conn.lastKey || route !== conn.lastRoute || series === undefined) {
      const entry = metrics.entryFor(req, key, status, route, finished, seriesKey);
      series = entry.duration;
      conn.lastKey = seriesKey;
      conn.lastRoute = route;
      conn.lastSeries = series;
      conn.lastAttributes = entry.attributes;
    }
    series.record(seconds);
    if (metrics.requestSize && req !== undefined && res !== undefined)
      recordSizes(metrics.requestSize, metrics.responseSize!, req, res, conn.lastAttributes!);
  }

  /** A connection closed: its requests still queued never finished. */
  function onConnectionClose(socket: Socket, conn: Connection): void {
    followed.delete(conn);
    try {
      if (metrics === undefined || conn.n === 0) return;
      if (conn.generation !== generation) {
        conn.reset(generation);
        return;
      }
      // Node keeps the response it is answering on the socket; the ones queued behind it
      // (pipelining) are not reachable, so they are recorded without route or status.
      const current = (socket as { _httpMessage?: unknown })._httpMessage;
      let res = current !== null && typeof current === 'object' && 'req' in current ? (current as Res) : undefined;
      while (conn.n > 0) {
        const started = conn.t0;
        const key = conn.k0;
        conn.shift();
        if (key !== notCounted)
          finish(metrics, conn, res?.req as IncomingMessage | undefined, res, started, key, false);
        res = undefined;
      }
    } catch (err) {
      diag.error('otelkit: recording an aborted HTTP server request failed', err);
    }
  }

  /** This subscription takes the connection over: earlier entries forgotten, counted and swept from now on. */
  function follow(conn: Connection): void {
    conn.reset(generation);
    followed.add(conn);
  }

  /** The record of a connection's first request (otelkit's own server gets the shared `own` marker). */
  function track(socket: Socket, server: object | undefined): Connection {
    if (server !== undefined && state.ownServers.has(server)) {
      connections.set(socket, own);
      return own;
    }
    const conn = new Connection((socket as { encrypted?: boolean }).encrypted ? 1 : 0, generation, socket);
    connections.set(socket, conn);
    return conn;
  }

  /**
   * Finds the connections that closed with requests in flight. A `close` listener on
   * every connection would see that at once, but it makes every request on the
   * connection dearer: Node adds and removes a socket `close` listener per response,
   * and with a second listener present that list is a long-lived array instead of a
   * fresh one (in callgrind's cache simulation Node's listener functions then cost about
   * 115 more instructions and 8 more L1 misses per request). So a connection gets
   * the listener only once a sweep finds a request in flight on it. One that closes
   * before that is found by the next sweep (every second, and at each collection); its
   * requests are then recorded as aborted with their duration up to that moment.
   */
  function sweep(): void {
    for (const conn of followed) {
      const socket = conn.socket!;
      if (socket.destroyed) onConnectionClose(socket, conn);
      else if (conn.n > 0 && !conn.watched) {
        conn.watched = true;
        socket.once('close', () => onConnectionClose(socket, conn));
      }
    }
  }

  function sweepSafely(): void {
    try {
      sweep();
    } catch (err) {
      diag.error('otelkit: checking HTTP server connections failed', err);
    }
  }
  let sweeper: ReturnType<typeof setInterval> | undefined;

  // The two subscribers are plain functions with their own try/catch (not a shared
  // wrapper), so V8 can inline what they call.
  function onStart(message: unknown): void {
    try {
      const m = message as ServerMessage;
      const socket = m.socket;
      if (metrics === undefined || socket === undefined) return;
      let conn = connections.get(socket);
      if (conn === undefined || conn.generation !== generation) {
        // First request seen on this connection in this subscription (`own` always lands
        // here: its generation is -1). Node publishes a request's start before it hands
        // the response the socket, so a response already on the socket is one the queue
        // never saw (it started before the subscription or the meter): keep its place,
        // so that its finish does not take this request's entry. Later requests on the
        // connection are all seen, so they skip this check.
        conn ??= track(socket, m.server);
        if (conn === own) return;
        follow(conn);
        if ((socket as { _httpMessage?: unknown })._httpMessage) conn.push(0, notCounted);
      }
      const req = m.request;
      if (metrics.excluded(req.url)) conn.push(0, notCounted);
      else
        conn.push(
          now(),
          ((methodOf(req.method) * 2 + conn.tls) << 2) | protocolOf(req.httpVersionMajor, req.httpVersionMinor),
        );
    } catch (err) {
      diag.error('otelkit: http.server.request.start failed', err);
    }
  }

  function onFinish(message: unknown): void {
    try {
      const m = message as ServerMessage;
      const conn = m.socket === undefined ? undefined : connections.get(m.socket);
      if (conn === undefined || conn.n === 0) return;
      // A request from before this subscription: followed from here on (the connection's
      // next request skips onStart's first-request path).
      if (conn.generation !== generation) {
        follow(conn);
        return;
      }
      const started = conn.t0;
      const key = conn.k0;
      conn.shift();
      if (key !== notCounted && metrics !== undefined) finish(metrics, conn, m.request, m.response, started, key, true);
    } catch (err) {
      diag.error('otelkit: http.server.response.finish failed', err);
    }
  }

  return {
    subscribe(): void {
      generation++;
      subscribe('http.server.request.start', onStart);
      subscribe('http.server.response.finish', onFinish);
      sweeper = setInterval(sweepSafely, SWEEP_INTERVAL_MS);
      sweeper.unref();
    },
    unsubscribe(): void {
      generation++;
      clearInterval(sweeper);
      followed.clear();
      unsubscribe('http.server.request.start', onStart);
      unsubscribe('http.server.response.finish', onFinish);
    },
    setMetrics(m: ServerMetrics): void {
      metrics = m;
    },
    countActive(counts: number[]): void {
      for (const conn of followed) if (conn.generation === generation) conn.countActive(counts);
    },
    sweep: sweepSafely,
  };
}

const subscribers = createServerSubscribers();

/**
 * Starts HTTP server metrics for every node:http/https server in the process.
 * One process-wide subscription: calling it again returns another handle on the same
 * subscription (options of the first call win); it stops when every handle is disposed.
 */
export function instrumentHttpServer(options: HttpServerInstrumentationOptions = {}): Instrumentation {
  if (isDisabled()) return noopInstrumentation;
  return shareSubscription(shared, () => {
    const unwatchFastify = watchFastify();
    subscribers.subscribe();
    shared.running = subscribers;
    const stopWaiting = onMeter(({ meter, config }) => {
      shared.metrics ??= new ServerMetrics(meter, config);
      shared.metrics.configure(
        options.excludePaths ?? config.http.excludePaths,
        options.bodySizes ?? config.http.bodySizes,
      );
      subscribers.setMetrics(shared.metrics);
    });
    return () => {
      shared.running = undefined;
      subscribers.unsubscribe();
      unwatchFastify();
      stopWaiting();
    };
  });
}
