// promtool test rules cases for the timed-task alerts (test/e2e/assets-rules.test.ts
// runs them with the others): one value a minute, job="shop" and instance="app:9464"
// unless a case says otherwise. promtool's time() is the evaluation time from 0.
import type { AlertCase } from './queue-alert-cases.js';

const series = (name: string, labels: Record<string, string>, values: string) => ({
  series: `${name}{${Object.entries({ job: 'shop', instance: 'app:9464', ...labels })
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ')}}`,
  values,
});
const runs = (task: string, outcome: string, values: string) =>
  series('task_runs_total', { task_name: task, task_outcome: outcome }, values);
const lastSuccess = (task: string, instance: string, values: string) =>
  series('task_last_success_timestamp_seconds', { task_name: task, instance }, values);

export const TASK_CASES: AlertCase[] = [
  {
    alert: 'OtelkitTaskNotSucceeding',
    evalTime: '3h',
    input: [
      lastSuccess('nightly-report', 'a:1', '0x190'), // last success at 0: 3 h ago
      lastSuccess('cache-refresh', 'a:1', '0+60x190'), // succeeds every minute
      // Runs on one instance (b:1) only: a:1's stale value must not make it fire.
      lastSuccess('cleanup', 'a:1', '0x190'),
      lastSuccess('cleanup', 'b:1', '0+60x190'),
    ],
    fires: [{ severity: 'warning', job: 'shop', task_name: 'nightly-report' }],
  },
  {
    alert: 'OtelkitTaskErrorRatioHigh',
    evalTime: '45m',
    input: [
      runs('sync', 'success', '0+8x50'),
      runs('sync', 'error', '0+2x50'), // 20% of runs fail
      runs('cleanup', 'success', '0+99x50'),
      runs('cleanup', 'error', '0+1x50'), // 1%
      runs('warmup', 'success', '0+5x50'), // never an error series
    ],
    fires: [{ severity: 'warning', job: 'shop', task_name: 'sync' }],
  },
];
