/** Alerts on timed tasks: one that has not succeeded for too long, and one whose runs fail too often. */
import type { AlertsConfig } from '../../src/config/types.js';
import { LABEL, PROM } from '../prometheus-names.js';
import { eq, increase, maxBy, ratioOrZero, sel, sumBy } from '../promql.js';
import { alertRule, percent } from './alert.js';
import type { RuleGroup } from './types.js';

const task = ['job', LABEL.taskName];
const NAME = '{{ $labels.job }}: task {{ $labels.task_name }}';
// 30 minutes, not 5: a task may run every few minutes, and a ratio needs a few runs.
const runs = (...m: string[]) => sumBy(task, increase(sel(PROM.task.runs, ...m), '30m'));

export function taskAlerts(alerts: AlertsConfig): RuleGroup {
  return {
    name: 'otelkit-tasks',
    rules: [
      // max over instances: a scheduled task often runs on one instance (a leader) only.
      ...alertRule(alerts, 'taskNotSucceeding', {
        alert: 'OtelkitTaskNotSucceeding',
        severity: 'warning',
        expr: (t) => `time() - ${maxBy(task, PROM.task.lastSuccess)} > ${t}`,
        summary: `${NAME}: no success for {{ $value | humanizeDuration }}`,
        description: (t) => `The task has not succeeded on any instance for more than ${t} s.`,
        runbook:
          'The timed-tasks row of the job-queues dashboard shows whether the task runs and fails (runs by ' +
          'outcome, error ratio), hangs (in progress stays up) or does not run at all (no runs: its scheduler ' +
          'stopped, or the instance that runs it is down). A restart resets the clock: the gauge starts from ' +
          'when otelkit began watching the task. Set the threshold above the longest gap between two runs.',
      }),
      ...alertRule(alerts, 'taskErrorRatio', {
        alert: 'OtelkitTaskErrorRatioHigh',
        severity: 'warning',
        expr: (t) => `${ratioOrZero(runs(eq(LABEL.taskOutcome, 'error')), runs())} > ${t}`,
        summary: `${NAME}: {{ $value | humanizePercentage }} of runs fail`,
        description: (t) => `More than ${percent(t)} of the task's runs ended in an error over 30 minutes.`,
        runbook:
          'The app logs say why the runs throw; the duration panel tells failures that time out (slow, near ' +
          'a timeout) from ones that fail at once (a dependency down, bad input, a deploy). Outgoing-call ' +
          'errors and open circuit breakers in the other dashboards often point at the cause.',
      }),
    ],
  };
}
