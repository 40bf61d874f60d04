// A burst of concurrent scrapes against an app with some series: how many
// collections the app runs, and how long its own requests wait meanwhile.
// `node bench/scrape-burst.mjs` (after `npm run build`); BENCH_SCRAPES (default 200),
// BENCH_ROUNDS (default 5), BENCH_SERIES (counter series, default 1000; a tenth as many histogram series).
// See bench/README.md.
import { spawn } from 'node:child_process';
import { createServer, get } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { median } from './shared.mjs';

const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SERIES = Number(process.env.BENCH_SERIES ?? 1000);

if (process.argv[2] === 'app') await app();
else await driver();

/** The measured app: otelkit's HTTP server metrics, a counter and a histogram with SERIES and SERIES/10 series. */
async function app() {
  const { register } = await import('../dist/index.js');
  const { metrics } = await import('@opentelemetry/api');
  const otel = register({ prometheus: { host: '127.0.0.1', port: 0 }, instrumentations: ['http-server'] });
  const meter = metrics.getMeter('bench');
  let collections = 0;
  meter.createObservableGauge('bench.collections').addCallback((r) => r.observe(++collections));
  const counter = meter.createCounter('bench.events');
  const histogram = meter.createHistogram('bench.duration', { unit: 's' });
  for (let i = 0; i < SERIES; i++) counter.add(1, { key: `k${i}` });
  for (let i = 0; i < SERIES / 10; i++) histogram.record(i / 100, { key: `k${i}` });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const server = createServer((req, res) => {
    if (req.url === '/stats') {
      res.end(JSON.stringify({ collections, loopDelayMaxMs: delay.max / 1e6 }));
      delay.reset();
    } else res.end('ok');
  });
  const { url } = await otel.ready;
  server.listen(0, '127.0.0.1', () =>
    console.log(JSON.stringify({ metricsUrl: url, appUrl: `http://127.0.0.1:${server.address().port}` })),
  );
}

async function driver() {
  const child = spawn(process.execPath, [import.meta.filename, 'app'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const { metricsUrl, appUrl } = JSON.parse(
    await new Promise((r) => createInterface({ input: child.stdout }).once('line', r)),
  );
  const stats = async () => JSON.parse(await (await fetch(`${appUrl}/stats`)).text());

  /** Sequential requests to the app until `done` settles; the slowest, in ms. */
  async function probe(done) {
    let finished = false;
    done.then(() => (finished = true));
    let worst = 0;
    do {
      const t = performance.now();
      await (await fetch(appUrl)).text();
      worst = Math.max(worst, performance.now() - t);
    } while (!finished);
    return worst;
  }

  // Each scrape on a connection of its own, as from separate scrapers.
  const scrape = () =>
    new Promise((resolve, reject) =>
      get(metricsUrl, { agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (c) => (bytes += c.length)).on('end', () => resolve([res.statusCode, bytes]));
      }).on('error', reject),
    );

  for (let i = 0; i < 20; i++) await scrape(); // warm-up
  const rows = [];
  for (let round = 0; round < ROUNDS; round++) {
    const quiet = new Promise((r) => setTimeout(r, 500));
    const quietWorst = await probe(quiet);
    const before = (await stats()).collections; // also restarts the app's event-loop delay record
    const burst = Promise.all(Array.from({ length: SCRAPES }, scrape));
    const burstWorst = await probe(burst);
    const answers = await burst;
    const after = await stats();
    rows.push({
      quietWorst,
      burstWorst,
      loopDelayMax: after.loopDelayMaxMs,
      collections: after.collections - before,
      ok: answers.filter(([s]) => s === 200).length,
      bytes: answers[0][1],
    });
  }
  child.kill();
  const col = (k, d = 0) => {
    const xs = rows.map((r) => r[k]);
    return `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}..${Math.max(...xs).toFixed(d)})`;
  };
  console.log(`${SCRAPES} concurrent scrapes of ${rows[0].bytes} bytes, ${ROUNDS} rounds; median (min..max)`);
  console.log(`  answered 200:                   ${col('ok')}`);
  console.log(`  collections run:                ${col('collections')}`);
  console.log(`  app request, worst, quiet (ms): ${col('quietWorst', 1)}`);
  console.log(`  app request, worst, burst (ms): ${col('burstWorst', 1)}`);
  console.log(`  app event-loop delay, max (ms): ${col('loopDelayMax', 1)}`);
}
