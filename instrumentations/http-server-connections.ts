/**
 * Pairs each HTTP server response with the start of its request, per connection.
 *
 * Node publishes `http.server.request.start` and `http.server.response.finish` on
 * diagnostics channels. HTTP/1.1 answers a connection's requests in order, so each
 * connection keeps a queue of its requests in flight and a finished response belongs to
 * the oldest one. A queued request is its start time and its method: no reference to
 * Node's request object, which the response carries (`res.req`) when it finishes;
 * storing a young object in a long-lived record on every request costs the garbage
 * collector measurably. Nothing is added to Node's objects. What a request counts as
 * (method, route, excluded path...) is the recorder's business, read from the request
 * when it ends.
 *
 * A response that never finishes (the client went away) is recorded as aborted when its
 * connection closes. To see that, a connection gets a `close` listener once a sweep
 * (every second, and at each collection) finds a request in flight on it; one that
 * closes before that is found by the next sweep. Not a listener on every connection:
 * Node adds and removes a socket `close` listener of its own per response, and a second
 * listener present makes each of those dearer.
 *
 * One tracker per subscription: stopping the subscription drops its connections, so a
 * request that started before a (re)subscription is never paired with a later response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { otelkitState } from '../src/state.js';
import { clock } from '../src/util/clock.js';
import { guard } from './shared/channel-subscription.js';

/** What the metrics read of a request: an IncomingMessage, or these facts of one in flight. */
export interface RequestFacts {
  readonly method?: string | undefined;
  readonly httpVersion: string;
  readonly socket: Socket | null;
}

/** A request in flight. */
export interface PendingRequest {
  /** `clock()` at the start. */
  readonly start: number;
  /**
   * False for a request that is not counted (an excluded path, or one that started
   * before this subscription): it keeps its place in the queue, so later responses pair up.
   */
  readonly counted: boolean;
  readonly method: string | undefined;
  /** The request after it on the same connection (HTTP/1.1 pipelining). */
  next: PendingRequest | undefined;
}

/** What the recorder may keep per connection, from one of its responses to the next. */
export interface RecorderMemo {
  last?: unknown;
}

/** Where the tracker sends the requests that ended (the metrics, once otelkit's meter exists). */
export interface RequestRecorder {
  /** True for a request never counted (its path is excluded), decided on the path the request came with. */
  excludes(url: string | undefined): boolean;
  /** A response finished; its request started at `start` (a `clock()` reading). */
  finished(start: number, req: IncomingMessage, res: ServerResponse, memo: RecorderMemo): void;
  /**
   * A request whose connection closed before its response finished. `res` is the
   * response being answered; undefined for a request queued behind it (pipelining).
   */
  aborted(start: number, req: RequestFacts, res: ServerResponse | undefined): void;
}

/** The messages of the two channels. */
export interface ServerMessage {
  request: IncomingMessage;
  response: ServerResponse;
  socket?: Socket;
  server?: object;
}

/** One HTTP connection this subscription follows. */
class Connection {
  /**
   * The oldest request in flight, which the next finished response answers; the others
   * follow it through `next`. A linked queue rather than an array: with one request in
   * flight at a time, an array's `push` and `shift` make V8 regrow and shrink its
   * backing store on every request.
   */
  oldest: PendingRequest | undefined = undefined;
  /** Set once a `close` listener watches this connection. */
  watched = false;
  readonly memo: RecorderMemo = {};

  constructor(readonly socket: Socket) {}

  push(request: PendingRequest): void {
    if (this.oldest === undefined) {
      this.oldest = request;
      return;
    }
    let last = this.oldest;
    while (last.next !== undefined) last = last.next;
    last.next = request;
  }

  shift(): PendingRequest | undefined {
    const request = this.oldest;
    if (request !== undefined) this.oldest = request.next;
    return request;
  }

  *pending(): Iterable<PendingRequest> {
    for (let request = this.oldest; request !== undefined; request = request.next) yield request;
  }
}

/** How often connections are checked for ones that closed with requests in flight. */
const SWEEP_INTERVAL_MS = 1000;

const state = otelkitState();

export class ConnectionTracker {
  /** The recorder: undefined until otelkit's meter exists, and requests are not followed until then. */
  recorder: RequestRecorder | undefined;
  /** socket -> its connection; null for a connection of otelkit's own scrape server, never counted. */
  private readonly connections = new WeakMap<Socket, Connection | null>();
  /**
   * The connections this subscription has seen a request on, until they close: swept,
   * and counted for active_requests.
   */
  private readonly followed = new Set<Connection>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  private stopped = false;

  /** The channel subscribers and the sweep, each guarded: a failure goes to diag, never to the app. */
  readonly onRequestStart = guard('http.server.request.start', (message: ServerMessage) =>
    this.requestStarted(message),
  );
  readonly onResponseFinish = guard('http.server.response.finish', (message: ServerMessage) =>
    this.responseFinished(message),
  );
  readonly sweep = guard('checking HTTP server connections', () => this.sweepConnections());

  constructor() {
    this.sweeper = setInterval(this.sweep, SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.sweeper);
    this.followed.clear();
  }

  /** The counted requests in flight on the followed connections. */
  *inFlight(): Iterable<RequestFacts> {
    for (const connection of this.followed) {
      const socket = connection.socket;
      for (const { counted, method } of connection.pending()) if (counted) yield { method, httpVersion: '', socket };
    }
  }

  private requestStarted({ request: req, socket, server }: ServerMessage): void {
    const recorder = this.recorder;
    if (recorder === undefined || socket === undefined) return;
    let connection = this.connections.get(socket);
    if (connection === undefined) connection = this.track(socket, server);
    if (connection !== null)
      connection.push({ start: clock(), counted: !recorder.excludes(req.url), method: req.method, next: undefined });
  }

  private responseFinished({ response: res, socket }: ServerMessage): void {
    const connection = socket === undefined ? undefined : this.connections.get(socket);
    if (connection === undefined || connection === null) return;
    const request = connection.shift();
    if (request?.counted) this.recorder?.finished(request.start, res.req, res, connection.memo);
  }

  /** The record of a connection at its first request seen by this subscription (null for otelkit's own server). */
  private track(socket: Socket, server: object | undefined): Connection | null {
    if (server !== undefined && state.ownServers.has(server)) {
      this.connections.set(socket, null);
      return null;
    }
    const connection = new Connection(socket);
    // Node publishes a request's start before it hands the response the socket, so a
    // response already on the socket started before this subscription: it takes the
    // first place in the queue, so that its finish does not take this request's.
    if ((socket as { _httpMessage?: unknown })._httpMessage)
      connection.push({ start: 0, counted: false, method: undefined, next: undefined });
    this.connections.set(socket, connection);
    this.followed.add(connection);
    return connection;
  }

  /**
   * Finds the followed connections that closed (their requests are recorded as
   * aborted) and watches those with a request in flight for their `close`.
   */
  private sweepConnections(): void {
    for (const connection of this.followed) {
      if (connection.socket.destroyed) this.closed(connection);
      else if (connection.oldest !== undefined && !connection.watched) {
        connection.watched = true;
        connection.socket.once(
          'close',
          guard('recording an aborted HTTP server request', () => this.closed(connection)),
        );
      }
    }
  }

  /** A connection closed: its requests still queued never finished. */
  private closed(connection: Connection): void {
    this.followed.delete(connection);
    const requests = [...connection.pending()];
    connection.oldest = undefined;
    const recorder = this.recorder;
    if (this.stopped || recorder === undefined) return;
    // Node keeps the response it is answering on the socket, and its request on it; the
    // requests queued behind it (pipelining) are recorded without either, from what the
    // queue knows of them.
    const current = (connection.socket as { _httpMessage?: unknown })._httpMessage;
    let res =
      current !== null && typeof current === 'object' && 'req' in current ? (current as ServerResponse) : undefined;
    const httpVersion = res?.req.httpVersion ?? '1.1';
    for (const { start, counted, method } of requests) {
      if (counted) recorder.aborted(start, res?.req ?? { method, httpVersion, socket: connection.socket }, res);
      res = undefined;
    }
  }
}
