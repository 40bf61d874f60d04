// The generated Prometheus files, checked by promtool: every rule file and config
// is valid (`promtool check rules` / `check config`), and every alert, SLO burn-rate
// alerts included, has a `promtool test rules` case where one series fires it and
// another, beside it, must not.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { assetFiles } from '../../assets/files.js';
import { defaultAlerts } from '../../src/config/alerts.js';
import type { SloConfig } from '../../src/config/types.js';
import { PROMTOOL, hasPromtool } from '../helpers/prometheus.js';
import { QUEUE_CASES } from '../helpers/queue-alert-cases.js';
import { TASK_CASES } from '../helpers/task-alert-cases.js';

const root = join(import.meta.dirname, '..', '..');
const SLOS: SloConfig[] = [
  { name: 'checkout', route: '/checkout', objective: 0.999, latency: { threshold: 0.25, objective: 0.99 } },
  { name: 'search', route: '/search', objective: 0.999, latency: { threshold: 0.25, objective: 0.99 } },
];
const files = assetFiles({
  alerts: defaultAlerts(),
  slos: SLOS,
  target: 'app:9464',
  job: 'shop',
  prometheusUrl: 'http://prometheus:9090',
});
const ruleFileNames = Object.keys(files).filter((f) => f.startsWith('rules/'));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'otelkit-rules-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const promtool = (...args: string[]) => spawnSync(PROMTOOL!, args, { cwd: dir, encoding: 'utf8', timeout: 120_000 });
/** `promtool test rules` evaluates every rule each minute of every case: minutes of CPU on a starved machine. */
const promtoolTest = (file: string) =>
  spawnSync(PROMTOOL!, ['test', 'rules', file], { cwd: dir, encoding: 'utf8', timeout: 150_000 });

// ---------------------------------------------------------------------------------------------
// promtool test rules cases: series over time (promtool's `a+bxN` notation, one value a minute)

const at = (labels: Record<string, string>) =>
  `{${Object.entries({ job: 'shop', instance: 'app:9464', ...labels })
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ')}}`;
const series = (name: string, labels: Record<string, string>, values: string) => ({
  series: `${name}${at(labels)}`,
  values,
});
const http = 'http_server_request_duration_seconds';
const route = (r: string, status: string) => ({ http_route: r, http_response_status_code: status });
const bucket = (r: string, status: string, le: string, values: string) =>
  series(`${http}_bucket`, { ...route(r, status), le }, values);

interface Case {
  alert: string;
  evalTime: string;
  input: { series: string; values: string }[];
  /** Labels of each alert expected firing; the other series in `input` must not fire. */
  fires: Record<string, string>[];
}

const job = { job: 'shop' };
const inst = { job: 'shop', instance: 'app:9464' };
const CASES: Case[] = [
  {
    alert: 'OtelkitHttpRouteErrorRatioHigh',
    evalTime: '20m',
    input: [
      series(`${http}_count`, route('/checkout', '200'), '0+90x30'),
      series(`${http}_count`, route('/checkout', '500'), '0+10x30'), // 10% 5xx
      series(`${http}_count`, route('/ok', '200'), '0+99x30'),
      series(`${http}_count`, route('/ok', '503'), '0+1x30'), // 1%
    ],
    fires: [{ severity: 'warning', ...job, http_route: '/checkout' }],
  },
  {
    alert: 'OtelkitHttpRouteLatencyHigh',
    evalTime: '20m',
    input: [
      ...['0.5', '1'].map((le) => bucket('/slow', '200', le, '0x30')),
      ...['2.5', '+Inf'].map((le) => bucket('/slow', '200', le, '0+10x30')), // all between 1 and 2.5 s
      ...['0.1', '1', '2.5', '+Inf'].map((le) => bucket('/fast', '200', le, '0+10x30')), // all under 0.1 s
    ],
    fires: [{ severity: 'warning', ...job, http_route: '/slow', quantile: '0.99' }],
  },
  {
    alert: 'OtelkitEventLoopDelayHigh',
    evalTime: '10m',
    input: [
      series('nodejs_eventloop_delay_p99_seconds', { instance: 'a:1' }, '0.5x15'),
      series('nodejs_eventloop_delay_p99_seconds', { instance: 'b:1' }, '0.011x15'),
    ],
    fires: [{ severity: 'warning', job: 'shop', instance: 'a:1' }],
  },
  {
    alert: 'OtelkitHeapGrowing',
    evalTime: '4h',
    input: [
      // a: the floor rises 1 MB a minute; b: a sawtooth whose floor stays at 100 MB.
      series(
        'v8js_memory_heap_used_bytes',
        { instance: 'a:1', v8js_heap_space_name: 'old_space' },
        '100000000+1000000x300',
      ),
      series(
        'v8js_memory_heap_used_bytes',
        { instance: 'b:1', v8js_heap_space_name: 'old_space' },
        Array.from({ length: 300 }, (_, i) => 100_000_000 + (i % 10) * 5_000_000).join(' '),
      ),
    ],
    fires: [{ severity: 'warning', job: 'shop', instance: 'a:1' }],
  },
  {
    alert: 'OtelkitProcessRestarting',
    evalTime: '10m',
    input: [
      series('process_uptime_seconds', { instance: 'a:1' }, '0 60 120 0 60 120 0 60 120 0 60'), // 3 restarts
      series('process_uptime_seconds', { instance: 'b:1' }, '0+60x10'),
    ],
    fires: [{ severity: 'warning', job: 'shop', instance: 'a:1' }],
  },
  {
    alert: 'OtelkitTargetDown',
    evalTime: '8m',
    input: [
      series('up', { instance: 'a:1' }, '1 1 1 0 0 0 0 0 0'),
      series('target_info', { instance: 'a:1', service_name: 'shop' }, '1 1 1'),
      series('up', { instance: 'b:1' }, '0x8'), // down, but never an otelkit target
      series('up', { instance: 'c:1' }, '1x8'),
      series('target_info', { instance: 'c:1', service_name: 'shop' }, '1x8'),
    ],
    fires: [{ severity: 'critical', job: 'shop', instance: 'a:1' }],
  },
  {
    alert: 'OtelkitCircuitBreakerOpen',
    evalTime: '6m',
    input: [
      series(
        'circuit_breaker_state_current',
        { circuit_breaker_name: 'payments', circuit_breaker_state: 'open' },
        '0 0 1 1 1 1 1',
      ),
      series('circuit_breaker_state_current', { circuit_breaker_name: 'search', circuit_breaker_state: 'open' }, '0x6'),
      series(
        'circuit_breaker_state_current',
        { circuit_breaker_name: 'search', circuit_breaker_state: 'closed' },
        '1x6',
      ),
    ],
    fires: [{ severity: 'warning', ...inst, circuit_breaker_name: 'payments' }],
  },
  {
    alert: 'OtelkitCircuitBreakerFlapping',
    evalTime: '7m',
    input: [
      series(
        'circuit_breaker_transitions_total',
        { circuit_breaker_name: 'payments', circuit_breaker_from_state: 'half_open', circuit_breaker_to_state: 'open' },
        '0 1 1 2 2 3 3 3',
      ),
      series(
        'circuit_breaker_transitions_total',
        { circuit_breaker_name: 'search', circuit_breaker_from_state: 'closed', circuit_breaker_to_state: 'open' },
        '0 1 1 1 1 1 1 1',
      ),
    ],
    fires: [{ severity: 'warning', ...inst, circuit_breaker_name: 'payments' }],
  },
  {
    alert: 'OtelkitRateLimiterRejecting',
    evalTime: '20m',
    input: [
      series(
        'rate_limiter_acquisitions_total',
        { rate_limiter_name: 'payments', rate_limiter_result: 'rejected' },
        '0+20x30',
      ),
      series(
        'rate_limiter_acquisitions_total',
        { rate_limiter_name: 'payments', rate_limiter_result: 'acquired' },
        '0+80x30',
      ),
      series(
        'rate_limiter_acquisitions_total',
        { rate_limiter_name: 'search', rate_limiter_result: 'rejected' },
        '0+1x30',
      ),
      series(
        'rate_limiter_acquisitions_total',
        { rate_limiter_name: 'search', rate_limiter_result: 'acquired' },
        '0+99x30',
      ),
    ],
    fires: [{ severity: 'warning', ...job, rate_limiter_name: 'payments' }],
  },
  {
    alert: 'OtelkitCacheHitRatioDropped',
    evalTime: '150m',
    input: [
      // users: 90% hits for 100 minutes, then 10%; sessions: 90% throughout.
      series('cache_gets_total', { cache_name: 'users', cache_result: 'hit' }, '0+90x100 9010+10x60'),
      series('cache_gets_total', { cache_name: 'users', cache_result: 'miss' }, '0+10x100 1090+90x60'),
      series('cache_gets_total', { cache_name: 'sessions', cache_result: 'hit' }, '0+90x160'),
      series('cache_gets_total', { cache_name: 'sessions', cache_result: 'miss' }, '0+10x160'),
    ],
    fires: [{ severity: 'warning', ...job, cache_name: 'users' }],
  },
  ...QUEUE_CASES,
  ...TASK_CASES,
  {
    alert: 'OtelkitWebSocketClosesFailing',
    evalTime: '20m',
    input: [
      // chat: 30% of closes abnormal or in error; feed: 2%.
      series(
        'websocket_server_connections_closed_total',
        { websocket_server_name: 'chat', websocket_close_class: 'normal' },
        '0+70x30',
      ),
      series(
        'websocket_server_connections_closed_total',
        { websocket_server_name: 'chat', websocket_close_class: 'abnormal' },
        '0+20x30',
      ),
      series(
        'websocket_server_connections_closed_total',
        { websocket_server_name: 'chat', websocket_close_class: 'error' },
        '0+10x30',
      ),
      series(
        'websocket_server_connections_closed_total',
        { websocket_server_name: 'feed', websocket_close_class: 'normal' },
        '0+98x30',
      ),
      series(
        'websocket_server_connections_closed_total',
        { websocket_server_name: 'feed', websocket_close_class: 'abnormal' },
        '0+2x30',
      ),
    ],
    fires: [{ severity: 'warning', ...job, websocket_server_name: 'chat' }],
  },
  {
    alert: 'OtelkitSessionStoreErrors',
    evalTime: '20m',
    input: [
      // web: 6 failed gets a minute (0.1/s); admin: none.
      series('session_store_errors_total', { session_source_name: 'web', session_store_operation: 'get' }, '0+6x30'),
      series('session_store_errors_total', { session_source_name: 'admin', session_store_operation: 'get' }, '0x30'),
    ],
    fires: [{ severity: 'warning', ...job, session_source_name: 'web' }],
  },
  ...(['OtelkitSloErrorBudgetFastBurn', 'OtelkitSloErrorBudgetSlowBurn'] as const).map(
    (alert): Case => ({
      alert,
      evalTime: '65m',
      input: [
        // checkout: 5% 5xx and half the requests slower than 0.25 s; search: 0.05% and 0.2%, within budget.
        series(`${http}_count`, route('/checkout', '200'), '0+95x70'),
        series(`${http}_count`, route('/checkout', '500'), '0+5x70'),
        bucket('/checkout', '200', '0.25', '0+50x70'),
        bucket('/checkout', '500', '0.25', '0x70'),
        series(`${http}_count`, route('/search', '200'), '0+1999x70'),
        series(`${http}_count`, route('/search', '500'), '0+1x70'),
        bucket('/search', '200', '0.25', '0+1995x70'),
        bucket('/search', '500', '0.25', '0+1x70'),
      ],
      fires: ['availability', 'latency'].map((sli) => ({
        severity: alert.includes('Fast') ? 'critical' : 'warning',
        slo: 'checkout',
        sli,
        job: 'shop',
      })),
    }),
  ),
];

/** The alert names of the generated files. */
const alertNames = ruleFileNames.flatMap((f) =>
  (parse(files[f]!) as { groups: { rules: { alert?: string }[] }[] }).groups.flatMap((g) =>
    g.rules.flatMap((r) => (r.alert ? [r.alert] : [])),
  ),
);

describe.skipIf(!hasPromtool())('generated Prometheus files (promtool)', () => {
  it.each(ruleFileNames)('%s: promtool check rules', (file) => {
    const r = promtool('check', 'rules', file);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('prometheus.yml (with its rules) and examples/monitoring/prometheus.yml: promtool check config', () => {
    const r = promtool('check', 'config', 'prometheus.yml');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${ruleFileNames.length} rule files found`);
    const example = join(dir, 'example');
    mkdirSync(example);
    cpSync(join(root, 'examples/monitoring/prometheus.yml'), join(example, 'prometheus.yml'));
    cpSync(join(root, 'monitoring/rules'), join(example, 'rules'), { recursive: true });
    const e = promtool('check', 'config', 'example/prometheus.yml');
    expect(e.status, e.stdout + e.stderr).toBe(0);
  });

  it('prometheus-kubernetes.yml: promtool check config (pod discovery swapped for a static target)', () => {
    // Debian's Prometheus is built without Kubernetes discovery, so the same job with a static target is checked.
    const config = parse(files['prometheus-kubernetes.yml']!);
    const [job] = config.scrape_configs;
    expect(job.kubernetes_sd_configs).toEqual([{ role: 'pod' }]);
    delete job.kubernetes_sd_configs;
    job.static_configs = [{ targets: ['127.0.0.1:9464'] }];
    writeFileSync(join(dir, 'k8s-static.yml'), stringify(config));
    const r = promtool('check', 'config', 'k8s-static.yml');
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('every alert has a promtool test case', () => {
    expect(new Set(CASES.map((c) => c.alert))).toEqual(new Set(alertNames));
    for (const c of CASES) expect(c.fires.length, c.alert).toBeGreaterThan(0);
  });

  it('promtool test rules: each alert fires for its series and not for the one beside it', { timeout: 180_000 }, () => {
    // The annotations (templates over $value) are checked by check rules above; the cases test the expressions.
    const testRules = ruleFileNames.map((f) => {
      const file = parse(files[f]!) as { groups: { rules: { annotations?: unknown }[] }[] };
      for (const g of file.groups) for (const r of g.rules) delete r.annotations;
      const name = `test-${f.replace('rules/', '')}`;
      writeFileSync(join(dir, name), stringify(file));
      return name;
    });
    const tests = {
      rule_files: testRules,
      evaluation_interval: '1m',
      tests: CASES.map((c) => ({
        name: c.alert,
        interval: '1m',
        input_series: c.input,
        alert_rule_test: [
          { eval_time: c.evalTime, alertname: c.alert, exp_alerts: c.fires.map((l) => ({ exp_labels: l })) },
        ],
      })),
    };
    writeFileSync(join(dir, 'tests.yml'), stringify(tests));
    const r = promtoolTest('tests.yml');
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
