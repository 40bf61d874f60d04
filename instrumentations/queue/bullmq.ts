/**
 * BullMQ: a Worker's own events for what happens to jobs, a Queue's `getJobCounts()`
 * for how many jobs are in each state. Nothing is polled per job: the times come
 * from the fields of the Job object an event carries (`timestamp`, `opts.delay`,
 * `processedOn`, `finishedOn`, `attemptsStarted`), set by BullMQ anyway.
 *
 * - `active` (job): one consumed message; on a job's first start, its wait:
 *   `processedOn - (timestamp + opts.delay)` (created, or delayed until). Retries and
 *   restarts after a stall have no such time in BullMQ, so they add no wait.
 * - `completed` (job): outcome `completed`, duration `finishedOn - processedOn`.
 * - `failed` (job, err): `failed` when BullMQ failed it for good (it then sets
 *   `finishedOn`), else `retried`; duration up to now; `error.type` from `err`.
 * - `stalled` (jobId): outcome `stalled`. The stalled check runs in every worker and
 *   moves each stalled job once, so across processes a stall is counted once.
 *
 * QueueEvents is not used: every process listening to it receives every event of
 * the queue (so counts summed across replicas would be multiplied), and its events
 * carry no job times.
 * BullMQ's own `telemetry.meter` option is not used either: it is a constructor
 * option, and it looks its instruments up and records with attributes per job.
 */
import type { JobCountsReader } from './job-counts.js';
import { JOB_STATES } from './job-counts.js';
import type { QueueRecord } from './record.js';
import { listen, type Unhook } from '../shared/targets.js';

export type BullMQKind = 'bullmq-queue' | 'bullmq-worker';

type Target = Record<string, unknown>;

interface JobFields {
  timestamp?: unknown;
  delay?: unknown;
  opts?: { delay?: unknown };
  processedOn?: unknown;
  finishedOn?: unknown;
  attemptsStarted?: unknown;
  attemptsMade?: unknown;
}

export function detectBullMQ(t: Target): BullMQKind | undefined {
  const fn = (key: string) => typeof t[key] === 'function';
  if (typeof t.name !== 'string' || !fn('on')) return undefined;
  if (fn('getJobCounts') && fn('add') && fn('addBulk')) return 'bullmq-queue';
  if (fn('run') && fn('isRunning') && fn('pause') && fn('resume') && 'opts' in t && !fn('add')) return 'bullmq-worker';
  return undefined;
}

/** The states to count, in one call (BullMQ runs them as one Lua script). */
export function bullmqCounts(queue: Target): JobCountsReader {
  const getJobCounts = queue.getJobCounts as (...types: string[]) => PromiseLike<Record<string, number>>;
  return () => getJobCounts.apply(queue, JOB_STATES as unknown as string[]);
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Seconds from `from` to `to` (both ms since the epoch), when both are known. */
function span(from: number | undefined, to: number | undefined): number | undefined {
  return from === undefined || to === undefined ? undefined : (to - from) / 1000;
}

export function hookWorker(worker: Target, r: QueueRecord, unhooks: Unhook[]): void {
  const on = (event: string, listener: (...args: never[]) => void) => {
    const u = listen(worker, event, listener);
    if (!u) throw new Error('cannot listen to the worker events');
    unhooks.push(u);
  };
  on('active', (job: JobFields | undefined) => {
    if (!job) return void r.started();
    const started = num(job.attemptsStarted) ?? (num(job.attemptsMade) ?? 0) + 1;
    const created = num(job.timestamp);
    // BullMQ zeroes job.delay when a delayed job becomes ready; the option keeps it.
    const delay = num(job.opts?.delay) ?? num(job.delay) ?? 0;
    const ready = created === undefined ? undefined : created + delay;
    r.started(started === 1 ? span(ready, num(job.processedOn)) : undefined);
  });
  on('completed', (job: JobFields | undefined) => {
    r.ended('completed', job ? span(num(job.processedOn), num(job.finishedOn)) : undefined);
  });
  on('failed', (job: JobFields | undefined, err: unknown) => {
    const finishedOn = job ? num(job.finishedOn) : undefined;
    const processedOn = job ? num(job.processedOn) : undefined;
    // finishedOn is set only when BullMQ failed the job for good (a retried attempt leaves it unset).
    const forGood = !job || (finishedOn !== undefined && (processedOn === undefined || finishedOn >= processedOn));
    r.ended(forGood ? 'failed' : 'retried', span(processedOn, finishedOn ?? Date.now()), err);
  });
  on('stalled', () => r.ended('stalled'));
}
