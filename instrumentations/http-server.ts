/**
 * HTTP server metrics for every node:http / node:https server in the process,
 * following the OpenTelemetry HTTP semantic conventions:
 *   http.server.request.duration (s)   histogram, per method/route/status/scheme/protocol/error
 *   http.server.active_requests        up-down counter, per method/scheme
 *   http.server.request.body.size,
 *   http.server.response.body.size (By) histograms, when `bodySizes` is on
 *
 * How: Node's built-in `http.server.request.start` diagnostics channel (no patching,
 * so ESM and CJS apps alike, no loader flag). At start the request is filtered
 * (otelkit's own scrape server, excluded paths), a timestamp is stored on the
 * response and one shared 'close' listener is added: 'close' fires for every
 * response, finished or aborted, so active_requests never drifts. At close the
 * route template is read (see http-route.ts) and the duration lands in an
 * in-place histogram series found through small-integer keys (see http-shared.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { diag, ValueType, type Attributes, type Histogram, type Meter, type ObservableResult } from '@opentelemetry/api';
import type { OtelkitConfig } from '../src/config/types.js';
import { DEFAULT_EXCLUDED_PATHS } from '../src/config/defaults.js';
import { isDisabled, onMeter } from '../src/meter.js';
import { otelkitState } from '../src/state.js';
import { METHOD_NAMES, OTHER_METHOD_INDEX, SeriesTable, getOrCreate, guard, methodIndex, processSingleton, secondsSince, type SeriesEntry } from './http-shared.js';
import { routeOf, watchFastify } from './http-route.js';
import { noopInstrumentation, type Instrumentation } from './types.js';

export { setHttpRoute } from './http-route.js';

export interface HttpServerInstrumentationOptions {
  /** Paths never recorded: exact, or a prefix when ending in `*`. Default: config `http.excludePaths`. */
  excludePaths?: string[];
  /** Also record request/response body sizes (from Content-Length). Default: config `http.bodySizes`. */
  bodySizes?: boolean;
}

const kStart = Symbol.for('otelkit.http.server.start');
const kMethod = Symbol.for('otelkit.http.server.method');

type Res = ServerResponse & { [kStart]?: number; [kMethod]?: number; _contentLength?: unknown };

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
  /** Lengths of the exact paths: most request paths are ruled out by length alone, without hashing. */
  private exactLengths = new Set<number>();
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
    this.exactLengths = new Set([...this.exact].map((p) => p.length));
    this.prefixes = paths.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
    if (bodySizes && !this.requestSize && this.meter) {
      this.requestSize = this.meter.createHistogram('http.server.request.body.size', { unit: 'By', description: 'Size of HTTP server request bodies (from Content-Length).', valueType: ValueType.INT });
      this.responseSize = this.meter.createHistogram('http.server.response.body.size', { unit: 'By', description: 'Size of HTTP server response bodies (from Content-Length).', valueType: ValueType.INT });
    }
  }

  excluded(url: string | undefined): boolean {
    if (url === undefined) return false;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (this.exactLengths.has(path.length) && this.exact.has(path)) return true;
    for (const p of this.prefixes) if (path.startsWith(p)) return true;
    return false;
  }

  start(req: IncomingMessage, res: Res): void {
    const m = methodIndex(req.method);
    const slot = m * 2 + ((req.socket as { encrypted?: boolean } | undefined)?.encrypted ? 1 : 0);
    res[kStart] = performance.now();
    res[kMethod] = slot;
    this.active[slot]!++;
    this.activeSeen[slot] = 1;
    res.on('close', onClose);
  }

  finish(res: Res): void {
    const started = res[kStart];
    const slot = res[kMethod];
    if (started === undefined || slot === undefined) return;
    this.active[slot]!--;
    const req = res.req as IncomingMessage | undefined;
    if (!req || otelkitState().excludedRequests.has(req)) return;
    const seconds = secondsSince(started);
    const finished = res.writableFinished;
    const status = res.headersSent ? res.statusCode | 0 : 0;
    const proto = protocolIndex(req.httpVersion);
    const route = routeOf(req) ?? '';
    // slot carries method and scheme; status < 1000; proto < 4; aborted 0/1.
    const key = ((status * 22 + slot) * 4 + proto) * 2 + (finished ? 0 : 1);
    const byKey = getOrCreate(this.byRoute, route, () => new Map());
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

interface Shared {
  metrics?: ServerMetrics;
  users: number;
  pendingMeter?: () => void;
  unwatchFastify?: () => void;
  options?: HttpServerInstrumentationOptions;
}

const shared = processSingleton<Shared>('otelkit.http.server', () => ({ users: 0 }));

function onClose(this: Res): void {
  try {
    shared.metrics?.finish(this);
  } catch (err) {
    diag.error('otelkit: recording an HTTP server request failed', err);
  }
}

const onStart = guard('http.server.request.start', (message: { request: IncomingMessage; response: Res; server?: object }) => {
  const metrics = shared.metrics;
  if (!metrics) return;
  if (message.server && otelkitState().ownServers.has(message.server)) return;
  if (metrics.excluded(message.request.url)) return;
  metrics.start(message.request, message.response);
});

/**
 * Starts HTTP server metrics for every node:http/https server in the process.
 * One process-wide subscription: calling it again returns another handle on the same
 * subscription (options of the first call win); it stops when every handle is disposed.
 */
export function instrumentHttpServer(options: HttpServerInstrumentationOptions = {}): Instrumentation {
  if (isDisabled()) return noopInstrumentation;
  shared.users++;
  if (shared.users === 1) {
    shared.options = options;
    shared.unwatchFastify = watchFastify();
    subscribe('http.server.request.start', onStart);
    shared.pendingMeter = onMeter(({ meter, config }) => {
      if (!shared.metrics) shared.metrics = new ServerMetrics(meter, config);
      const o = shared.options ?? {};
      shared.metrics.configure(o.excludePaths ?? config.http.excludePaths, o.bodySizes ?? config.http.bodySizes);
    });
  }
  let disposed = false;
  return {
    dispose() {
      if (disposed) return;
      disposed = true;
      if (--shared.users > 0) return;
      unsubscribe('http.server.request.start', onStart);
      shared.unwatchFastify?.();
      shared.pendingMeter?.();
      shared.unwatchFastify = shared.pendingMeter = shared.options = undefined;
    },
  };
}
