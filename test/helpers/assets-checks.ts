/**
 * The generated dashboards and rules against a real Prometheus: every dashboard panel
 * query (Grafana variables filled in), every variable query and every recording rule
 * of an `otelkit assets` output folder, polled until each returns data with the labels
 * its legend shows, or a deadline passes.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT, startChild, type Child } from './child.js';
import { startPrometheus, type PrometheusServer } from './prometheus.js';

export interface Check {
  /** Where the query comes from, for the failure message. */
  what: string;
  promql: string;
  /** Labels the result must carry: those a panel's legend shows (`{{http_route}}`). */
  labels: string[];
}

export function collectChecks(out: string, v: { service: string; job: string; instance: string }): Check[] {
  const checks: Check[] = [];
  const vars = (expr: string) =>
    expr
      .replaceAll('$__rate_interval', '30s')
      .replaceAll('$__range', '1m')
      .replaceAll('$service_name', v.service)
      .replaceAll('$job', v.job)
      .replaceAll('$instance', v.instance);
  for (const file of readdirSync(join(out, 'dashboards'))) {
    const dashboard = JSON.parse(readFileSync(join(out, 'dashboards', file), 'utf8'));
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
  for (const file of readdirSync(join(out, 'rules'))) {
    const { groups } = parse(readFileSync(join(out, 'rules', file), 'utf8'));
    for (const group of groups)
      for (const rule of group.rules)
        if (rule.record) {
          const labels = Object.entries(rule.labels ?? {}).map(([k, val]) => `${k}="${val}"`);
          checks.push({ what: `${file} ${rule.record}`, promql: `${rule.record}{${labels.join(', ')}}`, labels: [] });
        }
  }
  return checks;
}

/** The checks still without data at the deadline, each with its query and last answer. */
export async function checksWithoutData(prometheus: PrometheusServer, checks: Check[], ms: number): Promise<string[]> {
  // Poll until each has a finite value (rates need two scrapes, windows some traffic); no fixed sleep.
  let pending = [...checks];
  const last = new Map<string, string>();
  const deadline = Date.now() + ms;
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
  return pending.map((c) => `${c.what}: ${c.promql} -> ${last.get(c.what)}`);
}

export interface AssetsStack {
  /** The `otelkit assets` output folder. */
  out: string;
  app: Child;
  instance: string;
  prometheus: PrometheusServer;
  checks: Check[];
}

/**
 * In `dir`: `otelkit assets --out out` with `cliArgs` (and only `cliEnv` besides PATH
 * and HOME), then examples/monitoring/app.mjs under the preload with `appEnv` and
 * its bounded traffic, and a Prometheus scraping it every second with the rules.
 */
export async function startAssetsStack(o: {
  dir: string;
  job: string;
  cliArgs: string[];
  cliEnv?: Record<string, string>;
  appEnv?: Record<string, string>;
}): Promise<AssetsStack> {
  const cli = spawnSync(process.execPath, [join(REPO_ROOT, 'dist/cli.js'), 'assets', '--out', 'out', ...o.cliArgs], {
    cwd: o.dir,
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...o.cliEnv },
  });
  if (cli.status !== 0) throw new Error(`otelkit assets exited ${cli.status}: ${cli.stderr}`);
  const out = join(o.dir, 'out');
  const app = startChild({
    args: ['--import', 'otelkit/register', 'examples/monitoring/app.mjs'],
    env: {
      OTEL_SERVICE_NAME: 'shop',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: '0',
      PORT: '0',
      TRAFFIC: 'true',
      TRAFFIC_ROUNDS: '480', // two minutes at most
      ...o.appEnv,
    },
    maxLifetimeMs: 150_000,
  });
  const { metrics } = await app.waitForJson<{ metrics: string }>((line) => typeof line.metrics === 'string', 30_000);
  const instance = new URL(metrics).host;
  const prometheus = await startPrometheus({
    scrapeTargets: [{ url: metrics, job: o.job }],
    scrapeInterval: '1s',
    ruleFiles: readdirSync(join(out, 'rules')).map((f) => join(out, 'rules', f)),
  });
  return { out, app, instance, prometheus, checks: collectChecks(out, { service: 'shop', job: o.job, instance }) };
}
