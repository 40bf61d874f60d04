// The generated dashboards and rules against a real Prometheus scraping a real app:
// examples/monitoring/app.mjs (Express, a cache, a rate limiter, a circuit breaker
// around an outgoing call, a p-queue, a generic queue and, with a real redis-server,
// a BullMQ queue) under its own bounded traffic, scraped every second, with the rules
// `otelkit assets` wrote evaluated every second. Every dashboard panel query (Grafana
// variables filled in), every variable query and every recording rule must return
// data, with the labels its legend shows: a panel or rule naming a metric or label
// that does not exist fails here.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AssetsStack, checksWithoutData, startAssetsStack } from '../helpers/assets-checks.js';
import { stopAll } from '../helpers/child.js';
import { hasPrometheus, stopAllPrometheus } from '../helpers/prometheus.js';
import { hasRedis, startRedis, type RedisServer } from '../helpers/redis.js';

let dir: string;
let stack: AssetsStack;
let redis: RedisServer | undefined;

beforeAll(async () => {
  if (!hasPrometheus()) return;
  dir = mkdtempSync(join(tmpdir(), 'otelkit-assets-prom-'));
  writeFileSync(
    join(dir, 'otel.config.mjs'),
    "export default { slos: [{ name: 'checkout', route: '/checkout', objective: 0.99, " +
      'latency: { threshold: 0.05, objective: 0.9 } }] };\n',
  );
  if (hasRedis()) redis = await startRedis();
  stack = await startAssetsStack({
    dir,
    job: 'shop',
    cliArgs: ['--config', 'otel.config.mjs'],
    appEnv: redis ? { REDIS_PORT: String(redis.port) } : {},
  });
  if (redis) {
    // BullMQ's series, through the jobs-by-state panel (its max-over-instances branch), delayed jobs included.
    const jobsByState = stack.checks.find((c) => c.what.includes('"Jobs by state"'))!;
    const bullmq = (state: string) =>
      `(${jobsByState.promql}) * on (messaging_system, queue_job_state) group_left () ` +
      'label_replace(label_replace(vector(1), "messaging_system", "bullmq", "", ""), ' +
      `"queue_job_state", "${state}", "", "")`;
    for (const state of ['waiting', 'active', 'delayed', 'completed'])
      stack.checks.push({
        what: `BullMQ ${state} jobs`,
        promql: bullmq(state),
        labels: ['messaging_destination_name'],
      });
  }
}, 120_000);

afterAll(async () => {
  await stopAllPrometheus();
  await stopAll();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasPrometheus())('dashboards and rules against a real Prometheus and app', () => {
  it('every panel query, variable query and recording rule returns data', { timeout: 120_000 }, async () => {
    const { checks } = stack;
    expect(checks.filter((c) => c.what.includes('.json "')).length).toBeGreaterThanOrEqual(50);
    expect(checks.filter((c) => c.what.includes('.rules.yml')).length).toBeGreaterThanOrEqual(30);
    const missing = await checksWithoutData(stack.prometheus, checks, 100_000);
    expect(missing, `no data; app output:\n${stack.app.describe().slice(-2000)}`).toEqual([]);
  });
});
