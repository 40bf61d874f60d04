// npm run demo: starts examples/server.mjs under the otelkit/register preload,
// sends it some traffic, then prints the scrape URL and a few lines of the scrape.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const child = spawn(process.execPath, ['--import', 'otelkit/register', 'examples/server.mjs'], {
  cwd: root,
  env: {
    ...process.env,
    OTEL_SERVICE_NAME: process.env.OTEL_SERVICE_NAME ?? 'checkout-demo',
    OTEL_EXPORTER_PROMETHEUS_HOST: process.env.OTEL_EXPORTER_PROMETHEUS_HOST ?? '127.0.0.1',
    // 0 picks a free port, so the demo never collides with a running service.
    OTEL_EXPORTER_PROMETHEUS_PORT: process.env.OTEL_EXPORTER_PROMETHEUS_PORT ?? '0',
    PORT: '0',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const killTimer = setTimeout(() => {
  console.error('demo: the example did not start within 15 s');
  child.kill('SIGKILL');
  process.exit(1);
}, 15_000);

const [line] = await once(createInterface({ input: child.stdout }), 'line');
const { app, metrics } = JSON.parse(line);
clearTimeout(killTimer);

for (let i = 0; i < 20; i++) await (await fetch(`${app}/`)).text();
for (let i = 0; i < 5; i++) await (await fetch(`${app}/orders`, { method: 'POST' })).text();
for (let i = 0; i < 3; i++) await (await fetch(`${app}/no-such-page-${i}`)).text();

const text = await (await fetch(metrics)).text();
const shown = new RegExp(
  `^(${[
    'orders_placed_total',
    'http_server_request_duration_seconds_count',
    'nodejs_eventloop_delay_p99_seconds',
    'process_cpu_utilization_ratio',
    'process_memory_usage_bytes',
  ].join('|')})`,
);
const interesting = text
  .split('\n')
  .filter((l) => shown.test(l))
  // The scope labels are on every line; leave them out of the demo's short view.
  .map((l) => l.replace(/,?otel_scope_(name|version)="[^"]*"/g, '').replace('{}', ''));
console.log(`app:    ${app}`);
console.log(`scrape: ${metrics}   (try: curl ${metrics})\n`);
console.log(interesting.slice(0, 15).join('\n') || text.split('\n').slice(0, 15).join('\n'));
console.log(`\n... ${text.split('\n').filter((l) => l && !l.startsWith('#')).length} samples in all`);

child.kill('SIGTERM');
await once(child, 'exit');
