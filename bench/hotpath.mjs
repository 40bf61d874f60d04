// Hot-path cost of the cache / rate-limiter / circuit-breaker / WebSocket / session instrumentations,
// timed tasks and business events, side by side in one process with the references they
// are judged against:
//   floor      a Map<string, number> increment
//   prom-client labelled Counter.inc (2 labels), labelled Histogram.observe (1 label),
//              startTimer() + end() (1 label)
//   OTel       Counter.add (2 attributes), Histogram.record
// Counting targets: <= 2x the floor. Durations (breaker call, limiter wait, which
// otelkit aggregates in place and exports through a MetricProducer): <= prom-client's
// labelled observe. A timed() call's accounting: <= 0.5x prom-client's startTimer() +
// end(). track() with 2 attributes: <= prom-client's labelled inc; a bound event's
// record(): <= 50 ns. The OTel rows show what the plain API costs.
// An instrumentation's cost is (instrumented operation - the same bare operation),
// measured per round. Every case runs once per round, in a rotating order
// (interleaved); the table shows the median over ROUNDS rounds and the min..max.
// Usage: npm run bench:hotpath   (builds with tsup, then runs this file)
import { EventEmitter } from 'node:events';
import { LRUCache } from 'lru-cache';
import client from 'prom-client';
import { metrics } from '@opentelemetry/api';
import {
  register,
  instrumentCache,
  lruCacheDispose,
  instrumentCircuitBreaker,
  instrumentRateLimiter,
  timed,
  track,
  events,
  instrumentWebSocketServer,
  instrumentSessionStore,
  trackSessions,
} from '../dist/index.js';
import { median } from './shared.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const TARGET_MS = Number(process.env.BENCH_CASE_MS ?? 12);

const otel = register({
  prometheus: { host: '127.0.0.1', port: 0 },
  instrumentations: [],
  serviceName: 'bench-hotpath',
  events: {
    metrics: {
      'bench.order': { metric: 'bench.orders', unit: '{order}', attributes: ['market', 'side'] },
      'bench.off': { metric: 'bench.off' },
    },
  },
});
events.disable('bench.off');
await otel.ready;
const meter = metrics.getMeter('bench');

let sink = 0;
const KEYS = Array.from({ length: 1024 }, (_, i) => `key-${i}`);
const MISS_KEYS = KEYS.map((k) => `${k}-absent`);

// ---- references ------------------------------------------------------------
const floorMap = new Map([['users|hit', 0]]);
const promCounter = new client.Counter({ name: 'bench_cache_gets', help: 'h', labelNames: ['cache', 'result'] });
const promHistogram = new client.Histogram({
  name: 'bench_wait_seconds',
  help: 'h',
  labelNames: ['limiter'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
});
const otelCounter = meter.createCounter('bench.counter');
const otelHistogram = meter.createHistogram('bench.histogram', { unit: 's' });
const attrs2 = { 'cache.name': 'users', 'cache.result': 'hit' };
const attrs1 = Object.freeze({ 'rate_limiter.name': 'api' });

// ---- instrumented targets and their bare twins ----------------------------
const bareMap = new Map(KEYS.map((k, i) => [k, i]));
const instMap = new Map(KEYS.map((k, i) => [k, i]));
instrumentCache(instMap, { name: 'bench-map' });

const bareLru = new LRUCache({ max: 2048 });
const instLru = new LRUCache({ max: 2048 });
for (const [i, k] of KEYS.entries()) {
  bareLru.set(k, i);
  instLru.set(k, i);
}
instrumentCache(instLru, { name: 'bench-lru' });

// Every set evicts: both caches have a dispose function; only one reports.
const bareEvicting = new LRUCache({ max: 64, dispose() {} });
const instEvicting = new LRUCache({ max: 64, dispose: lruCacheDispose() });
instrumentCache(instEvicting, { name: 'bench-evicting' });

// opossum reports through events; an EventEmitter shaped like opossum stands in for
// it so the measurement is the dispatch to our listener, not opossum's own work.
const fakeOpossum = () => Object.assign(new EventEmitter(), { fire() {}, opened: false, halfOpen: false });
const bareBreaker = fakeOpossum();
const instBreaker = fakeOpossum();
instrumentCircuitBreaker(instBreaker, { name: 'bench-breaker', kind: 'opossum' });

// A synchronous try-acquire limiter: the wrapper times the call and records the wait.
const bareLimiter = { acquire: () => true };
const instLimiter = { acquire: () => true };
instrumentRateLimiter(instLimiter, { name: 'bench-limiter', method: 'acquire' });

// A timed task around a trivial function, and its bare twin.
const bareTask = (x) => x + 1;
const timedTask = timed('bench.task', (x) => x + 1);

// Business events: track() with 2 allowlisted attributes (the event also carries one
// that is dropped), a bound event, and a switched-off event.
const orderAttrs = { market: 'eu', side: 'buy', 'user.id': 'u-1' };
const boundOrder = events.bind('bench.order', { market: 'eu', side: 'buy' });

// WebSocket: what the instrumentation adds per message, without the network (which would drown it):
// sockets as ws hands them to the upgrade callback (an EventEmitter with send and readyState),
// and engine.io connections emitting their packets, each with the app's own listener.
const fakeWsServer = () => {
  const server = new EventEmitter();
  server.completeUpgrade = () => {};
  server.handleUpgrade = (_req, _sock, _head, cb) => {
    const ws = Object.assign(new EventEmitter(), { readyState: 1, send() {} });
    ws.on('message', () => {});
    cb(ws);
  };
  return server;
};
const wsSocket = (server) => {
  let socket;
  server.handleUpgrade(undefined, undefined, undefined, (ws) => (socket = ws));
  return socket;
};
const instWss = fakeWsServer();
instrumentWebSocketServer(instWss, { name: 'bench' });
const bareWs = wsSocket(fakeWsServer());
const instWs = wsSocket(instWss);
const WS_DATA = Buffer.alloc(64);
const WS_TEXT = 'hello, websocket';
const fakeIo = () => {
  const engine = new EventEmitter();
  engine.clients = {};
  return Object.assign(new EventEmitter(), { of() {}, bind() {}, sockets: {}, engine });
};
// socket.io itself listens to 'data', not 'packet': the instrumentation's listener is the only one.
const engineConn = () => new EventEmitter();
const instIo = fakeIo();
instrumentWebSocketServer(instIo, { name: 'bench-io' });
const bareConn = engineConn();
const instConn = engineConn();
instIo.engine.emit('connection', instConn);
const PACKET = { type: 'message', data: '2["chat","hello"]' };

// Sessions: a store's touch (express-session calls it on every request of an unmodified session),
// and the generic tracker's refreshed().
const fakeStore = () => ({ get() {}, set() {}, destroy() {}, touch: (_sid, _sess, cb) => cb() });
const bareStore = fakeStore();
const instStore = fakeStore();
instrumentSessionStore(instStore, { name: 'bench' });
const SESS = { cookie: {} };
const noopCb = () => {};
const tracker = trackSessions({ name: 'bench' });

// ---- cases: each its own function so call sites stay monomorphic ------------
const cases = {
  'map.inc': (n) => {
    for (let i = 0; i < n; i++) floorMap.set('users|hit', floorMap.get('users|hit') + 1);
  },
  'prom.inc': (n) => {
    for (let i = 0; i < n; i++) promCounter.inc({ cache: 'users', result: 'hit' });
  },
  'otel.add': (n) => {
    for (let i = 0; i < n; i++) otelCounter.add(1, attrs2);
  },
  'prom.observe': (n) => {
    for (let i = 0; i < n; i++) promHistogram.observe({ limiter: 'api' }, (i & 1023) / 4096);
  },
  'prom.timer': (n) => {
    for (let i = 0; i < n; i++) promHistogram.startTimer({ limiter: 'api' })();
  },
  'otel.record.1attr': (n) => {
    for (let i = 0; i < n; i++) otelHistogram.record((i & 1023) / 4096, attrs1);
  },
  'otel.record.2attr': (n) => {
    for (let i = 0; i < n; i++) otelHistogram.record((i & 1023) / 4096, attrs2);
  },
  'map.get hit bare': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += bareMap.get(KEYS[i & 1023]);
    sink += s;
  },
  'map.get hit inst': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += instMap.get(KEYS[i & 1023]);
    sink += s;
  },
  'map.set bare': (n) => {
    for (let i = 0; i < n; i++) bareMap.set(KEYS[i & 1023], i);
  },
  'map.set inst': (n) => {
    for (let i = 0; i < n; i++) instMap.set(KEYS[i & 1023], i);
  },
  'lru.get miss bare': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += bareLru.get(MISS_KEYS[i & 1023]) === undefined ? 1 : 0;
    sink += s;
  },
  'lru.get miss inst': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += instLru.get(MISS_KEYS[i & 1023]) === undefined ? 1 : 0;
    sink += s;
  },
  'lru.set evict bare': (n) => {
    for (let i = 0; i < n; i++) bareEvicting.set(KEYS[i & 1023], i);
  },
  'lru.set evict inst': (n) => {
    for (let i = 0; i < n; i++) instEvicting.set(KEYS[i & 1023], i);
  },
  'breaker.reject bare': (n) => {
    for (let i = 0; i < n; i++) bareBreaker.emit('reject', undefined);
  },
  'breaker.reject inst': (n) => {
    for (let i = 0; i < n; i++) instBreaker.emit('reject', undefined);
  },
  'breaker.success bare': (n) => {
    for (let i = 0; i < n; i++) bareBreaker.emit('success', i, i & 63);
  },
  'breaker.success inst': (n) => {
    for (let i = 0; i < n; i++) instBreaker.emit('success', i, i & 63);
  },
  'limiter.acquire bare': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += bareLimiter.acquire() ? 1 : 0;
    sink += s;
  },
  'limiter.acquire inst': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += instLimiter.acquire() ? 1 : 0;
    sink += s;
  },
  'task bare': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += bareTask(i);
    sink += s;
  },
  'task inst': (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += timedTask(i);
    sink += s;
  },
  'events.track': (n) => {
    for (let i = 0; i < n; i++) track('bench.order', orderAttrs);
  },
  'events.bound': (n) => {
    for (let i = 0; i < n; i++) boundOrder.record();
  },
  'events.off': (n) => {
    for (let i = 0; i < n; i++) track('bench.off', orderAttrs);
  },
  'ws.recv bare': (n) => {
    for (let i = 0; i < n; i++) bareWs.emit('message', WS_DATA, true);
  },
  'ws.recv inst': (n) => {
    for (let i = 0; i < n; i++) instWs.emit('message', WS_DATA, true);
  },
  'ws.send bare': (n) => {
    for (let i = 0; i < n; i++) bareWs.send(WS_TEXT);
  },
  'ws.send inst': (n) => {
    for (let i = 0; i < n; i++) instWs.send(WS_TEXT);
  },
  'sio.packet bare': (n) => {
    for (let i = 0; i < n; i++) bareConn.emit('packet', PACKET);
  },
  'sio.packet inst': (n) => {
    for (let i = 0; i < n; i++) instConn.emit('packet', PACKET);
  },
  'session.touch bare': (n) => {
    for (let i = 0; i < n; i++) bareStore.touch('sid', SESS, noopCb);
  },
  'session.touch inst': (n) => {
    for (let i = 0; i < n; i++) instStore.touch('sid', SESS, noopCb);
  },
  'session.refreshed': (n) => {
    for (let i = 0; i < n; i++) tracker.refreshed('activity');
  },
};

function time(fn, n) {
  const t0 = process.hrtime.bigint();
  fn(n);
  return Number(process.hrtime.bigint() - t0) / n;
}

// Calibrate: ops per case so one run takes ~TARGET_MS (after a warm-up).
const names = Object.keys(cases);
const ops = {};
for (const name of names) {
  cases[name](20_000);
  const ns = time(cases[name], 50_000);
  ops[name] = Math.max(10_000, Math.round((TARGET_MS * 1e6) / Math.max(ns, 1)));
}

const samples = Object.fromEntries(names.map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++) {
  const order = names.map((_, i) => names[(i + round * 7) % names.length]);
  for (const name of order) samples[name].push(time(cases[name], ops[name]));
  // A collection between rounds, as a scrape would do.
  await fetch(otel.prometheusAddress.url).then((r) => r.text());
}

const stat = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const ref = (name) => stat(samples[name]);
const overhead = (base) => stat(samples[`${base} inst`].map((v, i) => v - samples[`${base} bare`][i]));

const floor = ref('map.inc').median;
const promInc = ref('prom.inc').median;
const otelAdd = ref('otel.add').median;
const promObserve = ref('prom.observe').median;
const promTimer = ref('prom.timer').median;

const rows = [];
const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1));
const TARGETS = {
  count: { limit: () => 2 * floor, text: '<= 2x Map inc' },
  duration: { limit: () => promObserve, text: '<= prom observe' },
  timer: { limit: () => 0.5 * promTimer, text: '<= 0.5x prom timer' },
  track: { limit: () => promInc, text: '<= prom inc' },
  bound: { limit: () => 50, text: '<= 50 ns' },
};
function row(label, s, kind) {
  const limit = kind ? TARGETS[kind].limit() : undefined;
  rows.push({
    operation: label,
    'ns/op median': fmt(s.median),
    'min..max': `${fmt(s.min)}..${fmt(s.max)}`,
    'x Map inc': (s.median / floor).toFixed(2),
    'x prom inc': (s.median / promInc).toFixed(3),
    'x OTel add': (s.median / otelAdd).toFixed(3),
    'x prom observe': (s.median / promObserve).toFixed(2),
    'x prom timer': (s.median / promTimer).toFixed(3),
    target: kind ? TARGETS[kind].text : 'reference',
    ok: limit === undefined ? '' : s.median <= limit ? 'yes' : 'NO',
  });
}
row('Map increment (floor)', ref('map.inc'));
row('prom-client labelled inc (2 labels)', ref('prom.inc'));
row('OTel counter.add (2 attributes)', ref('otel.add'));
row('prom-client labelled observe (1 label)', ref('prom.observe'));
row('prom-client labelled startTimer()+end', ref('prom.timer'));
row('OTel histogram.record (1 attribute, pre-built)', ref('otel.record.1attr'));
row('OTel histogram.record (2 attributes, pre-built)', ref('otel.record.2attr'));
row('cache hit accounting (Map get)', overhead('map.get hit'), 'count');
row('cache put accounting (Map set)', overhead('map.set'), 'count');
row('cache miss accounting (lru-cache get)', overhead('lru.get miss'), 'count');
row('cache eviction accounting (lru-cache set + dispose hook)', overhead('lru.set evict'), 'count');
row('breaker rejection accounting (opossum reject event)', overhead('breaker.reject'), 'count');
row('breaker call: count + duration (opossum success event)', overhead('breaker.success'), 'duration');
row('limiter acquisition: count + wait timing + record', overhead('limiter.acquire'), 'duration');
row('timed() call accounting (sync function)', overhead('task'), 'timer');
row('track() with 2 attributes (counter)', ref('events.track'), 'track');
row('bound event record() (counter)', ref('events.bound'), 'bound');
row('track() of a switched-off event', ref('events.off'));
row('ws message received (64-byte Buffer): count + bytes', overhead('ws.recv'), 'count');
row('ws message sent (16-char string): count + UTF-8 bytes', overhead('ws.send'), 'count');
row('socket.io message received (engine.io packet listener)', overhead('sio.packet'), 'count');
row('session store touch (wrapped touch + callback)', overhead('session.touch'), 'count');
row('sessions.refreshed(reason) (whole call)', ref('session.refreshed'), 'count');

console.log(`\nHot path, Node ${process.version}, ${ROUNDS} interleaved rounds, median (min..max) ns per operation`);
console.table(rows);
if (process.env.BENCH_MARKDOWN) {
  const cols = Object.keys(rows[0]);
  console.log(`| ${cols.join(' | ')} |\n|${cols.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${cols.map((c) => r[c]).join(' | ')} |`);
}
if (sink === 42) console.log('');
await otel.shutdown();
const failed = rows.filter((r) => r.ok === 'NO');
if (failed.length) console.log(`\nover target: ${failed.map((r) => r.operation).join('; ')}`);
