// What computing /stats costs with 200 routes: a real app under otelkit serves 200
// routes (3 status codes each, so 600 series), the snapshot ring is filled as the
// timer would fill it, then the snapshot is computed repeatedly (the one-second cache
// bypassed) and the median and spread of one computation are printed.
// Usage: npm run bench:stats [-- --routes 200 --runs 200]
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createJiti } from 'jiti';
import { register, setHttpRoute } from '../dist/index.js';
import { median } from './shared.mjs';

const { values } = parseArgs({
  options: { routes: { type: 'string', default: '200' }, runs: { type: 'string', default: '200' } },
});
const ROUTES = Number(values.routes);
const RUNS = Number(values.runs);

register({ prometheus: { host: '127.0.0.1', port: 0 }, logLevel: 'error' });
const STATUSES = [200, 404, 500];
const server = http.createServer((req, res) => {
  const [, route, status] = req.url.split('/');
  setHttpRoute(req, `/r${route}/:id`);
  res.statusCode = Number(status);
  res.end();
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const get = (path) =>
  new Promise((resolve, reject) =>
    http.get(base + path, { agent }, (res) => res.resume().on('end', resolve)).on('error', reject),
  );

// The service over the same process-wide in-place series the app just recorded into.
const jiti = createJiti(import.meta.url);
const { StatsService } = await jiti.import('../src/stats/stats-service.ts');
let now = Date.now();
const service = new StatsService({ windowsSeconds: [60, 300, 900], cacheMs: 0, timer: false, nowMs: () => now });

// 62 snapshots (15 minutes of 15 s ticks), traffic on every route between them.
for (let tick = 0; tick < 62; tick++) {
  const batch = [];
  for (let r = 0; r < ROUTES; r++) batch.push(get(`/${r}/${STATUSES[(r + tick) % 3]}`));
  await Promise.all(batch);
  now += 15_000;
  service.tick();
}
// Wall time includes whatever else the machine runs meanwhile; the process's own CPU
// time (user + system, GC included) is what the computation costs.
const wall = [];
const cpu = [];
let routes = 0;
for (let i = 0; i < RUNS; i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const stats = service.get();
  wall.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
  routes = stats.http.routes.length;
}
const line = (label, ms) => {
  ms.sort((a, b) => a - b);
  const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))].toFixed(3);
  return `  ${label} median ${median(ms).toFixed(3)} ms  p10 ${q(0.1)}  p90 ${q(0.9)}  max ${q(1)} ms`;
};
console.log(
  `/stats for ${routes} routes (${routes * 3} series, ${service.ring.size} snapshots, 3 windows), ` +
    `${RUNS} computations:`,
);
console.log(line('wall', wall));
console.log(line('cpu ', cpu));
service.stop();
agent.destroy();
server.close();
process.exit(0);
