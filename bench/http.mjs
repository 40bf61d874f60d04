// HTTP server overhead: a node:http hello world, four ways:
//   plain        no metrics
//   otelkit      register() with otelkit's defaults (HTTP server + client + runtime metrics)
//   otel-http    @opentelemetry/instrumentation-http with a MeterProvider (stable semconv)
//   prom-client  a prom-client Histogram (method, route, status_code) observed by hand on 'finish'
//   floor        the least any per-request latency histogram can do: two clock reads and a
//                bucket increment per request (diagnostics_channel, no attributes, no export)
//   sdk-floor    the floor with the OpenTelemetry SDK loaded beside it (a MeterProvider with the
//                Prometheus exporter, nothing recorded through it): the least any per-request
//                histogram in a process that uses the SDK can do
// Each server runs in its own process pinned to CPU 0 (taskset), the load on CPU 1:
// wrk (one thread) when installed, else autocannon in this process; 127.0.0.1 only. Every repetition runs
// every variant once, in a rotating order (interleaved), each run warmed up first:
// otelkit loads the OpenTelemetry SDK at start, and its JIT compilation and first
// collection of start-up garbage land in the first seconds of load, which a
// long-running service has behind it. In paired runs, 1 s warm-up + 2 s measured put
// otelkit's HTTP server metrics at 1.15-1.16x plain's CPU per request; 3-5 s warm-up +
// 4 s measured at 1.10.
// Reported: requests/s and p99 latency as ratios to `plain` within the same
// repetition; median and min..max over the repetitions.
// Also reported: the server's CPU time per request (read from the server before and
// after each run), steadier than requests/s when other jobs share the machine.
// Usage: npm run bench:http   (builds with tsup, then runs this file; about 12 min)
// Then paired runs (see pair()): each variant and plain served at the same time on the
// same CPU; the ratios of requests served and of each server's CPU time per request are
// immune to the machine's drift between runs (the CPU ratio is the steadier one).
// plain paired with plain is reported first, as the control.
// Many short interleaved runs rather than a few long ones: on a shared VM the machine's
// speed drifts over tens of seconds, and a ratio of neighbouring short runs sees less of it.
// Env: BENCH_REPS (8; 0 = paired runs only), BENCH_SECONDS (2), BENCH_WARMUP_SECONDS (3),
//      BENCH_CONNECTIONS (50), BENCH_PAIRS (6), BENCH_PAIR_SECONDS (4), BENCH_VARIANTS,
//      BENCH_BASELINE (plain), BENCH_LOAD (wrk | autocannon; default wrk when found)
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchApp } from './app.mjs';
import { floorHandlers, median } from './shared.mjs';

// Extra variants for diagnosis (BENCH_VARIANTS=plain,otelkit-core,otelkit-server,...):
//   otelkit-core    register() with no instrumentations
//   otelkit-server  register() with the HTTP server metrics only
//   otelkit:a+b     register() with exactly the instrumentations a and b (names as in OTELKIT_INSTRUMENTATIONS)
const VARIANTS = (process.env.BENCH_VARIANTS ?? 'plain,otelkit,floor,sdk-floor,prom-client,otel-http').split(',');
/** What paired runs compare against (BENCH_BASELINE=floor pairs each variant with the floor instead). */
const BASELINE = process.env.BENCH_BASELINE ?? 'plain';
const self = fileURLToPath(import.meta.url);
/** A run starts once the machine's CPUs are at most this busy (bounded wait, see waitForQuiet). */
const QUIET = 0.1;
/** A run is redone when other processes used more than this share of one CPU during it. */
const DISTURBED = Number(process.env.BENCH_DISTURBED ?? 0.1);

if (process.argv[2] === '--serve') await serve(process.argv[3]);
else await main();

// ---- server side -------------------------------------------------------------------

async function serve(variant) {
  const require = createRequire(import.meta.url);
  let metricsUrl = null;
  let { handler, path } = await benchApp();
  if (variant.startsWith('otelkit')) {
    const { register } = await import('../dist/index.js');
    // otelkit:<a>+<b>: register() with exactly those instrumentations (e.g. otelkit:runtime-gc+http-server)
    const instrumentations = variant.startsWith('otelkit:')
      ? variant.slice('otelkit:'.length).split('+')
      : {
          otelkit: undefined,
          'otelkit-core': [],
          'otelkit-server': ['http-server'],
          'otelkit-client': ['http-client'],
          'otelkit-runtime': ['runtime'],
        }[variant];
    metricsUrl = (await register({ prometheus: { host: '127.0.0.1', port: 0 }, instrumentations }).ready).url;
  } else if (variant === 'otel-http') {
    process.env.OTEL_SEMCONV_STABILITY_OPT_IN = 'http';
    const { register } = await import('../dist/index.js');
    metricsUrl = (await register({ prometheus: { host: '127.0.0.1', port: 0 }, instrumentations: [] }).ready).url;
    const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
    new HttpInstrumentation().enable();
    require('node:http'); // let require-in-the-middle patch it, then sync the ESM view
    syncBuiltinESMExports();
  } else if (variant === 'floor' || variant === 'sdk-floor') {
    if (variant === 'sdk-floor') {
      const { MeterProvider } = await import('@opentelemetry/sdk-metrics');
      const { PrometheusExporter } = await import('@opentelemetry/exporter-prometheus');
      const { metrics } = await import('@opentelemetry/api');
      // Its scrape server stays off: an idle listener costs nothing measurable here, and
      // the exporter cannot take port 0.
      metrics.setGlobalMeterProvider(
        new MeterProvider({ readers: [new PrometheusExporter({ preventServerStart: true })] }),
      );
    }
    const { subscribe } = await import('node:diagnostics_channel');
    const { onStart, onFinish } = floorHandlers();
    subscribe('http.server.request.start', onStart);
    subscribe('http.server.response.finish', onFinish);
  } else if (variant === 'prom-client') {
    const client = require('prom-client');
    const histogram = new client.Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'Duration of HTTP server requests.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    });
    const app = handler;
    handler = (req, res) => {
      const end = histogram.startTimer();
      res.on('finish', () => end({ method: req.method, route: req.route?.path ?? '/', status_code: res.statusCode }));
      app(req, res);
    };
  } else if (variant !== 'plain') {
    throw new Error(`unknown variant ${variant}`);
  }
  const http = require('node:http');
  // GET /__cpu answers the server's CPU time so far (µs): CPU per request is the
  // steadier measure when other jobs share the machine.
  const server = http.createServer((req, res) => {
    if (req.url === '/__cpu') {
      const u = process.cpuUsage();
      return res.end(String(u.user + u.system));
    }
    handler(req, res);
  });
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port, path, metricsUrl })));
}

// ---- load side ----------------------------------------------------------------------

async function main() {
  const reps = Number(process.env.BENCH_REPS ?? 8);
  const seconds = Number(process.env.BENCH_SECONDS ?? 2);
  const warmup = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
  const pin = availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0;
  if (pin) spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  const tool = process.env.BENCH_LOAD ?? (spawnSync('wrk', ['-v']).error ? 'autocannon' : 'wrk');
  const load = tool === 'wrk' ? wrkLoad(pin) : autocannonLoad((await import('autocannon')).default);
  console.log(
    `# ${reps} reps x ${VARIANTS.length} variants, ${seconds} s each (+${warmup} s warm-up), ` +
      `${connections} connections, load: ${tool}, Node ${process.version}, ` +
      (pin ? 'server on CPU 0, load on CPU 1' : 'no taskset / single CPU: server and load share CPUs'),
  );

  const results = Object.fromEntries(VARIANTS.map((v) => [v, []]));
  for (let rep = 0; rep < reps; rep++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + rep) % VARIANTS.length]);
    for (const variant of order) {
      // A run during which other processes took more than DISTURBED of a CPU is redone
      // (at most twice); the least disturbed attempt is kept.
      let r;
      for (let attempt = 0; attempt < 3 && !(r?.foreign <= DISTURBED); attempt++) {
        await waitForQuiet();
        const a = await run(load, variant, { pin, seconds, warmup, connections });
        if (!r || a.foreign < r.foreign) r = a;
      }
      results[variant].push(r);
      const recorded = r.counted !== undefined ? `  (recorded ${r.counted} requests)` : '';
      console.log(
        `rep ${rep + 1} ${variant.padEnd(11)} ${Math.round(r.rps)} req/s  p99 ${r.p99.toFixed(2)} ms  ` +
          `CPU ${r.cpuPerRequest.toFixed(1)} µs/req  other jobs ${(r.foreign * 100).toFixed(0)}% of a CPU${recorded}`,
      );
    }
  }
  if (reps > 0) report(results, reps);

  const pairs = Number(process.env.BENCH_PAIRS ?? 6);
  const pairSeconds = Number(process.env.BENCH_PAIR_SECONDS ?? 4);
  if (pairs > 0 && VARIANTS.includes(BASELINE)) {
    console.log(
      `\n# paired: each variant and ${BASELINE} on CPU 0 at the same time, ` +
        `${pairs} pairs x ${pairSeconds} s, sides alternating`,
    );
    console.log(
      `| variant | requests served relative to ${BASELINE} at the same time: median (min..max) ` +
        `| server CPU per request relative to ${BASELINE}: median (min..max) ` +
        `| p99 latency relative to ${BASELINE}: median (min..max) |`,
    );
    console.log('|---|---|---|---|');
    // the baseline against itself first: the method's own noise and bias, next to the variants.
    const range = (xs) => `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)})`;
    for (const variant of [BASELINE, ...VARIANTS.filter((v) => v !== BASELINE)]) {
      const served = [];
      const cpu = [];
      const p99 = [];
      for (let i = 0; i < pairs; i++) {
        await waitForQuiet();
        const r = await pair(load, variant, i, { pin, seconds: pairSeconds, warmup, connections });
        served.push(r.served);
        cpu.push(r.cpu);
        p99.push(r.p99);
      }
      console.log(`| ${variant} | ${range(served)} | ${range(cpu)} | ${range(p99)} |`);
    }
  }
}

/** Runs `fn`, or answers undefined where it throws (no /proc: not Linux). */
function safe(fn) {
  try {
    return fn();
  } catch {
    return undefined; // not Linux
  }
}

/** Idle and total CPU time of the machine so far, from /proc/stat (clock ticks). */
function cpuTimes() {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const n = fields.map(Number);
  return { idle: n[3] + (n[4] ?? 0), total: n.reduce((a, b) => a + b, 0) };
}

/** CPU seconds used so far by this process and its waited-for children (wrk), from /proc/self/stat. */
function ownAndChildrenSeconds() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  // fields 14-17 (utime stime cutime cstime) are f[11..14] after the name; clock ticks, USER_HZ = 100
  return (f[11] + f[12] + f[13] + f[14]) / 100;
}

/**
 * Other jobs on a shared machine skew a run; waits (bounded) until the CPUs are idle.
 * Share of CPU time busy over 0.5 s windows, retried up to 20 s until under QUIET; the last reading.
 */
async function waitForQuiet() {
  let busy = 0;
  try {
    for (let waited = 0; waited < 20_000; waited += 500) {
      const a = cpuTimes();
      await new Promise((resolve) => setTimeout(resolve, 500));
      const b = cpuTimes();
      busy = 1 - (b.idle - a.idle) / Math.max(1, b.total - a.total);
      if (busy <= QUIET) break;
    }
  } catch {
    return 0; // no /proc/stat: not Linux
  }
  return busy;
}

/** Starts a server variant in its own process (on CPU 0 when pinning); resolves once it listens. */
async function startServer(variant, pin) {
  const args = [self, '--serve', variant];
  const child = pin
    ? spawn('taskset', ['-c', '0', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = await Promise.race([
      once(child.stdout, 'data'),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`${variant} server did not start`)), 15_000)),
    ]);
    const { port, path, metricsUrl } = JSON.parse(String(line).trim().split('\n')[0]);
    return { child, url: `http://127.0.0.1:${port}${path}`, cpuUrl: `http://127.0.0.1:${port}/__cpu`, metricsUrl };
  } catch (err) {
    await stopServer(child);
    throw err;
  }
}

async function stopServer(child) {
  child.kill('SIGKILL');
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit').catch(() => {});
}

async function run(load, variant, { pin, seconds, warmup, connections }) {
  const { child, url, cpuUrl, metricsUrl } = await startServer(variant, pin);
  try {
    if (warmup > 0) await load(url, connections, warmup);
    const cpu = () => serverCpu({ cpuUrl });
    const cpuBefore = await cpu();
    const [machine0, own0, t0] = [safe(cpuTimes), safe(ownAndChildrenSeconds), performance.now()];
    const r = await load(url, connections, seconds);
    const cpuUs = (await cpu()) - cpuBefore;
    const [machine1, own1, t1] = [safe(cpuTimes), safe(ownAndChildrenSeconds), performance.now()];
    // busy CPU seconds on the machine not spent by the server, the load generator or this process
    const foreign =
      machine0 && machine1 && own0 !== undefined
        ? Math.max(
            0,
            (machine1.total - machine1.idle - (machine0.total - machine0.idle)) / 100 - cpuUs / 1e6 - (own1 - own0),
          ) /
          ((t1 - t0) / 1000)
        : 0;
    let counted;
    if (variant.startsWith('otelkit') && metricsUrl) {
      const text = await (await fetch(metricsUrl)).text();
      const m = /^http_server_request_duration_seconds_count\{[^}]*http_response_status_code="200"[^}]*\} (\d+)/m.exec(
        text,
      );
      counted = m ? Number(m[1]) : 0;
    }
    return { rps: r.total / seconds, p99: r.p99, total: r.total, counted, cpuPerRequest: cpuUs / r.total, foreign };
  } finally {
    await stopServer(child);
  }
}

/**
 * Paired runs: the baseline and `variant` run at the same time, both pinned to CPU 0,
 * each under its own load (both on CPU 1). They share the CPU and whatever else the
 * machine is doing, so the ratio of requests served is the relative cost per request,
 * free of the drift between separate runs. Sides alternate between pairs. Also the
 * ratio of each server's own CPU time per request, which does not depend on how
 * fairly the scheduler shares CPU 0, and of the two loads' p99 latencies.
 */
async function pair(load, variant, i, { pin, seconds, warmup, connections }) {
  const order = i % 2 ? [variant, BASELINE] : [BASELINE, variant];
  const servers = await Promise.all(order.map((v) => startServer(v, pin)));
  try {
    if (warmup > 0) await Promise.all(servers.map((s) => load(s.url, connections, warmup)));
    const before = await Promise.all(servers.map(serverCpu));
    const r = await Promise.all(servers.map((s) => load(s.url, connections, seconds)));
    const after = await Promise.all(servers.map(serverCpu));
    const perRequest = r.map((x, k) => (after[k] - before[k]) / x.total);
    // order[0] is the baseline on even pairs, the variant on odd ones (for baseline vs itself, the sides)
    const [v, b] = i % 2 ? [0, 1] : [1, 0];
    return { served: r[v].total / r[b].total, cpu: perRequest[v] / perRequest[b], p99: r[v].p99 / r[b].p99 };
  } finally {
    await Promise.all(servers.map((s) => stopServer(s.child)));
  }
}

/** The server's CPU time so far, µs (its GET /__cpu). */
async function serverCpu(server) {
  return Number(await (await fetch(server.cpuUrl)).text());
}

/** wrk, one thread, pinned to CPU 1: requests and p99 (ms) from its --latency report. */
function wrkLoad(pin) {
  return async (url, connections, seconds) => {
    const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', url];
    const child = pin ? spawn('taskset', ['-c', '1', 'wrk', ...args]) : spawn('wrk', args);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const [code] = await once(child, 'close'); // 'close': after stdout is drained ('exit' can come first)
    if (code !== 0) throw new Error(`wrk exited ${code}: ${out}`);
    const total = Number(/(\d+) requests in/.exec(out)?.[1]);
    const p99 = /^\s*99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out);
    if (/Non-2xx|Socket errors/.test(out)) throw new Error(`wrk reported errors:\n${out}`);
    if (!total || !p99) throw new Error(`cannot read wrk output:\n${out}`);
    return { total, p99: Number(p99[1]) * { us: 0.001, ms: 1, s: 1000 }[p99[2]] };
  };
}

/** autocannon in this process; p99 from the exact response times (its own percentiles are whole ms). */
function autocannonLoad(autocannon) {
  return async (url, connections, seconds) => {
    const latencies = [];
    const instance = autocannon({ url, connections, duration: seconds });
    instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
    const r = await instance;
    if (r.errors || r.non2xx) throw new Error(`${r.errors} errors, ${r.non2xx} non-2xx`);
    latencies.sort((a, b) => a - b);
    return {
      total: r.requests.total,
      p99: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))],
    };
  };
}

function report(results, reps) {
  const f = (x, d = 2) => x.toFixed(d);
  const plain = results.plain;
  console.log(
    '\n| variant | req/s median | req/s ratio to plain: median (min..max) ' +
      '| p99 ms median | p99 ratio to plain: median (min..max) ' +
      '| server CPU µs/req median | CPU ratio to plain: median (min..max) |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const v of VARIANTS) {
    const rps = results[v].map((r) => r.rps);
    const p99 = results[v].map((r) => r.p99);
    const rr = results[v].map((r, i) => r.rps / plain[i].rps);
    const pr = results[v].map((r, i) => r.p99 / plain[i].p99);
    const cpu = results[v].map((r) => r.cpuPerRequest);
    const cr = results[v].map((r, i) => r.cpuPerRequest / plain[i].cpuPerRequest);
    const range = (xs) => `${f(median(xs))} (${f(Math.min(...xs))}..${f(Math.max(...xs))})`;
    console.log(
      `| ${v} | ${Math.round(median(rps))} | ${range(rr)} | ` +
        `${f(median(p99))} | ${range(pr)} | ${f(median(cpu), 1)} | ${range(cr)} |`,
    );
  }
  console.log(`\n(${reps} repetitions; ratios are paired within a repetition.)`);
}
