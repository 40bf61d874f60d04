/**
 * Job queues (BullMQ, p-queue, generic), by queue: jobs by state, throughput,
 * failed and retried attempts by error type, stalls, failure ratio, processing
 * duration p50/p95/p99 and wait p50/p99. A dashboard of its own rather than a row
 * of the resilience one: workers often run as services of their own, and a queue
 * is watched for its backlog and latency, not as a guard around a dependency.
 * Timed tasks (scheduled and periodic work) have their row here too (task-panels.ts).
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { LABEL, PROM } from '../prometheus-names.js';
import { eq, quantile, rate, re, sumBy } from '../promql.js';
import { jobsByState } from '../queue-queries.js';
import { withTaskPanels } from './task-panels.js';
import { DASHBOARDS, RATE_WINDOW, finish, otelkitDashboard, q, row, scoped, timeseries } from './panels.js';

const p = PROM.queue;
const queue = [LABEL.queueName];
const NAME = '{{messaging_destination_name}}';

const attempts = (labels: string[], ...m: string[]) =>
  sumBy([...queue, ...labels], rate(scoped(p.attempts, ...m), RATE_WINDOW));
const quantileOf = (qq: number, histogram: string) =>
  quantile(qq, sumBy([...queue, 'le'], rate(scoped(`${histogram}_bucket`), RATE_WINDOW)));

export function queues(): Dashboard {
  return finish(
    withTaskPanels(
      otelkitDashboard({
        ...DASHBOARDS.queues,
        description:
          'Job queues instrumented with otelkit (BullMQ, p-queue, generic), by queue name; timed tasks by task name.',
      })
        .withRow(row('Jobs'))
        .withPanel(
          timeseries({
            title: 'Jobs by state',
            description:
              'Jobs in each state. BullMQ counts are the queue in Redis, seen alike from every instance (the max); ' +
              'in-process queues add up across instances. completed/failed are the jobs Redis keeps, not totals.',
            unit: 'short',
            queries: [q(jobsByState([LABEL.jobState], scoped), `${NAME} {{queue_job_state}}`)],
          }),
        )
        .withPanel(
          timeseries({
            title: 'Throughput',
            description: 'Jobs started (each attempt) and completed per second, per queue.',
            unit: 'ops',
            queries: [
              q(sumBy(queue, rate(scoped(p.consumed), RATE_WINDOW)), `${NAME} started`),
              q(attempts([], eq(LABEL.jobOutcome, 'completed')), `${NAME} completed`),
            ],
          }),
        )
        .withPanel(
          timeseries({
            title: 'Failures and retries by error type',
            description:
              'Attempts that failed for good (failed) or will run again (retried), per second, by error class.',
            unit: 'ops',
            span: 8,
            queries: [
              q(
                attempts([LABEL.jobOutcome, LABEL.errorType], re(LABEL.jobOutcome, 'failed|retried')),
                `${NAME} {{queue_job_outcome}} {{error_type}}`,
              ),
            ],
          }),
        )
        .withPanel(
          timeseries({
            title: 'Stalled jobs',
            description: 'Jobs found stalled (their worker died or blocked its event loop) within the rate window.',
            unit: 'short',
            span: 8,
            queries: [
              q(sumBy(queue, `increase(${scoped(p.attempts, eq(LABEL.jobOutcome, 'stalled'))}[${RATE_WINDOW}])`), NAME),
            ],
          }),
        )
        .withPanel(
          timeseries({
            title: 'Failure ratio',
            description: 'Failed and retried attempts / all attempts that ended, per queue.',
            unit: 'percentunit',
            min: 0,
            max: 1,
            span: 8,
            queries: [q(`${attempts([], re(LABEL.jobOutcome, 'failed|retried'))} / ${attempts([])}`, NAME)],
          }),
        )
        .withRow(row('Durations'))
        .withPanel(
          timeseries({
            title: 'Processing duration',
            description: 'Time a job attempt took, start to completion or failure: p50, p95, p99 per queue.',
            unit: 's',
            queries: [0.5, 0.95, 0.99].map((qq) => q(quantileOf(qq, p.processDuration), `${NAME} p${qq * 100}`)),
          }),
        )
        .withPanel(
          timeseries({
            title: 'Wait duration',
            description: 'Time a job waited in the queue before it started (created or delayed until, to started).',
            unit: 's',
            queries: [0.5, 0.99].map((qq) => q(quantileOf(qq, p.waitDuration), `${NAME} p${qq * 100}`)),
          }),
        ),
    ),
  );
}
