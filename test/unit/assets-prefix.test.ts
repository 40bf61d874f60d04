// The Prometheus prefix in generated PromQL: exact otelkit names in metric position
// get `<prefix>_`; label names (circuit_breaker_state is both), strings, Grafana
// variables, recording-rule names, target_info and up do not. Every shipped panel
// query and every generated rule, prefixed, names no unprefixed otelkit series.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prefixDashboard } from '../../assets/dashboard-prefix.js';
import { metricTokens, prefixMetrics, renameMetrics } from '../../assets/prefix.js';
import { ruleFiles } from '../../assets/rules/index.js';
import { SERIES_NAMES, WITHOUT_UNIT_SUFFIXES } from '../../assets/series-names.js';
import { parseArgs } from '../../assets/cli/args.js';
import { defaultAlerts } from '../../src/config/alerts.js';

const root = join(import.meta.dirname, '..', '..');
const dashboardsDir = join(root, 'monitoring/dashboards');
const SLOS = [
  { name: 'checkout', route: '/checkout', objective: 0.999, latency: { threshold: 0.25, objective: 0.99 } },
];

interface Panel {
  targets?: { expr: string }[];
  panels?: Panel[];
}
const exprsOf = (panels: Panel[] = []): string[] =>
  panels.flatMap((p) => [...(p.targets ?? []).map((t) => t.expr), ...exprsOf(p.panels)]);

describe('prefixMetrics', () => {
  it('prefixes metric names only, not the label of the same name', () => {
    expect(
      prefixMetrics(
        'max by (circuit_breaker_name) (circuit_breaker_state_current{circuit_breaker_state="open"}) == 1',
        'myapp',
      ),
    ).toBe('max by (circuit_breaker_name) (myapp_circuit_breaker_state_current{circuit_breaker_state="open"}) == 1');
    expect(prefixMetrics('max by (circuit_breaker_state) (circuit_breaker_state{job=~"$job"})', 'myapp')).toBe(
      'max by (circuit_breaker_state) (myapp_circuit_breaker_state{job=~"$job"})',
    );
  });

  it('prefixes histogram series and names after offset, and leaves the rest', () => {
    expect(
      prefixMetrics(
        'histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket[$__rate_interval])))',
        'app',
      ),
    ).toBe(
      'histogram_quantile(0.99, sum by (le) (rate(app_http_server_request_duration_seconds_bucket[$__rate_interval])))',
    );
    expect(prefixMetrics('process_uptime_seconds offset 1h > 0 and on (job) up == 1', 'app')).toBe(
      'app_process_uptime_seconds offset 1h > 0 and on (job) up == 1',
    );
    const untouched = [
      'target_info{service_name="cache_gets_total"}',
      'job_route:http_server_requests:rate5m > 1',
      'sum without (cache_gets_total) (x)',
      'http_server_request_duration_seconds_total', // not an otelkit series
    ];
    for (const expr of untouched) expect(prefixMetrics(expr, 'app')).toBe(expr);
  });

  it('leaves everything as it is without a prefix', () => {
    const json = readFileSync(join(dashboardsDir, 'otelkit-service.json'), 'utf8');
    expect(prefixDashboard(json, undefined)).toBe(json);
    expect(prefixMetrics('cache_gets_total', '')).toBe('cache_gets_total');
  });
});

describe('prefixed assets', () => {
  const unprefixed = (expr: string) => metricTokens(expr).filter((t) => SERIES_NAMES.has(t.name));

  it('every panel query of every shipped dashboard', () => {
    const files = readdirSync(dashboardsDir);
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      const json = readFileSync(join(dashboardsDir, file), 'utf8');
      const before = exprsOf(JSON.parse(json).panels);
      const after = exprsOf(JSON.parse(prefixDashboard(json, 'myapp')).panels);
      expect(after.length, file).toBe(before.length);
      after.forEach((expr, i) => {
        expect(unprefixed(expr), `${file}: ${expr}`).toEqual([]);
        expect(expr.split('myapp_').length - 1, expr).toBe(unprefixed(before[i]!).length);
        expect(unprefixed(before[i]!).length, before[i]).toBeGreaterThan(0);
      });
    }
  });

  it('every rule expression, SLOs included', () => {
    const plain = ruleFiles({ alerts: defaultAlerts(), slos: SLOS });
    const prefixed = ruleFiles({ alerts: defaultAlerts(), slos: SLOS, prefix: 'myapp' });
    const exprs = (files: typeof plain) =>
      Object.values(files).flatMap((f) => f.groups.flatMap((g) => g.rules.map((r) => r.expr)));
    const before = exprs(plain);
    const after = exprs(prefixed);
    expect(after.length).toBe(before.length);
    after.forEach((expr, i) => {
      expect(unprefixed(expr), expr).toEqual([]);
      expect(expr.split('myapp_').length - 1, expr).toBe(unprefixed(before[i]!).length);
    });
    // Most rules read otelkit series; the rest read recording rules, target_info or up.
    expect(before.filter((e) => unprefixed(e).length > 0).length).toBeGreaterThan(20);
  });
});

describe('unit suffixes off (prometheus.unitSuffixes: false)', () => {
  it('drops the unit word from every otelkit name, keeps _total and the histogram series, composes with a prefix', () => {
    const expr =
      'histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket[5m]))) ' +
      '/ rate(process_cpu_time_seconds_total[5m]) + nodejs_eventloop_utilization_ratio + cache_gets_total';
    expect(renameMetrics(expr, { unitSuffixes: false })).toBe(
      'histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_bucket[5m]))) ' +
        '/ rate(process_cpu_time_total[5m]) + nodejs_eventloop_utilization + cache_gets_total',
    );
    expect(renameMetrics('v8js_memory_heap_used_bytes', { prefix: 'app', unitSuffixes: false })).toBe(
      'app_v8js_memory_heap_used',
    );
    expect(renameMetrics(expr, { unitSuffixes: true })).toBe(expr);
  });

  it('every default series has a name without suffixes, and the dashboards and rules use only those', () => {
    expect([...SERIES_NAMES].every((name) => WITHOUT_UNIT_SUFFIXES.has(name))).toBe(true);
    const renamed = new Set(WITHOUT_UNIT_SUFFIXES.values());
    const leftovers = (expr: string) =>
      metricTokens(expr).filter((t) => SERIES_NAMES.has(t.name) && !renamed.has(t.name));
    for (const file of readdirSync(dashboardsDir)) {
      const json = readFileSync(join(dashboardsDir, file), 'utf8');
      for (const expr of exprsOf(JSON.parse(prefixDashboard(json, { unitSuffixes: false })).panels))
        expect(leftovers(expr), `${file}: ${expr}`).toEqual([]);
    }
    const rules = ruleFiles({ alerts: defaultAlerts(), slos: SLOS, unitSuffixes: false });
    for (const file of Object.values(rules))
      for (const group of file.groups)
        for (const rule of group.rules) expect(leftovers(rule.expr), rule.expr).toEqual([]);
  });

  it('the CLI takes --unit-suffixes false, and says what it accepts', () => {
    expect(parseArgs(['assets', '--out', 'x', '--unit-suffixes', 'false'])).toMatchObject({ unitSuffixes: false });
    expect(parseArgs(['assets', '--out', 'x'])).not.toHaveProperty('unitSuffixes');
    expect(() => parseArgs(['assets', '--out', 'x', '--unit-suffixes=maybe'])).toThrow(/--unit-suffixes "maybe"/);
  });
});
