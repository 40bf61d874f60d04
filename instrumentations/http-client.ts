/**
 * HTTP client metrics for outgoing node:http / node:https requests and the global
 * `fetch` (undici), following the OpenTelemetry HTTP semantic conventions:
 *   http.client.request.duration (s) histogram, per method / server.address /
 *   server.port / url.scheme / status / error.type
 *
 * How: diagnostics channels only, no patching.
 * - node:http(s): `http.client.request.start` stores a timestamp on the ClientRequest;
 *   `http.client.response.finish` (response headers received) or
 *   `http.client.request.error` records it.
 * - fetch: undici's `undici:request:create`, `undici:request:headers`, `undici:request:error`.
 * Duration runs until the response headers arrive (the body is the caller's to read
 * and may never be), for both clients alike.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Attributes, Meter } from '@opentelemetry/api';
import type { OtelkitConfig } from '../src/config/types.js';
import { isDisabled, onMeter } from '../src/meter-handoff.js';
import { errorType, methodName } from './http-attributes.js';
import { HttpSeriesTable, type HttpSeries } from './http-series.js';
import { guard, shareSubscription, type SharedSubscription } from './shared/channel-subscription.js';
import { clock, secondsSince } from '../src/util/clock.js';
import { processSingleton } from '../src/process-singleton.js';
import { noopInstrumentation, type Instrumentation } from '../src/instrumentation.js';
import { HTTP_CLIENT } from './metric-names.js';

const kStart = Symbol.for('otelkit.http.client.start');

/** One destination (scheme + host + port) and its series. */
interface Destination {
  attributes: Attributes;
  /** By method and status, and by method and error type. */
  byStatus: Map<string, HttpSeries>;
  byError: Map<string, HttpSeries>;
}

/** Bound on remembered destinations (raw and canonical keys); far above the series limit, which overflows first. */
const MAX_DESTINATIONS = 10_000;

class ClientMetrics {
  private readonly durations: HttpSeriesTable;
  private readonly destinations = new Map<string, Destination>();

  constructor(meter: Meter, config: OtelkitConfig) {
    this.durations = new HttpSeriesTable(meter, config, {
      duration: { name: HTTP_CLIENT.requestDuration.name, description: 'Duration of HTTP client requests.' },
    });
  }

  /**
   * The destination for a raw key (a Host header, a fetch origin). Different raw keys
   * for the same scheme/address/port share one destination, so node:http and fetch
   * calls to one server land in the same series.
   */
  destination(rawKey: string, make: () => Attributes): Destination {
    let d = this.destinations.get(rawKey);
    if (d === undefined) {
      const attributes = make();
      const scheme = String(attributes['url.scheme']);
      const canonical = `${scheme}://${String(attributes['server.address'])}:${String(attributes['server.port'])}`;
      d = this.destinations.get(canonical);
      if (d === undefined) {
        d = { attributes, byStatus: new Map(), byError: new Map() };
        if (this.destinations.size < MAX_DESTINATIONS) this.destinations.set(canonical, d);
      }
      if (this.destinations.size < MAX_DESTINATIONS) this.destinations.set(rawKey, d);
    }
    return d;
  }

  record(dest: Destination, method: unknown, status: number, error: string | undefined, seconds: number): void {
    const m = methodName(method);
    let entry: HttpSeries | undefined;
    if (error === undefined) {
      const key = `${m} ${status}`;
      entry = dest.byStatus.get(key);
      if (entry === undefined) {
        entry = this.create(dest, m, status, status >= 400 ? String(status) : undefined);
        if (!this.durations.full) dest.byStatus.set(key, entry);
      }
    } else {
      const key = `${m} ${error}`;
      entry = dest.byError.get(key);
      if (entry === undefined) {
        entry = this.create(dest, m, 0, error);
        if (!this.durations.full) dest.byError.set(key, entry);
      }
    }
    entry.duration.record(seconds);
  }

  private create(dest: Destination, method: string, status: number, error: string | undefined): HttpSeries {
    const a: Attributes = { ...dest.attributes, 'http.request.method': method };
    if (status > 0) a['http.response.status_code'] = status;
    if (error !== undefined) a['error.type'] = error;
    return this.durations.create(a);
  }
}

function destinationAttributes(scheme: string, address: string, port: number): Attributes {
  return { 'server.address': address, 'server.port': port, 'url.scheme': scheme };
}

// ---- node:http(s) ---------------------------------------------------------------

type Req = ClientRequest & { [kStart]?: number; host?: string; protocol?: string; agent?: { defaultPort?: number } };

function httpDestination(metrics: ClientMetrics, req: Req): Destination {
  const hostHeader = req.getHeader('host');
  const scheme = req.protocol === 'https:' ? 'https' : 'http';
  const key = `${scheme} ${typeof hostHeader === 'string' ? hostHeader : req.host}`;
  return metrics.destination(key, () => {
    const defaultPort = req.agent?.defaultPort ?? (scheme === 'https' ? 443 : 80);
    if (typeof hostHeader === 'string') {
      const { address, port } = splitHostPort(hostHeader);
      return destinationAttributes(scheme, address, port ?? defaultPort);
    }
    return destinationAttributes(scheme, String(req.host ?? ''), defaultPort);
  });
}

/** `host`, `host:port`, `[v6]:port` -> parts. */
export function splitHostPort(hostPort: string): { address: string; port: number | undefined } {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(hostPort);
  if (!m) return { address: hostPort, port: undefined };
  const address = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  return { address, port: m[2] === undefined ? undefined : Number(m[2]) };
}

function finishHttp(req: Req, status: number, error: string | undefined): void {
  const metrics = shared.metrics;
  const started = req[kStart];
  if (!metrics || started === undefined) return;
  req[kStart] = undefined; // an error after the response must not count twice
  metrics.record(httpDestination(metrics, req), req.method, status, error, secondsSince(started));
}

const onHttpStart = guard('http.client.request.start', (message: { request: Req }) => {
  if (shared.metrics) message.request[kStart] = clock();
});
const onHttpResponse = guard('http.client.response.finish', (message: { request: Req; response: IncomingMessage }) => {
  finishHttp(message.request, message.response.statusCode ?? 0, undefined);
});
const onHttpError = guard('http.client.request.error', (message: { request: Req; error: unknown }) => {
  finishHttp(message.request, 0, errorType(message.error));
});

// ---- fetch (undici) -------------------------------------------------------------

interface UndiciRequest {
  origin?: unknown;
  method?: unknown;
  [kStart]?: number;
}

function fetchDestination(metrics: ClientMetrics, origin: unknown): Destination {
  const text = typeof origin === 'string' ? origin : String(origin);
  return metrics.destination(text, () => {
    try {
      const url = new URL(text);
      const scheme = url.protocol.replace(/:$/, '');
      const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
      const address = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      return destinationAttributes(scheme, address, port);
    } catch {
      return { 'server.address': text };
    }
  });
}

function finishFetch(request: UndiciRequest, status: number, error: string | undefined): void {
  const metrics = shared.metrics;
  const started = request[kStart];
  if (!metrics || started === undefined) return;
  request[kStart] = undefined;
  metrics.record(fetchDestination(metrics, request.origin), request.method, status, error, secondsSince(started));
}

const onUndiciCreate = guard('undici:request:create', (message: { request: UndiciRequest }) => {
  if (shared.metrics) message.request[kStart] = clock();
});
const onUndiciHeaders = guard(
  'undici:request:headers',
  (message: { request: UndiciRequest; response: { statusCode?: number } }) => {
    finishFetch(message.request, message.response?.statusCode ?? 0, undefined);
  },
);
const onUndiciError = guard('undici:request:error', (message: { request: UndiciRequest; error: unknown }) => {
  finishFetch(message.request, 0, errorType(message.error));
});

// ---- process-wide wiring ----------------------------------------------------------

const CHANNELS: [string, (message: unknown, name: string | symbol) => void][] = [
  ['http.client.request.start', onHttpStart],
  ['http.client.response.finish', onHttpResponse],
  ['http.client.request.error', onHttpError],
  ['undici:request:create', onUndiciCreate],
  ['undici:request:headers', onUndiciHeaders],
  ['undici:request:error', onUndiciError],
];

interface Shared extends SharedSubscription {
  metrics?: ClientMetrics;
}

const shared = processSingleton<Shared>('otelkit.http.client', () => ({ users: 0 }));

/**
 * Starts HTTP client metrics for node:http/https requests and fetch, process-wide.
 * Calling it again returns another handle on the same subscription; it stops when
 * every handle is disposed.
 */
export function instrumentHttpClient(): Instrumentation {
  if (isDisabled()) return noopInstrumentation;
  return shareSubscription(shared, () => {
    for (const [name, fn] of CHANNELS) subscribe(name, fn);
    const stopWaiting = onMeter(({ meter, config }) => {
      shared.metrics ??= new ClientMetrics(meter, config);
    });
    return () => {
      for (const [name, fn] of CHANNELS) unsubscribe(name, fn);
      stopWaiting();
    };
  });
}
