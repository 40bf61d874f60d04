// One side of `bench:scrape`: BENCH_COUNTERS counter series and BENCH_HISTOGRAMS histogram series
// (one label, `key`), recorded once each, through otelkit (its defaults: Prometheus, HTTP and
// runtime metrics) or prom-client (its default metrics). Serves the scrape, and /cpu: this
// process's CPU time in µs, read before and after each scrape. Prints its port, then the heap
// the series added (after GC, with a scrape done, so every side has built what a scrape keeps).
import { createServer } from 'node:http';

const [kind] = process.argv.slice(2);
const counters = Number(process.env.BENCH_COUNTERS);
const histograms = Number(process.env.BENCH_HISTOGRAMS);
const heap = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};

let scrape;
let record;
if (kind === 'otelkit') {
  const { register } = await import('otelkit');
  const { metrics } = await import('@opentelemetry/api');
  const otelkit = register({ prometheus: { port: 0, host: '127.0.0.1' } });
  await otelkit.ready;
  const meter = metrics.getMeter('bench');
  const counter = meter.createCounter('bench.requests', { description: 'Requests by key.' });
  const histogram = meter.createHistogram('bench.duration', { unit: 's', description: 'Duration by key.' });
  record = () => {
    for (let i = 0; i < counters; i++) counter.add(i + 1, { key: `k${i}` });
    for (let i = 0; i < histograms; i++) histogram.record((i % 100) / 100, { key: `k${i}` });
  };
  scrape = (req, res) => otelkit.metricsHandler(req, res);
} else {
  const client = (await import('prom-client')).default;
  client.collectDefaultMetrics();
  const counter = new client.Counter({ name: 'bench_requests_total', help: 'Requests by key.', labelNames: ['key'] });
  const histogram = new client.Histogram({
    name: 'bench_duration_seconds',
    help: 'Duration by key.',
    labelNames: ['key'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
  });
  record = () => {
    for (let i = 0; i < counters; i++) counter.inc({ key: `k${i}` }, i + 1);
    for (let i = 0; i < histograms; i++) histogram.observe({ key: `k${i}` }, (i % 100) / 100);
  };
  scrape = async (_req, res) => {
    const body = await client.register.metrics();
    res.writeHead(200, { 'content-type': client.register.contentType }).end(body);
  };
}

process.on('SIGINT', () => process.exit(0));
const server = createServer((req, res) => {
  if (req.url === '/cpu') {
    const { user, system } = process.cpuUsage();
    res.end(String(user + system));
  } else scrape(req, res);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
await fetch(`${base}/metrics`).then((r) => r.text());
const before = heap();
record();
await fetch(`${base}/metrics`).then((r) => r.text());
const after = heap();
process.stdout.write(`${JSON.stringify({ url: base, heapBytes: after - before })}\n`);
