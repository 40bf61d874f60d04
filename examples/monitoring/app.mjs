// The example service behind examples/monitoring (and the test that checks every
// dashboard panel and recording rule against a real Prometheus): an Express app
// with a cache, a rate limiter and a circuit breaker around an outgoing HTTP call,
// so every metric family otelkit ships has data. Run it under the preload:
//   OTEL_SERVICE_NAME=shop node --import otelkit/register examples/monitoring/app.mjs
// TRAFFIC=true makes it call itself a few times a second (for the compose demo).
import Bottleneck from 'bottleneck';
import express from 'express';
import { LRUCache } from 'lru-cache';
import CircuitBreaker from 'opossum';
import { getOtelkit, instrumentCache, instrumentCircuitBreaker, instrumentRateLimiter, lruCacheDispose } from 'otelkit';

// Small on purpose: the demo traffic overflows it, so evictions show up.
const products = new LRUCache({ max: 20, dispose: lruCacheDispose() });
instrumentCache(products, { name: 'products' });

// Two payments at a time, a short queue; beyond it calls are dropped (rejected).
const limiter = new Bottleneck({ maxConcurrent: 2, highWater: 4, strategy: Bottleneck.strategy.OVERFLOW });
instrumentRateLimiter(limiter, { name: 'payments' });

let selfUrl = '';
// The dependency is this same process (/upstream): the example needs nothing else running.
const breaker = new CircuitBreaker(
  async (fail) => {
    const res = await fetch(`${selfUrl}/upstream${fail ? '?fail=1' : ''}`);
    if (!res.ok) throw new Error(`upstream answered ${res.status}`);
    return res.json();
  },
  { timeout: 2000, errorThresholdPercentage: 50, volumeThreshold: 4, resetTimeout: 1000 },
);
instrumentCircuitBreaker(breaker, { name: 'upstream' });

const app = express();
app.get('/products/:id', (req, res) => {
  let product = products.get(req.params.id);
  if (product === undefined) products.set(req.params.id, (product = { id: req.params.id }));
  res.json(product);
});
app.post('/checkout', async (req, res) => {
  try {
    const result = await limiter.schedule(() => breaker.fire(req.query.fail === '1'));
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
  if (process.env.TRAFFIC === 'true') setInterval(() => void traffic(selfUrl), 250).unref();
});

/** One round of demo traffic: cache hits and misses, checkouts, some failing. */
export async function traffic(base) {
  const calls = [
    fetch(`${base}/products/${Math.floor(Math.random() * 30)}`),
    fetch(`${base}/checkout${Math.random() < 0.3 ? '?fail=1' : ''}`, { method: 'POST' }),
  ];
  for (const res of await Promise.allSettled(calls)) if (res.status === 'fulfilled') await res.value.arrayBuffer();
}

process.on('SIGTERM', () => server.close(() => process.exit(0)));
