/** Alerts on job queues: failure ratio, stalled jobs, wait p99 and a growing backlog (from the recording rules). */
import type { AlertsConfig } from '../../src/config/types.js';
import { LABEL, PROM } from '../prometheus-names.js';
import { eq, increase, sel, sumBy } from '../promql.js';
import { alertRule, percent } from './alert.js';
import { RECORD } from './recording.js';
import type { RuleGroup } from './types.js';

const queue = ['job', LABEL.queueSystem, LABEL.queueName];
const stalled = sel(PROM.queue.attempts, eq(LABEL.jobOutcome, 'stalled'));
const NAME = '{{ $labels.job }}: queue {{ $labels.messaging_destination_name }}';

export function queueAlerts(alerts: AlertsConfig): RuleGroup {
  return {
    name: 'otelkit-queues',
    rules: [
      ...alertRule(alerts, 'queueFailureRatio', {
        alert: 'OtelkitQueueFailureRatioHigh',
        severity: 'warning',
        expr: (t) => `${RECORD.queueFailureRatio} > ${t}`,
        summary: `${NAME}: {{ $value | humanizePercentage }} of job attempts fail`,
        description: (t) => `More than ${percent(t)} of the job attempts failed or were retried over 5 minutes.`,
        runbook:
          'Failures and retries by error type in the job-queues dashboard say which error class grew. A failing ' +
          'dependency of the jobs (outgoing calls, open circuit breakers), a deploy, or bad input in new jobs ' +
          'are the usual causes; retries add load on the dependency that fails.',
      }),
      ...alertRule(alerts, 'queueStalled', {
        alert: 'OtelkitQueueJobsStalled',
        severity: 'warning',
        expr: (t) => `${sumBy(queue, increase(stalled, '15m'))} >= ${t}`,
        summary: `${NAME}: {{ $value }} jobs stalled`,
        description: (t) => `${t} or more jobs of this queue stalled within 15 minutes.`,
        runbook:
          'A stalled job lost its worker: the process died (restarts, OOM kills) or its event loop was blocked ' +
          'longer than the stall interval (CPU-bound work in the job). Check the restarts and event-loop delay ' +
          'in the runtime dashboard; stalled jobs run again, so make jobs idempotent.',
      }),
      ...alertRule(alerts, 'queueWaitP99', {
        alert: 'OtelkitQueueWaitHigh',
        severity: 'warning',
        expr: (t) => `${RECORD.queueWait}{quantile="0.99"} > ${t}`,
        summary: `${NAME}: jobs wait {{ $value | humanizeDuration }} (p99) before they start`,
        description: (t) => `The 99th percentile of the time jobs wait in this queue is over ${t} s (5 minutes).`,
        runbook:
          'Workers do not keep up: more jobs than before (throughput panel), slower jobs (processing duration), ' +
          'or fewer workers or less concurrency. The p99 comes from the wait histogram: set its buckets ' +
          '(queue.job.wait.duration) to cover the waits you expect.',
      }),
      ...alertRule(alerts, 'queueBacklogGrowth', {
        alert: 'OtelkitQueueBacklogGrowing',
        severity: 'warning',
        expr: (t) => `delta(${RECORD.queueBacklog}[15m]) > ${t}`,
        summary: `${NAME}: {{ $value | humanize }} more jobs waiting than 15 minutes ago`,
        description: (t) => `The jobs waiting in this queue grew by more than ${t} within 15 minutes.`,
        runbook:
          'Jobs arrive faster than the workers finish them. Compare started and completed in the throughput ' +
          'panel, the processing duration and the failures; add workers or concurrency, or find what slowed ' +
          'the jobs down.',
      }),
    ],
  };
}
