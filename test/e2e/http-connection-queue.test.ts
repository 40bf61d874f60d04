// The HTTP server instrumentation keeps, per connection, a queue of the requests in
// flight (start time + method/scheme/protocol key) and pairs each finished response
// with the oldest entry. These tests drive that queue with real sockets on 127.0.0.1:
// HTTP/1.1 pipelining (more than two requests in flight, an excluded path among
// them), aborts (with the route of the request being answered), and switching the
// instrumentation off and on while a request is in flight.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register, setHttpRoute, instrumentHttpServer, type Instrumentation, type OtelkitHandle } from '../../index.js';
import { scrape } from '../helpers/prom-text.js';
import { labelKey as k, seriesOf } from '../fixtures/http-harness.js';

let otel: OtelkitHandle;
let metricsUrl: string;
let server: Server;
let port: number;
let instrumentation: Instrumentation;
/** Requests held open by the test: path -> its response. */
const held = new Map<string, ServerResponse>();
const arrivals: string[] = [];
let arrived: (() => void) | undefined;

beforeAll(async () => {
  otel = register({
    prometheus: { host: '127.0.0.1', port: 0 },
    instrumentations: [],
    http: { excludePaths: ['/skip'] },
    serviceName: 'http-queue',
  });
  metricsUrl = (await otel.ready)!.url;
  instrumentation = instrumentHttpServer();
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '';
    // /empty-route sets an empty route, /unrouted none; every other path is its own template here
    if (path === '/empty-route') setHttpRoute(req, '');
    else if (path !== '/unrouted') setHttpRoute(req, path.replace(/\?.*/, ''));
    arrivals.push(path);
    arrived?.();
    if (path.startsWith('/hold')) {
      held.set(path, res);
      return;
    }
    if (path === '/slow') return void setTimeout(() => res.end('slow'), 60);
    if (path.startsWith('/listeners')) return void res.end(`listeners=${req.socket.listenerCount('close')};`);
    const code = /[?&]code=(\d+)/.exec(path);
    if (code) res.statusCode = Number(code[1]);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await otel.shutdown();
});

const GET = { http_request_method: 'GET', network_protocol_version: '1.1', url_scheme: 'http' };
const counts = async () => seriesOf(await scrape(metricsUrl), 'http_server_request_duration_seconds_count');
const sums = async () => seriesOf(await scrape(metricsUrl), 'http_server_request_duration_seconds_sum');
const active = async () =>
  seriesOf(await scrape(metricsUrl), 'http_server_active_requests')[
    k({ http_request_method: 'GET', url_scheme: 'http' })
  ] ?? 0;
const ok = (route: string) => k({ ...GET, http_response_status_code: '200', http_route: route });
const aborted = (route?: string) => k({ ...GET, error_type: 'aborted', ...(route ? { http_route: route } : {}) });

/** Opens a raw connection and writes `paths` as pipelined GETs in one write. */
function pipeline(paths: string[], last = 'keep-alive'): { socket: Socket; received: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  const text = paths
    .map(
      (p, i) => `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: ${i === paths.length - 1 ? last : 'keep-alive'}\r\n\r\n`,
    )
    .join('');
  socket.write(text);
  let received = '';
  socket.on('data', (d) => (received += d));
  socket.on('error', () => {});
  return { socket, received: new Promise((resolve) => socket.on('close', () => resolve(received))) };
}

/** A request held open by the server on a connection of its own. */
async function holding(path: string): Promise<{ socket: Socket; received: Promise<string> }> {
  const connection = pipeline([path]);
  await waitFor(() => held.has(path));
  return connection;
}

/** Switches the HTTP server instrumentation off and on again. */
function restart(): void {
  instrumentation.dispose();
  instrumentation = instrumentHttpServer();
}

async function waitFor(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(predicate()).toBe(true);
}

describe('HTTP server: per-connection request queue', () => {
  it('pipelined requests (five in flight, one excluded) each count once, under their own route, in order', async () => {
    const before = await counts();
    const beforeSums = await sums();
    const t0 = performance.now();
    const { received } = pipeline(['/slow', '/p1', '/skip', '/p2', '/p3'], 'close');
    const body = await received;
    const elapsed = (performance.now() - t0) / 1000;
    expect(body.match(/HTTP\/1\.1 200/g)).toHaveLength(5);
    const after = await counts();
    for (const route of ['/slow', '/p1', '/p2', '/p3'])
      expect((after[ok(route)] ?? 0) - (before[ok(route)] ?? 0)).toBe(1);
    expect(after[ok('/skip')]).toBeUndefined();
    // In seconds, and no longer than the client saw the whole exchange take (which catches a unit slip).
    const s = await sums();
    for (const route of ['/slow', '/p3']) {
      const seconds = s[ok(route)]! - (beforeSums[ok(route)] ?? 0);
      expect(seconds, route).toBeGreaterThan(0);
      expect(seconds, route).toBeLessThanOrEqual(elapsed);
    }
    // /p3's clock starts when Node parses it, which a busy machine may do in a later read than
    // /slow's: only /slow's own 60 ms are certain.
    expect(s[ok('/slow')]! - (beforeSums[ok('/slow')] ?? 0)).toBeGreaterThanOrEqual(0.05);
    expect(await active()).toBe(0);
  });

  it('one connection, one route, statuses and methods changing: each response lands in its own series', async () => {
    const before = await counts();
    const socket = connect(port, '127.0.0.1');
    const request = (method: string, code: number, last = false) =>
      `${method} /status?code=${code} HTTP/1.1\r\nHost: x\r\nConnection: ${last ? 'close' : 'keep-alive'}\r\n\r\n`;
    socket.write(
      request('GET', 200) +
        request('GET', 404) +
        request('GET', 200) +
        request('POST', 200) +
        request('GET', 404) +
        request('GET', 200, true),
    );
    socket.resume();
    await new Promise((resolve) => socket.on('close', resolve));
    const after = await counts();
    const series = (method: string, code: string) =>
      k({ ...GET, http_request_method: method, http_response_status_code: code, http_route: '/status' });
    const added = (key: string) => (after[key] ?? 0) - (before[key] ?? 0);
    expect(added(series('GET', '200'))).toBe(3);
    expect(added(series('GET', '404'))).toBe(2);
    expect(added(series('POST', '200'))).toBe(1);
  });

  it('connection closed mid-request: request being answered aborted with its route; one queued has none', async () => {
    const before = await counts();
    const arrivedBoth = new Promise<void>(
      (resolve) => (arrived = () => arrivals.includes('/hold-a') && arrivals.includes('/hold-b') && resolve()),
    );
    const { socket } = pipeline(['/hold-a', '/hold-b']);
    await arrivedBoth;
    expect(await active()).toBe(2);
    socket.destroy();
    await waitFor(() => held.get('/hold-a')?.destroyed === true);
    await new Promise((r) => setTimeout(r, 50));
    const after = await counts();
    expect((after[aborted('/hold-a')] ?? 0) - (before[aborted('/hold-a')] ?? 0)).toBe(1);
    expect((after[aborted()] ?? 0) - (before[aborted()] ?? 0)).toBe(1);
    expect(after[aborted('/hold-b')]).toBeUndefined();
    expect(await active()).toBe(0);
  });

  it('connection closed mid-request, unseen by scrape/sweep: the next scrape records the abort and route', async () => {
    const before = await counts();
    const beforeSums = await sums();
    const t0 = performance.now();
    const { socket } = await holding('/hold-s');
    await new Promise((r) => setTimeout(r, 30));
    socket.destroy();
    await waitFor(() => held.get('/hold-s')?.destroyed === true);
    const after = await counts();
    const elapsed = (performance.now() - t0) / 1000; // the request began after t0 and was recorded by the scrape above
    expect((after[aborted('/hold-s')] ?? 0) - (before[aborted('/hold-s')] ?? 0)).toBe(1);
    const seconds = ((await sums())[aborted('/hold-s')] ?? 0) - (beforeSums[aborted('/hold-s')] ?? 0);
    expect(seconds).toBeGreaterThanOrEqual(0.025);
    expect(seconds).toBeLessThanOrEqual(elapsed);
    expect(await active()).toBe(0);
  });

  it("a connection whose requests finish between sweeps gets no close listener of otelkit's", async () => {
    // Node's own listeners on a server socket during a request, with the instrumentation off
    const listeners = async (socket: Socket, path: string) => {
      let text = '';
      const got = new Promise<void>((resolve) =>
        socket.on('data', (d) => (text += d) && text.includes(';') && resolve()),
      );
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await got;
      socket.removeAllListeners('data');
      return /listeners=(\d+);/.exec(text)![1];
    };
    instrumentation.dispose();
    const off = connect(port, '127.0.0.1');
    const baseline = await listeners(off, '/listeners-off');
    off.destroy();
    instrumentation = instrumentHttpServer();
    const on = connect(port, '127.0.0.1');
    expect(await listeners(on, '/listeners-1')).toBe(baseline);
    await counts(); // a collection sweeps: the connection has nothing in flight
    expect(await listeners(on, '/listeners-2')).toBe(baseline);
    on.destroy();
  });

  it('off and on with a request in flight, the next pipelined behind it: the unseen one keeps its place', async () => {
    const before = await counts();
    const { socket, received } = await holding('/hold-d');
    instrumentation.dispose();
    expect(await active()).toBe(0); // what was in flight is no longer followed
    instrumentation = instrumentHttpServer();
    socket.write('GET /after-d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await waitFor(() => arrivals.includes('/after-d'));
    expect(await active()).toBe(1);
    await new Promise((r) => setTimeout(r, 80));
    held.get('/hold-d')!.end('late');
    const body = await received;
    expect(body.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    const after = await counts();
    expect(after[ok('/hold-d')]).toBe(before[ok('/hold-d')]);
    expect((after[ok('/after-d')] ?? 0) - (before[ok('/after-d')] ?? 0)).toBe(1);
    // /after-d waited behind /hold-d for at least the 80 ms above, and no longer than the test
    const s = await sums();
    expect(s[ok('/after-d')]).toBeGreaterThanOrEqual(0.07);
    expect(await active()).toBe(0);
  });

  it('request in flight across off/on ends first: connection still followed (active count, abort found)', async () => {
    const before = await counts();
    const { socket } = await holding('/hold-f');
    let text = '';
    socket.on('data', (d) => (text += d));
    restart();
    held.get('/hold-f')!.end('done');
    await waitFor(() => text.includes('done'));
    socket.write('GET /hold-g HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await waitFor(() => held.has('/hold-g'));
    expect(await active()).toBe(1);
    socket.destroy();
    await waitFor(() => held.get('/hold-g')?.destroyed === true);
    const after = await counts();
    expect((after[aborted('/hold-g')] ?? 0) - (before[aborted('/hold-g')] ?? 0)).toBe(1);
    expect(after[ok('/hold-f')]).toBe(before[ok('/hold-f')]); // started before the restart: not recorded
    expect(await active()).toBe(0);
  });

  it('a request done while instrumentation was off is not recorded as aborted when its connection closes', async () => {
    const before = await counts();
    const { socket } = await holding('/hold-e');
    instrumentation.dispose();
    held.get('/hold-e')!.end('done');
    await new Promise((r) => setTimeout(r, 30));
    instrumentation = instrumentHttpServer();
    socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const after = await counts();
    expect(after[aborted()] ?? 0).toBe(before[aborted()] ?? 0);
    expect(after[aborted('/hold-e')]).toBeUndefined();
    expect(await active()).toBe(0);
  });

  it('HTTP/1.0 requests carry network.protocol.version 1.0', async () => {
    const before = await counts();
    const socket = connect(port, '127.0.0.1');
    socket.write('GET /old-client HTTP/1.0\r\nHost: x\r\n\r\n');
    socket.resume();
    await new Promise((resolve) => socket.on('close', resolve));
    const after = await counts();
    const key = k({
      ...GET,
      network_protocol_version: '1.0',
      http_response_status_code: '200',
      http_route: '/old-client',
    });
    expect((after[key] ?? 0) - (before[key] ?? 0)).toBe(1);
  });

  it('an empty route set by setHttpRoute counts in the same series as a request without a route', async () => {
    const before = await counts();
    const { received } = pipeline(['/unrouted', '/empty-route', '/unrouted'], 'close');
    expect((await received).match(/HTTP\/1\.1 200/g)).toHaveLength(3);
    const after = await counts();
    const key = k({ ...GET, http_response_status_code: '200' });
    expect((after[key] ?? 0) - (before[key] ?? 0)).toBe(3);
  });

  it('off and on with a request in flight: it is dropped, the next on its connection is paired correctly', async () => {
    const before = await counts();
    const { socket, received } = await holding('/hold-c');
    expect(await active()).toBe(1);
    restart();
    held.get('/hold-c')!.end('late');
    socket.write('GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const body = await received;
    expect(body.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    const after = await counts();
    expect(after[ok('/hold-c')]).toBe(before[ok('/hold-c')]); // finished while unseen: not recorded
    expect((after[ok('/after')] ?? 0) - (before[ok('/after')] ?? 0)).toBe(1);
    expect(await active()).toBe(0);
  });
});
