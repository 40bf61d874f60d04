// promtool test rules cases for the job-queue alerts (test/e2e/assets-rules.test.ts
// runs them with the others): series over time in promtool's `a+bxN` notation, one
// value a minute, job="shop" and instance="app:9464" unless a case says otherwise.

export interface AlertCase {
  alert: string;
  evalTime: string;
  input: { series: string; values: string }[];
  /** Labels of each alert expected firing; the other series in `input` must not fire. */
  fires: Record<string, string>[];
}

const series = (name: string, labels: Record<string, string>, values: string) => ({
  series: `${name}{${Object.entries({ job: 'shop', instance: 'app:9464', ...labels })
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ')}}`,
  values,
});
const job = { job: 'shop' };
const queue = (name: string, system = 'custom') => ({ messaging_system: system, messaging_destination_name: name });
const attempts = (name: string, outcome: string, values: string, errorType?: string) =>
  series(
    'queue_job_attempts_total',
    { ...queue(name), queue_job_outcome: outcome, ...(errorType ? { error_type: errorType } : {}) },
    values,
  );
const waitBucket = (name: string, le: string, values: string) =>
  series('queue_job_wait_duration_seconds_bucket', { ...queue(name), le }, values);

export const QUEUE_CASES: AlertCase[] = [
  {
    alert: 'OtelkitQueueFailureRatioHigh',
    evalTime: '20m',
    input: [
      attempts('emails', 'completed', '0+80x30'),
      attempts('emails', 'retried', '0+20x30', 'SmtpError'), // 20% of attempts fail
      attempts('thumbnails', 'completed', '0+99x30'),
      attempts('thumbnails', 'failed', '0+1x30', 'ThumbnailError'), // 1%
    ],
    fires: [{ severity: 'warning', ...job, ...queue('emails') }],
  },
  {
    alert: 'OtelkitQueueJobsStalled',
    evalTime: '10m',
    input: [
      attempts('emails', 'stalled', '0 0 0 1 1 1 1 1 1 1 1'),
      attempts('thumbnails', 'stalled', '0x10'),
      attempts('thumbnails', 'completed', '0+10x10'),
    ],
    fires: [{ severity: 'warning', ...job, ...queue('emails') }],
  },
  {
    alert: 'OtelkitQueueWaitHigh',
    evalTime: '20m',
    input: [
      waitBucket('emails', '5', '0x30'),
      ...['10', '+Inf'].map((le) => waitBucket('emails', le, '0+10x30')), // all between 5 and 10 s
      ...['0.1', '5', '10', '+Inf'].map((le) => waitBucket('thumbnails', le, '0+10x30')), // all under 0.1 s
    ],
    fires: [{ severity: 'warning', ...job, ...queue('emails'), quantile: '0.99' }],
  },
  {
    alert: 'OtelkitQueueBacklogGrowing',
    evalTime: '35m',
    input: [
      series('queue_jobs', { ...queue('emails'), queue_job_state: 'waiting' }, '0+10x40'), // 150 more in 15 min
      series('queue_jobs', { ...queue('emails'), queue_job_state: 'active' }, '0+10x40'), // not backlog
      // One BullMQ queue seen from two instances: 75 more in 15 min (not 150: Redis' counts are taken once).
      ...['a:1', 'b:1'].map((instance) =>
        series('queue_jobs', { ...queue('reports', 'bullmq'), queue_job_state: 'waiting', instance }, '0+5x40'),
      ),
      series('queue_jobs', { ...queue('reports', 'bullmq'), queue_job_state: 'prioritized' }, '0x40'),
    ],
    fires: [{ severity: 'warning', ...job, ...queue('emails') }],
  },
];
