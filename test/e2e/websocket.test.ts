// instrumentWebSocketServer against real ws and socket.io servers on 127.0.0.1
// with real clients: exact connection, close-class, message and byte counts
// through real scrapes. Every wait is for an event (the server-side close, the
// echo) or a bounded poll of the scrape, never a fixed sleep.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as SocketIoServer } from 'socket.io';
import { io as ioClient, type Socket as IoClientSocket } from 'socket.io-client';
import { WebSocket, WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentWebSocketServer, register, type OtelkitHandle } from '../../index.js';
import { webSocketSnapshot } from '../../instrumentations/websocket/index.js';
import { noopInstrumentation } from '../../src/instrumentation.js';
import { otelkitState } from '../../src/state.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';
import { findSamples, parsePrometheus, sampleValue, scrape, type Sample } from '../helpers/prom-text.js';

let otel: OtelkitHandle;
let url: string;
const read = async (): Promise<Sample[]> => parsePrometheus(await scrape(url));
const v = (s: Sample[], metric: string, name: string, extra: Record<string, string> = {}) =>
  sampleValue(s, metric, { websocket_server_name: name, ...extra });
const closed = (s: Sample[], name: string, cls: string) =>
  v(s, 'websocket_server_connections_closed_total', name, { websocket_close_class: cls });
const messages = (s: Sample[], name: string, direction: string) =>
  v(s, 'websocket_server_messages_total', name, { websocket_message_direction: direction });
const bytes = (s: Sample[], name: string, direction: string) =>
  v(s, 'websocket_server_io_bytes_total', name, { websocket_message_direction: direction });

const toClose: { close(): unknown }[] = [];

/** The next `event` of a socket.io client (not a Node EventEmitter, so not events.once). */
const ioEvent = (c: IoClientSocket, event: string) => new Promise<void>((resolve) => c.once(event, () => resolve()));

/** Resolves on the socket's close (events.once would reject on an earlier 'error'). */
const closeOf = (ws: WebSocket) => new Promise<void>((resolve) => ws.on('close', () => resolve()));

/** A ws server on a free loopback port that echoes every message and reports its sockets' closes. */
async function echoServer(options: { maxPayload?: number } = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
  toClose.push(wss);
  await once(wss, 'listening');
  const serverCloses: Promise<unknown>[] = [];
  wss.on('connection', (ws) => {
    serverCloses.push(closeOf(ws));
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  const port = (wss.address() as AddressInfo).port;
  return { wss, url: `ws://127.0.0.1:${port}`, serverCloses };
}

async function connect(address: string): Promise<WebSocket> {
  const ws = new WebSocket(address);
  ws.on('error', () => {});
  await once(ws, 'open');
  return ws;
}

/** Sends `data` and waits for its echo. */
async function roundTrip(ws: WebSocket, data: string | Buffer): Promise<void> {
  const echoed = once(ws, 'message');
  ws.send(data);
  await echoed;
}

// Created and instrumented before register(): reports once otelkit is registered.
const early = new WebSocketServer({ noServer: true });
instrumentWebSocketServer(early, { name: 'early' });

beforeAll(async () => {
  otel = register({ prometheus: { host: '127.0.0.1', port: 0 }, instrumentations: [], serviceName: 'ws-test' });
  url = (await otel.ready)!.url;
});
afterAll(async () => {
  for (const s of toClose.splice(0)) s.close();
  await otel.shutdown();
});

describe('instrumentWebSocketServer (ws)', () => {
  it('counts connections, closes by class, messages and bytes exactly', async () => {
    const { wss, url: address, serverCloses } = await echoServer();
    instrumentWebSocketServer(wss, { name: 'echo' });
    const a = await connect(address);
    const b = await connect(address);
    const c = await connect(address);
    const d = await connect(address);
    expect(v(await read(), 'websocket_server_active_connections', 'echo')).toBe(4);
    await roundTrip(a, 'hello'); // 5 bytes each way
    await roundTrip(a, 'héllo'); // 6 bytes (UTF-8) each way
    await roundTrip(b, Buffer.alloc(100)); // 100 bytes each way
    a.close(1000);
    b.close(1001);
    c.close(4000, 'app says no');
    d.terminate(); // no close frame: 1006 on the server
    await Promise.all(serverCloses);
    const s = await read();
    expect(v(s, 'websocket_server_connections_opened_total', 'echo')).toBe(4);
    expect(v(s, 'websocket_server_active_connections', 'echo')).toBe(0);
    expect(closed(s, 'echo', 'normal')).toBe(1);
    expect(closed(s, 'echo', 'going_away')).toBe(1);
    expect(closed(s, 'echo', 'error')).toBe(1);
    expect(closed(s, 'echo', 'abnormal')).toBe(1);
    expect(messages(s, 'echo', 'received')).toBe(3);
    expect(messages(s, 'echo', 'sent')).toBe(3);
    expect(bytes(s, 'echo', 'received')).toBe(111);
    expect(bytes(s, 'echo', 'sent')).toBe(111);
    expect(v(s, 'websocket_server_errors_total', 'echo')).toBe(0);
    expect(v(s, 'websocket_server_connection_duration_seconds_count', 'echo')).toBe(4);
    expect(webSocketSnapshot().find((w) => w.name === 'echo')).toEqual({
      name: 'echo',
      activeConnections: 0,
      connectionsOpened: 4,
      connectionsClosed: { normal: 1, going_away: 1, error: 1, abnormal: 1 },
      messagesReceived: 3,
      messagesSent: 3,
      bytesReceived: 111,
      bytesSent: 111,
      errors: 0,
    });
  });

  it('connection durations lie within the span the test measured', async () => {
    const { wss, url: address, serverCloses } = await echoServer();
    instrumentWebSocketServer(wss, { name: 'durations' });
    const start = performance.now();
    const ws = await connect(address);
    await roundTrip(ws, 'x');
    ws.close();
    await Promise.all(serverCloses);
    const span = (performance.now() - start) / 1000;
    const s = await read();
    expect(v(s, 'websocket_server_connection_duration_seconds_count', 'durations')).toBe(1);
    const sum = v(s, 'websocket_server_connection_duration_seconds_sum', 'durations');
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThanOrEqual(span);
  });

  it('counts a protocol error (payload over maxPayload) as an error and its 1009 close as class error', async () => {
    const { wss, url: address, serverCloses } = await echoServer({ maxPayload: 10 });
    instrumentWebSocketServer(wss, { name: 'strict' });
    const ws = await connect(address);
    ws.send('x'.repeat(50));
    await Promise.all(serverCloses);
    const s = await read();
    expect(v(s, 'websocket_server_errors_total', 'strict')).toBe(1);
    expect(closed(s, 'strict', 'error')).toBe(1);
    expect(messages(s, 'strict', 'received')).toBe(0);
  });

  it('noServer: the app handles upgrade and calls handleUpgrade (server created before register())', async () => {
    const serverCloses: Promise<unknown>[] = [];
    early.on('connection', (ws) => {
      serverCloses.push(closeOf(ws));
      ws.on('message', (data) => ws.send(`${data}!`));
    });
    const http: Server = createServer((_req, res) => res.end('plain http'));
    http.on('upgrade', (req, socket, head) => {
      if (req.url !== '/ws') return void socket.destroy();
      early.handleUpgrade(req, socket, head, (ws) => early.emit('connection', ws, req));
    });
    toClose.push(http);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as AddressInfo).port;
    const ws = await connect(`ws://127.0.0.1:${port}/ws`);
    const reply = once(ws, 'message');
    ws.send('ping');
    expect(String((await reply)[0])).toBe('ping!');
    ws.close();
    await Promise.all(serverCloses);
    const s = await read();
    expect(v(s, 'websocket_server_connections_opened_total', 'early')).toBe(1);
    expect(closed(s, 'early', 'normal')).toBe(1);
    expect(messages(s, 'early', 'received')).toBe(1);
    expect(bytes(s, 'early', 'received')).toBe(4);
    expect(bytes(s, 'early', 'sent')).toBe(5);
  });

  it('adopts connections open when instrumented; dispose() stops counting; re-instrumenting continues', async () => {
    const { wss, url: address, serverCloses } = await echoServer();
    const ws = await connect(address);
    await roundTrip(ws, 'before'); // not counted: not instrumented yet
    const first = instrumentWebSocketServer(wss, { name: 'late' });
    expect(instrumentWebSocketServer(wss, { name: 'late' })).toBe(first); // once, not twice
    await roundTrip(ws, 'during');
    let s = await read();
    expect(v(s, 'websocket_server_active_connections', 'late')).toBe(1);
    expect(v(s, 'websocket_server_connections_opened_total', 'late')).toBe(0);
    expect(messages(s, 'late', 'received')).toBe(1);
    first.dispose();
    await roundTrip(ws, 'after dispose');
    const again = instrumentWebSocketServer(wss, { name: 'late' });
    await roundTrip(ws, 'again');
    ws.close();
    await Promise.all(serverCloses);
    s = await read();
    expect(messages(s, 'late', 'received')).toBe(2);
    expect(messages(s, 'late', 'sent')).toBe(2);
    expect(v(s, 'websocket_server_active_connections', 'late')).toBe(0);
    expect(closed(s, 'late', 'normal')).toBe(1);
    // Adopted connections have no known start: no duration recorded.
    expect(
      findSamples(s, 'websocket_server_connection_duration_seconds_count', { websocket_server_name: 'late' }),
    ).toEqual([]);
    again.dispose();
  });

  it('is a no-op for non-servers, bad names and when otelkit is disabled, never a throw', () => {
    expect(instrumentWebSocketServer({}, { name: 'nothing' })).toBe(noopInstrumentation);
    expect(instrumentWebSocketServer(null as never, { name: 'nothing' })).toBe(noopInstrumentation);
    const wss = new WebSocketServer({ noServer: true });
    expect(instrumentWebSocketServer(wss, { name: '' })).toBe(noopInstrumentation);
    const state = otelkitState();
    state.disabled = true;
    try {
      expect(instrumentWebSocketServer(wss, { name: 'off' })).toBe(noopInstrumentation);
      expect(Object.hasOwn(wss, 'handleUpgrade')).toBe(false);
    } finally {
      state.disabled = false;
    }
  });
});

describe('instrumentWebSocketServer (socket.io)', () => {
  it('counts engine.io connections, event messages and their encoded bytes', async () => {
    const http = createServer();
    const io = new SocketIoServer(http, { transports: ['websocket'] });
    instrumentWebSocketServer(io, { name: 'sio' });
    toClose.push(io);
    const disconnects: Promise<unknown>[] = [];
    io.on('connection', (socket) => {
      disconnects.push(once(socket.conn, 'close')); // the engine.io connection, after socket.io's disconnect
      socket.on('echo', (msg: string, ack: (m: string) => void) => ack(msg));
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const address = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const clients: IoClientSocket[] = [];
    for (let n = 0; n < 2; n++) {
      const c = ioClient(address, { transports: ['websocket'], reconnection: false });
      clients.push(c);
      await ioEvent(c, 'connect');
    }
    expect(v(await read(), 'websocket_server_active_connections', 'sio')).toBe(2);
    // Each client: one event with an ack (a message each way), then a broadcast to both.
    for (const c of clients) expect(await c.emitWithAck('echo', 'hi')).toBe('hi');
    const got = clients.map((c) => ioEvent(c, 'news'));
    io.emit('news', 'flash');
    await Promise.all(got);
    for (const c of clients) c.disconnect();
    await Promise.all(disconnects);
    const s = await read();
    expect(v(s, 'websocket_server_connections_opened_total', 'sio')).toBe(2);
    expect(v(s, 'websocket_server_active_connections', 'sio')).toBe(0);
    expect(closed(s, 'sio', 'normal')).toBe(2);
    expect(messages(s, 'sio', 'received')).toBe(2 /* CONNECT */ + 2 /* echo */ + 2 /* DISCONNECT */);
    expect(messages(s, 'sio', 'sent')).toBe(2 /* CONNECT */ + 2 /* ack */ + 2 /* news */);
    // Encoded socket.io packets from each client: CONNECT '0', '20["echo","hi"]' (ack id 0), DISCONNECT '1'.
    expect(bytes(s, 'sio', 'received')).toBe(2 * (1 + 15 + 1));
    // To each: CONNECT '0{"sid":"<20 chars>"}' (31), the ack '30["hi"]' (8), '2["news","flash"]' (17).
    expect(bytes(s, 'sio', 'sent')).toBe(2 * (31 + 8 + 17));
  });

  it('a server instrumented before it is attached to an HTTP server (attach() later)', async () => {
    const io = new SocketIoServer({ transports: ['websocket'] });
    instrumentWebSocketServer(io, { name: 'sio-later' });
    toClose.push(io);
    const http = createServer();
    io.attach(http);
    const closes: Promise<unknown>[] = [];
    io.on('connection', (socket) => closes.push(once(socket.conn, 'close')));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const c = ioClient(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, {
      transports: ['websocket'],
      reconnection: false,
    });
    await ioEvent(c, 'connect');
    expect(v(await read(), 'websocket_server_active_connections', 'sio-later')).toBe(1);
    io.disconnectSockets(true); // the server closes the connection: engine.io's 'forced close'
    await Promise.all(closes);
    const s = await read();
    expect(v(s, 'websocket_server_connections_opened_total', 'sio-later')).toBe(1);
    expect(closed(s, 'sio-later', 'normal')).toBe(1);
    expect(v(s, 'websocket_server_connection_duration_seconds_count', 'sio-later')).toBe(1);
  });
});

describe('scrape', () => {
  it('is promtool-clean', async () => {
    const result = await promtoolCheckMetrics(await scrape(url));
    expect(result.problems).toEqual([]);
  });
});
