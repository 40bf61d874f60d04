/**
 * The "Timed tasks" row of the job-queues dashboard (timed(), measure(),
 * instrumentTask()), per task name: runs by outcome, error ratio, duration
 * p50/p95/p99, runs in progress and time since the last success. In the queues
 * dashboard because workers and scheduled jobs are watched together: both are
 * background work, often in the same worker service, judged by failures and
 * by whether they keep finishing.
 */
import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { LABEL, PROM } from '../prometheus-names.js';
import { eq, maxBy, quantile, rate, ratioOrZero, sumBy } from '../promql.js';
import { RATE_WINDOW, q, row, scoped, timeseries } from './panels.js';

const p = PROM.task;
const task = [LABEL.taskName];
const NAME = '{{task_name}}';

const runs = (labels: string[], ...m: string[]) => sumBy([...task, ...labels], rate(scoped(p.runs, ...m), RATE_WINDOW));

export function withTaskPanels(builder: DashboardBuilder): DashboardBuilder {
  return builder
    .withRow(row('Timed tasks'))
    .withPanel(
      timeseries({
        title: 'Task runs by outcome',
        description: 'Finished runs per second, per task, by outcome (success or error).',
        unit: 'ops',
        span: 8,
        queries: [q(runs([LABEL.taskOutcome]), `${NAME} {{task_outcome}}`)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Task error ratio',
        description: 'Runs that threw or rejected / all finished runs, per task.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        span: 8,
        queries: [q(ratioOrZero(runs([], eq(LABEL.taskOutcome, 'error')), runs([])), NAME)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Tasks in progress',
        description: 'Runs started and not finished yet, per task: a run that never ends stays here.',
        unit: 'short',
        span: 8,
        queries: [q(sumBy(task, scoped(p.active)), NAME)],
      }),
    )
    .withPanel(
      timeseries({
        title: 'Task duration',
        description: 'Time a run took, start to success or error: p50, p95, p99 per task.',
        unit: 's',
        queries: [0.5, 0.95, 0.99].map((qq) =>
          q(
            quantile(qq, sumBy([...task, 'le'], rate(scoped(`${p.duration}_bucket`), RATE_WINDOW))),
            `${NAME} p${qq * 100}`,
          ),
        ),
      }),
    )
    .withPanel(
      timeseries({
        title: 'Time since last success',
        description:
          'Per task, since its last successful run on any instance; before a first success in a process, ' +
          'since otelkit started watching the task there.',
        unit: 's',
        queries: [q(`time() - ${maxBy(task, scoped(p.lastSuccess))}`, NAME)],
      }),
    );
}
