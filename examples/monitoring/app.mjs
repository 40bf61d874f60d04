// The example service behind examples/monitoring (and the test that checks every
// dashboard panel and recording rule against a real Prometheus): an Express app
// with a cache, a rate limiter and a circuit breaker around an outgoing HTTP call,
// job queues (a p-queue of thumbnails, a generic queue of emails, and with REDIS_PORT a
// BullMQ queue of receipts), a timed periodic task (refresh-prices), a WebSocket echo server
// (ws, on /ws) and sessions (express-session's MemoryStore and a tracker of carts), so every
// metric family otelkit ships has data. Run it under the preload:
//   OTEL_SERVICE_NAME=shop node --import otelkit/register examples/monitoring/app.mjs
// TRAFFIC=true makes it call itself four times a second (the compose demo; the
// test caps it with TRAFFIC_ROUNDS): cache hits, misses and evictions, checkouts
// with some upstream failures, and bursts that the limiter rejects and that open
// the breaker now and then; WebSocket clients that exchange a few messages and close
// (now and then without a close frame); users who log in, browse and log out.
import Bottleneck from 'bottleneck';
import express from 'express';
import session from 'express-session';
import { LRUCache } from 'lru-cache';
import CircuitBreaker from 'opossum';
import PQueue from 'p-queue';
import {
  getOtelkit,
  instrumentCache,
  instrumentCircuitBreaker,
  instrumentQueue,
  instrumentRateLimiter,
  instrumentSessionStore,
  instrumentWebSocketServer,
  lruCacheDispose,
  timed,
  trackSessions,
} from 'otelkit';
import { WebSocket, WebSocketServer } from 'ws';

// Small on purpose: the demo traffic overflows it, so evictions show up.
const products = new LRUCache({ max: 20, dispose: lruCacheDispose() });
instrumentCache(products, { name: 'products' });

// Two payments at a time, a short queue; beyond it calls are dropped (rejected). The
// reservoir (permits refilled every second) shows up as rate_limiter.permits.available.
const limiter = new Bottleneck({
  maxConcurrent: 2,
  highWater: 4,
  strategy: Bottleneck.strategy.OVERFLOW,
  reservoir: 100,
  reservoirRefreshAmount: 100,
  reservoirRefreshInterval: 1000,
});
instrumentRateLimiter(limiter, { name: 'payments' });

let selfUrl = '';
// The dependency is this same process (/upstream): the example needs nothing else running.
const breaker = new CircuitBreaker(
  async (fail) => {
    const res = await fetch(`${selfUrl}/upstream${fail ? '?fail=1' : ''}`);
    if (!res.ok) throw new Error(`upstream answered ${res.status}`);
    return res.json();
  },
  // Judged over one second, so a burst of failures opens it; it tries again after one second.
  {
    timeout: 2000,
    errorThresholdPercentage: 50,
    volumeThreshold: 4,
    rollingCountTimeout: 1000,
    rollingCountBuckets: 1,
    resetTimeout: 1000,
  },
);
instrumentCircuitBreaker(breaker, { name: 'upstream' });

// Thumbnails of new products, two at a time in process; one in ten fails.
class ThumbnailError extends Error {}
const thumbnails = new PQueue({ concurrency: 2 });
instrumentQueue(thumbnails, { name: 'thumbnails' });
const makeThumbnail = () =>
  new Promise((resolve, reject) =>
    setTimeout(
      () => (Math.random() < 0.1 ? reject(new ThumbnailError('bad image')) : resolve()),
      10 + Math.random() * 40,
    ),
  );

// Order e-mails: a backlog array drained by one sender (a generic queue: its size and a wrapped send).
class SmtpError extends Error {}
const outbox = [];
const emails = instrumentQueue({ name: 'emails', size: () => outbox.length });
const send = emails.wrap(async () => {
  await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10));
  if (Math.random() < 0.05) throw new SmtpError('mailbox unavailable');
});
setInterval(() => {
  if (outbox.length > 0) send(outbox.shift()).catch(() => {});
}, 100).unref();

// A periodic task, timed: a price refresh twice a second that takes 20-60 ms; one in five fails.
class PriceFeedError extends Error {}
const refreshPrices = timed('refresh-prices', async () => {
  await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 40));
  if (Math.random() < 0.2) throw new PriceFeedError('price feed unavailable');
});
setInterval(() => refreshPrices().catch(() => {}), 500).unref();

// Receipts on BullMQ when a Redis is given (REDIS_PORT; the repository's test starts one):
// some delayed, one in five failing its first attempt (retried). bullmq is loaded only then,
// so the example runs without it.
class ReceiptError extends Error {}
let receipts;
if (process.env.REDIS_PORT) {
  const { Queue, Worker } = await import('bullmq');
  const connection = { host: process.env.REDIS_HOST ?? '127.0.0.1', port: Number(process.env.REDIS_PORT) };
  receipts = new Queue('receipts', { connection });
  const worker = new Worker(
    'receipts',
    async (job) => {
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
      if (job.data.fail && job.attemptsMade === 0) throw new ReceiptError('renderer busy');
    },
    { connection, concurrency: 2 },
  );
  instrumentQueue({ queue: receipts, worker });
}
const receipt = () =>
  receipts
    ?.add(
      'receipt',
      { fail: Math.random() < 0.2 },
      { attempts: 2, delay: Math.random() < 0.3 ? 2000 : 0, removeOnComplete: 100, removeOnFail: 100 },
    )
    .catch(() => {});

// Sessions: the store's view (created, touched, saved, destroyed, active) and a tracker's (carts, with ages).
const sessionStore = new session.MemoryStore();
instrumentSessionStore(sessionStore, { name: 'web' });
const carts = trackSessions({ name: 'carts' });

const app = express();
app.use(session({ store: sessionStore, secret: 'example', resave: false, saveUninitialized: false }));
app.get('/login', (req, res) => {
  req.session.user = 'shopper';
  carts.started(req.sessionID);
  res.json({ ok: true });
});
app.get('/account', (req, res) => {
  if (req.session.user) carts.refreshed('activity');
  res.json({ user: req.session.user ?? null });
});
app.get('/logout', (req, res) => {
  carts.ended('logout', req.sessionID);
  req.session.destroy(() => res.json({ ok: true }));
});
app.get('/products/:id', (req, res) => {
  let product = products.get(req.params.id);
  if (product === undefined) {
    products.set(req.params.id, (product = { id: req.params.id }));
    thumbnails.add(makeThumbnail).catch(() => {});
  }
  res.json(product);
});
app.post('/checkout', async (req, res) => {
  try {
    const result = await limiter.schedule(() => breaker.fire(req.query.fail === '1'));
    outbox.push({ order: Date.now() });
    receipt();
    res.json(result);
  } catch (err) {
    res.status(503).json({ error: String(err?.message ?? err) });
  }
});
app.get('/upstream', async (req, res) => {
  await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
  if (req.query.fail === '1') res.status(500).json({ error: 'upstream failed' });
  else res.json({ ok: true });
});

const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', async () => {
  const { port } = server.address();
  selfUrl = `http://127.0.0.1:${port}`;
  const scrape = await getOtelkit()?.ready;
  console.log(JSON.stringify({ app: selfUrl, metrics: scrape?.url ?? null }));
  if (process.env.TRAFFIC === 'true') traffic(selfUrl, Number(process.env.TRAFFIC_ROUNDS ?? Infinity));
});

// A WebSocket echo server on the same port.
const wss = new WebSocketServer({ server, path: '/ws' });
instrumentWebSocketServer(wss, { name: 'echo' });
wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});

/** A client that sends two messages, waits for their echoes and closes (or drops the connection when `drop`). */
function wsClient(base, drop) {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`);
  let echoes = 0;
  ws.on('error', () => {});
  ws.on('open', () => {
    ws.send('hello');
    ws.send(JSON.stringify({ cart: Math.floor(Math.random() * 100) }));
  });
  ws.on('message', () => {
    if (++echoes < 2) return;
    if (drop) ws.terminate();
    else ws.close(1000);
  });
}

/** A few users, each with its session cookie. */
const users = Array.from({ length: 4 }, () => ({ cookie: undefined }));
async function visit(base, user, path) {
  const res = await fetch(`${base}${path}`, user.cookie ? { headers: { cookie: user.cookie } } : {});
  const set = res.headers.get('set-cookie');
  if (set) user.cookie = set.split(';')[0];
  await res.arrayBuffer();
}

/** Four rounds a second, `rounds` in all. */
function traffic(base, rounds) {
  let round = 0;
  const timer = setInterval(() => {
    if (++round >= rounds) clearInterval(timer);
    const checkout = (fail) => fetch(`${base}/checkout${fail ? '?fail=1' : ''}`, { method: 'POST' });
    const calls = [
      fetch(`${base}/products/${Math.floor(Math.random() * 40)}`),
      fetch(`${base}/products/${Math.floor(Math.random() * 40)}`),
      checkout(Math.random() < 0.2),
    ];
    // Every 2 s a burst the limiter partly rejects; every 4 s a failing one that opens the breaker.
    if (round % 8 === 0) for (let i = 0; i < 8; i++) calls.push(checkout(round % 16 === 0));
    void Promise.allSettled(calls.map((call) => call.then((res) => res.arrayBuffer())));
    wsClient(base, round % 4 === 0);
    // A user logs in (when logged out) or browses; every 3 s one logs out.
    const user = users[round % users.length];
    const path = round % 12 === 0 ? '/logout' : user.cookie ? '/account' : '/login';
    void visit(base, user, path)
      .then(() => {
        if (path === '/logout') user.cookie = undefined;
      })
      .catch(() => {});
  }, 250);
}

process.on('SIGTERM', () => server.close(() => process.exit(0)));
