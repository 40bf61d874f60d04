// The Prometheus names the dashboards and rules use (assets/prometheus-names.ts,
// derived from instrumentations/metric-names.ts) are exactly the families a real
// scrape shows, with the Prometheus type each name implies: every instrument
// constant is in the scrape, and every otelkit family in the scrape has a constant.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import CircuitBreaker from 'opossum';
import { WebSocket, WebSocketServer } from 'ws';
import { MemoryStore } from 'express-session';
import { LRUCache } from 'lru-cache';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  instrumentCache,
  instrumentCircuitBreaker,
  instrumentQueue,
  instrumentRateLimiter,
  instrumentSessionStore,
  instrumentWebSocketServer,
  lruCacheDispose,
  register,
  timed,
  trackSessions,
  type OtelkitHandle,
} from '../../index.js';
import { METRIC_FAMILIES, type InstrumentName } from '../../instrumentations/metric-names.js';
import { prometheusName } from '../../assets/prometheus-names.js';
import { scrape } from '../helpers/prom-text.js';

const instruments: InstrumentName[] = Object.values(METRIC_FAMILIES).flatMap((family) => Object.values(family));
const expectedType = (i: InstrumentName) =>
  i.kind === 'counter' ? 'counter' : i.kind === 'histogram' ? 'histogram' : 'gauge';

let otel: OtelkitHandle;
let server: Server;
let breaker: CircuitBreaker;

beforeAll(async () => {
  otel = register({
    prometheus: { host: '127.0.0.1', port: 0 },
    serviceName: 'metric-names-test',
    http: { bodySizes: true },
  });
  await otel.ready;
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-length': '2' }).end('ok'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  breaker?.shutdown();
  await new Promise<void>((r) => server.close(() => r()));
  await otel.shutdown();
});

describe('Prometheus names derived from the instrument constants', () => {
  it('are the families a scrape shows, with their types', { timeout: 30_000 }, async () => {
    const cache = new LRUCache<string, number>({ max: 1, dispose: lruCacheDispose() });
    instrumentCache(cache, { name: 'names' });
    cache.set('a', 1);
    cache.set('b', 2); // an eviction
    cache.get('a');
    instrumentRateLimiter(
      { acquire: async () => true },
      { name: 'names', availablePermits: 3, queueLength: 0 },
    ).limiter.acquire();
    breaker = new CircuitBreaker(async () => 'ok');
    instrumentCircuitBreaker(breaker, { name: 'names' });
    await breaker.fire();
    breaker.open(); // a transition
    const jobs = instrumentQueue({ name: 'names', size: 1 });
    jobs.jobStarted(0.01); // a wait
    await jobs.wrap(async () => 'done')(); // a consumed message, an attempt and its duration
    timed('names.task', () => 1)(); // a task run, its duration and its last success
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    await (await fetch(url, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } })).text();
    // A WebSocket connection with a message each way, closed (for the connection duration).
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    instrumentWebSocketServer(wss, { name: 'names' });
    await new Promise((r) => wss.once('listening', r));
    const serverClosed = new Promise((r) =>
      wss.once('connection', (s) => s.on('message', (d) => s.send(d)).on('close', r)),
    );
    const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    await new Promise((r) => ws.once('open', r));
    const echoed = new Promise((r) => ws.once('message', r));
    ws.send('hi');
    await echoed;
    ws.close();
    await serverClosed;
    wss.close();
    const logins = trackSessions({ name: 'names' });
    logins.started('s');
    logins.refreshed('activity');
    logins.ended('logout', 's');
    const store = new MemoryStore(); // session.store.errors comes from stores only
    instrumentSessionStore(store, { name: 'names-store' });
    store.set('sid', { cookie: { originalMaxAge: null } } as never);
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)(); // a GC, for v8js.gc.duration

    const wanted = new Map(instruments.map((i) => [prometheusName(i), expectedType(i)]));
    const deadline = Date.now() + 20_000;
    let types = new Map<string, string>();
    // The event-loop delay gauges appear once the monitor has a few samples; poll, bounded.
    while (Date.now() < deadline) {
      const text = await scrape((await otel.ready)!.url);
      types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
      if ([...wanted.keys()].every((name) => types.has(name))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    types.delete('target_info');
    expect(Object.fromEntries([...types].sort())).toEqual(Object.fromEntries([...wanted].sort()));
  });

  it('follow the exporter rules: units, _total, _ratio', () => {
    const byName = (name: string) => prometheusName(instruments.find((i) => i.name === name)!);
    expect(byName('http.server.request.duration')).toBe('http_server_request_duration_seconds');
    expect(byName('http.server.active_requests')).toBe('http_server_active_requests');
    expect(byName('nodejs.eventloop.time')).toBe('nodejs_eventloop_time_seconds_total');
    expect(byName('nodejs.eventloop.utilization')).toBe('nodejs_eventloop_utilization_ratio');
    expect(byName('process.memory.usage')).toBe('process_memory_usage_bytes');
    expect(byName('cache.gets')).toBe('cache_gets_total');
    expect(byName('cache.hit_ratio')).toBe('cache_hit_ratio');
    expect(byName('circuit_breaker.state')).toBe('circuit_breaker_state');
    expect(byName('websocket.server.io')).toBe('websocket_server_io_bytes_total');
    expect(byName('websocket.server.active_connections')).toBe('websocket_server_active_connections');
    expect(byName('session.duration')).toBe('session_duration_seconds');
  });
});
