// The generated dashboards and rules against a real Prometheus scraping a real app:
// examples/monitoring/app.mjs (Express, a cache, a rate limiter and a circuit breaker
// around an outgoing call) under its own bounded traffic, scraped every second, with
// the rules `otelkit assets` wrote evaluated every second. Every dashboard panel query
// (Grafana variables filled in), every variable query and every recording rule must
// return data, with the labels its legend shows: a panel or rule naming a metric or
// label that does not exist fails here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startChild, stopAll, type Child } from '../helpers/child.js';
import { hasPrometheus, startPrometheus, stopAllPrometheus, type PrometheusServer } from '../helpers/prometheus.js';

const root = join(import.meta.dirname, '..', '..');
const JOB = 'shop';

interface Check {
  /** Where the query comes from, for the failure message. */
  what: string;
  promql: string;
  /** Labels the result must carry: those a panel's legend shows (`{{http_route}}`). */
  labels: string[];
}

let dir: string;
let app: Child;
let instance: string;
let prometheus: PrometheusServer;
const checks: Check[] = [];

beforeAll(async () => {
  if (!hasPrometheus()) return;
  dir = mkdtempSync(join(tmpdir(), 'otelkit-assets-prom-'));
  writeFileSync(
    join(dir, 'otel.config.mjs'),
    "export default { slos: [{ name: 'checkout', route: '/checkout', objective: 0.99, " +
      'latency: { threshold: 0.05, objective: 0.9 } }] };\n',
  );
  const cli = spawnSync(
    process.execPath,
    [join(root, 'dist/cli.js'), 'assets', '--out', 'out', '--config', 'otel.config.mjs'],
    { cwd: dir, encoding: 'utf8', timeout: 30_000 },
  );
  expect(cli.status, cli.stderr).toBe(0);

  app = startChild({
    args: ['--import', 'otelkit/register', 'examples/monitoring/app.mjs'],
    env: {
      OTEL_SERVICE_NAME: 'shop',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: '0',
      PORT: '0',
      TRAFFIC: 'true',
      TRAFFIC_ROUNDS: '480', // two minutes at most
    },
    maxLifetimeMs: 150_000,
  });
  const { metrics } = await app.waitForJson<{ metrics: string }>((line) => typeof line.metrics === 'string', 30_000);
  instance = new URL(metrics).host;

  const rules = readdirSync(join(dir, 'out/rules')).map((f) => join(dir, 'out/rules', f));
  prometheus = await startPrometheus({
    scrapeTargets: [{ url: metrics, job: JOB }],
    scrapeInterval: '1s',
    ruleFiles: rules,
  });

  const vars = (expr: string) =>
    expr
      .replaceAll('$__rate_interval', '30s')
      .replaceAll('$__range', '1m')
      .replaceAll('$service_name', 'shop')
      .replaceAll('$job', JOB)
      .replaceAll('$instance', instance);
  for (const file of readdirSync(join(dir, 'out/dashboards'))) {
    const dashboard = JSON.parse(readFileSync(join(dir, 'out/dashboards', file), 'utf8'));
    for (const variable of dashboard.templating.list) {
      // label_values(<selector>, <label>): the selector must match series that carry the label.
      const m = /^label_values\((.+), (\w+)\)$/.exec(variable.definition ?? '');
      if (m)
        checks.push({
          what: `${file} variable ${variable.name}`,
          promql: `count by (${m[2]}) (${vars(m[1]!)})`,
          labels: [m[2]!],
        });
    }
    for (const panel of dashboard.panels)
      for (const target of panel.targets ?? [])
        checks.push({
          what: `${file} "${panel.title}" ${target.refId}`,
          promql: vars(target.expr),
          labels: [...target.legendFormat.matchAll(/\{\{(\w+)\}\}/g)].map((l) => l[1]!),
        });
  }
  for (const file of readdirSync(join(dir, 'out/rules'))) {
    const { groups } = parse(readFileSync(join(dir, 'out/rules', file), 'utf8'));
    for (const group of groups)
      for (const rule of group.rules)
        if (rule.record) {
          const labels = Object.entries(rule.labels ?? {}).map(([k, v]) => `${k}="${v}"`);
          checks.push({ what: `${file} ${rule.record}`, promql: `${rule.record}{${labels.join(', ')}}`, labels: [] });
        }
  }
}, 120_000);

afterAll(async () => {
  await stopAllPrometheus();
  await stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasPrometheus())('dashboards and rules against a real Prometheus and app', () => {
  it('every panel query, variable query and recording rule returns data', { timeout: 120_000 }, async () => {
    expect(checks.filter((c) => c.what.includes('.json "')).length).toBeGreaterThanOrEqual(40);
    expect(checks.filter((c) => c.what.includes('.rules.yml')).length).toBeGreaterThanOrEqual(25);
    // Poll until each has a finite value (rates need two scrapes, windows some traffic); no fixed sleep.
    let pending = [...checks];
    const last = new Map<string, string>();
    const deadline = Date.now() + 100_000;
    while (pending.length > 0 && Date.now() < deadline) {
      const results = await Promise.all(
        pending.map(async (check) => {
          try {
            const samples = await prometheus.query(check.promql);
            last.set(check.what, JSON.stringify(samples.slice(0, 3)));
            return samples.some((s) => Number.isFinite(s.value) && check.labels.every((l) => l in s.metric));
          } catch (err) {
            last.set(check.what, (err as Error).message);
            return false;
          }
        }),
      );
      pending = pending.filter((_, i) => !results[i]);
      if (pending.length > 0) await new Promise((r) => setTimeout(r, 1000));
    }
    expect(
      pending.map((c) => `${c.what}: ${c.promql} -> ${last.get(c.what)}`),
      `no data; app output:\n${app.describe().slice(-2000)}`,
    ).toEqual([]);
  });
});
