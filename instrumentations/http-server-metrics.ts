/**
 * The HTTP server instruments, and what a request that ended records in them:
 *   http.server.request.duration (s)   per method, route, status, scheme, protocol, error
 *   http.server.active_requests        per method and scheme, counted at collection
 *   http.server.request.body.size,
 *   http.server.response.body.size (By) when `bodySizes` is on
 * One per process, created once otelkit's meter exists.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ValueType, type Attributes, type Meter, type ObservableResult } from '@opentelemetry/api';
import type { OtelkitConfig } from '../src/config/types.js';
import { DEFAULT_EXCLUDED_PATHS } from '../src/config/defaults.js';
import { isNotCounted } from '../src/own-traffic.js';
import { secondsSince } from '../src/util/clock.js';
import type { RecorderMemo, RequestFacts, RequestRecorder } from './http-server-connections.js';
import { methodName } from './http-attributes.js';
import { routeOf } from './http-route.js';
import { HttpSeriesTable, type HttpSeries } from './http-series.js';
import { HTTP_SERVER } from './metric-names.js';

/**
 * The requests in flight, from the running subscription (possibly the other build's:
 * ESM and CJS each have their own).
 */
export interface RequestsInFlight {
  /** Records what is due for connections that closed. */
  sweep(): void;
  inFlight(): Iterable<RequestFacts>;
}

/**
 * The series of a connection's last finished response, and the values that led to it
 * (kept in the connection's memo).
 */
interface LastSeries {
  readonly route: string | undefined;
  readonly status: number;
  /** As Node gives them (`req.method`, `req.httpVersion`): compared as they are, normalized only on a lookup. */
  readonly method: string | undefined;
  readonly protocol: string;
  readonly entry: HttpSeries;
}

export class ServerMetrics implements RequestRecorder {
  private readonly table: HttpSeriesTable;
  /** The series by the key `seriesFor` builds from their attribute values. */
  private readonly series = new Map<string, HttpSeries>();
  /** The (method, scheme) pairs seen so far: each one's active count is reported from then on, 0 included. */
  private readonly activeAttributes = new Map<string, Attributes>();
  private excludedPaths = new ExcludedPaths(DEFAULT_EXCLUDED_PATHS);

  constructor(
    meter: Meter,
    config: OtelkitConfig,
    private readonly running: () => RequestsInFlight | undefined,
  ) {
    this.table = new HttpSeriesTable(meter, config, {
      duration: { name: HTTP_SERVER.requestDuration.name, description: 'Duration of HTTP server requests.' },
      sizes: {
        request: {
          name: HTTP_SERVER.requestBodySize.name,
          description: 'Size of HTTP server request bodies (from Content-Length).',
        },
        response: {
          name: HTTP_SERVER.responseBodySize.name,
          description: 'Size of HTTP server response bodies (from Content-Length).',
        },
      },
      beforeCollect: () => this.running()?.sweep(),
    });
    const active = meter.createObservableUpDownCounter(HTTP_SERVER.activeRequests.name, {
      unit: HTTP_SERVER.activeRequests.unit,
      description: 'Number of active HTTP server requests.',
      valueType: ValueType.INT,
    });
    active.addCallback((result) => this.observeActive(result));
  }

  /** Sets the excluded paths (default: `DEFAULT_EXCLUDED_PATHS`) and turns the body-size histograms on. */
  configure(excludePaths: readonly string[] | undefined, bodySizes: boolean | undefined): void {
    this.excludedPaths = new ExcludedPaths(excludePaths ?? DEFAULT_EXCLUDED_PATHS);
    if (bodySizes) this.table.enableSizes();
  }

  excludes(url: string | undefined): boolean {
    return this.excludedPaths.matches(url);
  }

  finished(start: number, req: IncomingMessage, res: ServerResponse, memo: RecorderMemo): void {
    const seconds = secondsSince(start);
    if (isNotCounted(req)) return;
    const status = res.headersSent ? res.statusCode : 0;
    // An empty route (setHttpRoute(req, '')) counts as none.
    const route = routeOf(req, status) || undefined;
    // A keep-alive connection mostly repeats its last response's route, status, method
    // and protocol (its scheme never changes): then that response's series is this
    // one's, without building its key.
    let last = memo.last as LastSeries | undefined;
    if (
      last === undefined ||
      last.route !== route ||
      last.status !== status ||
      last.method !== req.method ||
      last.protocol !== req.httpVersion
    ) {
      last = {
        route,
        status,
        method: req.method,
        protocol: req.httpVersion,
        entry: this.seriesFor(req, status, route, false),
      };
      memo.last = last;
    }
    last.entry.duration.record(seconds);
    if (this.table.sizesEnabled) recordSizes(this.table, last.entry, req, res);
  }

  aborted(start: number, req: RequestFacts, res: ServerResponse | undefined): void {
    const seconds = secondsSince(start);
    // A request queued behind the one being answered (res undefined) is recorded without
    // route; only the one being answered was seen by the app (and may be marked not counted).
    if (res !== undefined && isNotCounted(res.req)) return;
    const status = res?.headersSent ? res.statusCode : 0;
    const route = (res !== undefined && routeOf(res.req, status)) || undefined;
    const entry = this.seriesFor(req, status, route, true);
    entry.duration.record(seconds);
    if (this.table.sizesEnabled && res !== undefined) recordSizes(this.table, entry, res.req, res);
  }

  /** The series of a request's attributes, created on first sight. */
  private seriesFor(req: RequestFacts, status: number, route: string | undefined, aborted: boolean): HttpSeries {
    const method = methodName(req.method);
    const scheme = schemeOf(req);
    const protocol = protocolVersion(req);
    // The route last, after a fixed number of fields without spaces: no two combinations share a key.
    const key = `${method} ${scheme} ${protocol} ${status} ${aborted ? 'aborted' : 'ended'} ${route ?? ''}`;
    let entry = this.series.get(key);
    if (entry === undefined) {
      const attributes: Attributes = {
        'http.request.method': method,
        'url.scheme': scheme,
        'network.protocol.version': protocol,
      };
      if (status > 0) attributes['http.response.status_code'] = status;
      if (route !== undefined) attributes['http.route'] = route;
      if (aborted) attributes['error.type'] = 'aborted';
      else if (status >= 500) attributes['error.type'] = String(status);
      entry = this.table.create(attributes);
      // Past the cardinality limit every new combination shares the overflow series:
      // not remembered, so the map stays bounded.
      if (!this.table.full) this.series.set(key, entry);
      this.seeActive(method, scheme);
    }
    return entry;
  }

  private seeActive(method: string, scheme: string): Attributes {
    const key = `${method} ${scheme}`;
    let attributes = this.activeAttributes.get(key);
    if (attributes === undefined) {
      attributes = Object.freeze({ 'http.request.method': method, 'url.scheme': scheme });
      this.activeAttributes.set(key, attributes);
    }
    return attributes;
  }

  private observeActive(result: ObservableResult): void {
    const running = this.running();
    running?.sweep();
    const counts = new Map<Attributes, number>();
    for (const req of running?.inFlight() ?? []) {
      const attributes = this.seeActive(methodName(req.method), schemeOf(req));
      counts.set(attributes, (counts.get(attributes) ?? 0) + 1);
    }
    for (const attributes of this.activeAttributes.values()) result.observe(counts.get(attributes) ?? 0, attributes);
  }
}

function schemeOf(req: RequestFacts): 'http' | 'https' {
  return (req.socket as { encrypted?: boolean } | null)?.encrypted ? 'https' : 'http';
}

/** `network.protocol.version`, as the conventions spell it (`2` for HTTP/2). */
function protocolVersion(req: RequestFacts): string {
  return req.httpVersion === '2.0' ? '2' : req.httpVersion;
}

/** Paths never recorded: exact (the query string ignored), or a prefix when the entry ends in `*`. */
class ExcludedPaths {
  private readonly exact: Set<string>;
  private readonly prefixes: string[];

  constructor(patterns: readonly string[]) {
    this.exact = new Set(patterns.filter((p) => !p.endsWith('*')));
    this.prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  }

  matches(url: string | undefined): boolean {
    if (url === undefined) return false;
    const query = url.indexOf('?');
    if (this.exact.has(query < 0 ? url : url.slice(0, query))) return true;
    for (const prefix of this.prefixes) if (url.startsWith(prefix)) return true;
    return false;
  }
}

/** Body sizes from Content-Length, in the request's own series. */
function recordSizes(table: HttpSeriesTable, entry: HttpSeries, req: IncomingMessage, res: ServerResponse): void {
  // `_contentLength` is what Node computed for `res.end(body)` without an explicit header.
  const response = res.getHeader('content-length') ?? (res as { _contentLength?: unknown })._contentLength;
  table.recordSizes(entry, contentLength(req.headers['content-length']), contentLength(response));
}

function contentLength(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}
