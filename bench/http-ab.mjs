// The HTTP server instrumentation's own per-request cost, measured in ONE server
// process under constant load: the instrumentation is switched on and off every
// BENCH_WINDOW_MS (200) and the server's CPU time per request is compared between
// neighbouring windows. Separate processes measured seconds apart see the shared
// machine's drift (±10% between runs here); neighbouring 200 ms windows mostly do not.
//
// A no-op subscriber stays on both channels the whole time, so switching never
// changes whether Node publishes (that would deoptimize Node's HTTP code at every
// switch): the figure is otelkit's work per request, without Node's publishing of
// the two channel messages (measure that with `bench:http`'s `floor`).
//
// Variants (BENCH_VARIANTS): otelkit (instrumentHttpServer() after register()),
// floor (two clock reads, two WeakMap lookups, one bucket increment), clock (two clock
// reads only), noop (two empty subscribers: what merely being called costs).
// Server on CPU 0, wrk on CPU 1 (wrk required), 127.0.0.1.
// Usage: npm run bench:http-ab   Env: BENCH_SECONDS (16), BENCH_WINDOW_MS (200), BENCH_CONNECTIONS (50),
//        BENCH_APP (hello | express: see bench/app.mjs)
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer } from 'node:http';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { benchApp } from './app.mjs';
import { floorHandlers, median } from './shared.mjs';

const START = 'http.server.request.start';
const FINISH = 'http.server.response.finish';

if (process.argv[2] === '--serve') await serve(process.argv[3]);
else await main();

async function switches(variant) {
  if (variant === 'otelkit') {
    const { register, instrumentHttpServer } = await import('../dist/index.js');
    await register({ prometheus: { host: '127.0.0.1', port: 0 }, instrumentations: [] }).ready;
    let handle;
    return { on: () => (handle = instrumentHttpServer()), off: () => handle.dispose() };
  }
  const now = performance.now.bind(performance);
  let onStart;
  let onFinish;
  if (variant === 'floor') {
    ({ onStart, onFinish } = floorHandlers());
  } else if (variant === 'noop') {
    onStart = () => {};
    onFinish = () => {};
  } else if (variant === 'clock') {
    let sink = 0;
    onStart = () => (sink += now());
    onFinish = () => (sink -= now());
  } else {
    throw new Error(`unknown variant ${variant}`);
  }
  return {
    on: () => {
      subscribe(START, onStart);
      subscribe(FINISH, onFinish);
    },
    off: () => {
      unsubscribe(START, onStart);
      unsubscribe(FINISH, onFinish);
    },
  };
}

async function serve(variant) {
  const noop = () => {};
  subscribe(START, noop);
  subscribe(FINISH, noop);
  const { on, off } = await switches(variant);
  const { handler, path } = await benchApp();
  const windowMs = Number(process.env.BENCH_WINDOW_MS ?? 200);
  let served = 0;
  let enabled = false;
  let windows = [];
  let last;
  let timer;
  const flip = () => {
    const cpu = process.cpuUsage();
    const mark = { cpu: cpu.user + cpu.system, served, at: performance.now() };
    if (last) windows.push({ enabled, cpu: mark.cpu - last.cpu, requests: mark.served - last.served });
    enabled = !enabled;
    if (enabled) on();
    else off();
    last = mark;
  };
  const server = createServer((req, res) => {
    if (req.url === '/__start') {
      windows = [];
      last = undefined;
      timer = setInterval(flip, windowMs);
      return res.end('ok');
    }
    if (req.url === '/__stop') {
      clearInterval(timer);
      if (enabled) flip();
      return res.end(JSON.stringify(windows));
    }
    served++;
    handler(req, res);
  });
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port, path })));
}

async function main() {
  if (spawnSync('wrk', ['-v']).error) {
    console.log('bench:http-ab needs wrk (apt-get install -y wrk); skipped');
    return;
  }
  const variants = (process.env.BENCH_VARIANTS ?? 'otelkit,floor,clock,noop').split(',');
  const seconds = Number(process.env.BENCH_SECONDS ?? 16);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
  const pin = availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0;
  const onCpu = (cpu, cmd, args, options) =>
    pin ? spawn('taskset', ['-c', cpu, cmd, ...args], options) : spawn(cmd, args, options);
  const wrk = async (url, s) => {
    const child = onCpu('1', 'wrk', ['-t1', `-c${connections}`, `-d${s}s`, url], { stdio: 'ignore' });
    await once(child, 'exit');
  };
  console.log(
    `# in-process on/off A/B, app ${process.env.BENCH_APP ?? 'hello'}, ${seconds} s per variant, ` +
      `${process.env.BENCH_WINDOW_MS ?? 200} ms windows, ${connections} connections, Node ${process.version}`,
  );
  console.log(
    '| variant | CPU per request, on / off: median of neighbouring windows (quartiles) | requests/s, on / off |',
  );
  console.log('|---|---|---|');
  for (const variant of variants) {
    const child = onCpu('0', process.execPath, [fileURLToPath(import.meta.url), '--serve', variant], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [line] = await once(child.stdout, 'data');
      const { port, path } = JSON.parse(String(line));
      const base = `http://127.0.0.1:${port}`;
      await wrk(`${base}${path}`, 2); // warm-up, instrumentation off
      await fetch(`${base}/__start`).then((r) => r.text());
      await wrk(`${base}${path}`, seconds);
      const windows = await fetch(`${base}/__stop`).then((r) => r.json());
      const cpu = [];
      const rate = [];
      for (let i = 1; i < windows.length; i++) {
        const [a, b] = [windows[i - 1], windows[i]];
        if (a.requests < 100 || b.requests < 100 || a.enabled === b.enabled) continue;
        const [on, off] = a.enabled ? [a, b] : [b, a];
        cpu.push(on.cpu / on.requests / (off.cpu / off.requests));
        rate.push(on.requests / off.requests);
      }
      const q = (xs, p) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) * p)];
      console.log(
        `| ${variant} | ${median(cpu).toFixed(3)} (${q(cpu, 0.25).toFixed(2)}..${q(cpu, 0.75).toFixed(2)}), ` +
          `${cpu.length} pairs | ${median(rate).toFixed(3)} |`,
      );
    } finally {
      child.kill('SIGKILL');
    }
  }
}
