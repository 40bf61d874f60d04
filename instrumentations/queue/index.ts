/**
 * instrumentQueue(): job queues as `messaging.*` and `queue.*` metrics, for
 * - BullMQ: a Worker (its events: jobs consumed, attempts by outcome, processing
 *   and wait durations), a Queue (jobs by state, from `getJobCounts()` at
 *   collection), or both as `{ queue, worker }` (bullmq.ts);
 * - p-queue: each task timed through a wrapped `add()`, `size` and `pending` (p-queue.ts);
 * - anything else: `size` / `pending` functions in the options, and the handle's
 *   `wrap(fn)` (each call is a job) or `jobStarted()` / `jobFinished()` calls.
 * Same contract as the cache, limiter and breaker instrumentations (shared/targets.ts).
 */
import { warnOnce } from '../../src/log.js';
import { noopInstrumentation, type Instrumentation } from '../../src/instrumentation.js';
import { readNumber, type NumberSource, type Unhook } from '../shared/targets.js';
import { bullmqCounts, detectBullMQ, hookWorker, type BullMQKind } from './bullmq.js';
import { JobCountsSource, type JobCountsReader } from './job-counts.js';
import { hookPQueue, isPQueue, pQueueCounts } from './p-queue.js';
import { queueFamily, recordFor, type JobOutcome, type QueueRecord } from './record.js';
import { runJob } from './run-job.js';

export type { JobOutcome } from './record.js';
export type QueueKind = BullMQKind | 'p-queue' | 'generic';

export interface QueueInstrumentationOptions {
  /** Reported as `messaging.destination.name`. Default for BullMQ: the queue's name; required for the others. */
  name?: string;
  /** Skip detection. */
  kind?: QueueKind;
  /** `messaging.system` of a generic queue (default `custom`); BullMQ is `bullmq`, p-queue `p-queue`. */
  system?: string;
  /** Generic queues: jobs waiting, read at collection. */
  size?: NumberSource;
  /** Generic queues: jobs running (default: calls of `wrap()`ped functions in progress, once `wrap()` was used). */
  pending?: NumberSource;
  /** BullMQ Queue: how long one `getJobCounts()` may take at collection before the counts are left out, ms. */
  jobCountsTimeoutMs?: number;
}

/** What instrumentQueue returns. The reporting methods work for every kind; they are meant for generic queues. */
export interface QueueInstrumentation extends Instrumentation {
  /** A function that reports each of its calls as one job: start, outcome (completed or failed), duration. */
  wrap<F extends (...args: never[]) => unknown>(fn: F): F;
  /** Reports a job (attempt) that started, after waiting `waitSeconds` in the queue when known. */
  jobStarted(waitSeconds?: number): void;
  /** Reports how a job attempt ended, how long it ran when known, and the error of a failure (its `error.type`). */
  jobFinished(outcome: JobOutcome, durationSeconds?: number, error?: unknown): void;
}

export const DEFAULT_JOB_COUNTS_TIMEOUT_MS = 2000;
const OUTCOMES: readonly JobOutcome[] = ['completed', 'failed', 'retried', 'stalled'];

type Target = Record<string, unknown>;
type Fn = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Reports the jobs of `queue` (a BullMQ Queue or Worker, `{ queue, worker }`, a
 * p-queue, or any object with `options.size` / `pending`) as `queue.*` and
 * `messaging.*` metrics, with `messaging.destination.name = options.name`. A generic
 * queue can also be described by the options alone: `instrumentQueue({ name, size })`.
 *
 * The same object instrumented twice returns the first handle; targets with the
 * same system and name report as one queue. `dispose()` removes listeners and
 * wrappers. A no-op when otelkit is disabled.
 */
export function instrumentQueue(queue: object, options?: QueueInstrumentationOptions): QueueInstrumentation {
  const opts = options ?? (isPlainObject(queue) ? (queue as QueueInstrumentationOptions) : {});
  const parts = isPlainObject(queue) ? bullmqParts(queue as Target) : undefined;
  if (parts) {
    const handles = parts.map((part) => instrumentOne(part, opts));
    return {
      ...handles[0]!,
      dispose: () => {
        for (const h of handles) h.dispose();
      },
    };
  }
  return instrumentOne(queue, opts);
}

/** `{ queue, worker }` with at least one BullMQ object in it. */
function bullmqParts(t: Target): object[] | undefined {
  const parts = [t.queue, t.worker].filter((p): p is object => isObject(p) && detectBullMQ(p as Target) !== undefined);
  return parts.length > 0 ? parts : undefined;
}

function instrumentOne(target: object, options: QueueInstrumentationOptions): QueueInstrumentation {
  const t = target as Target;
  const kind = isObject(target) ? (options.kind ?? detectQueueKind(t)) : 'generic';
  const bullmq = kind === 'bullmq-queue' || kind === 'bullmq-worker';
  const name = options.name ?? (bullmq && typeof t.name === 'string' ? t.name : undefined);
  const system = bullmq ? 'bullmq' : kind === 'p-queue' ? 'p-queue' : textOr(options.system, 'custom');
  return queueFamily.instrument(
    target,
    name,
    (_target, queueName, _previous, unhooks) => {
      const record = recordFor(system, queueName);
      build(kind, t, record, options, unhooks);
      return { record, unhooks };
    },
    (base, record) => (record ? handle(base, record) : noopHandle),
  );
}

function detectQueueKind(t: Target): QueueKind {
  return detectBullMQ(t) ?? (isPQueue(t) ? 'p-queue' : 'generic');
}

function build(kind: QueueKind, t: Target, r: QueueRecord, options: QueueInstrumentationOptions, unhooks: Unhook[]) {
  switch (kind) {
    case 'bullmq-worker':
      hookWorker(t, r, unhooks);
      return;
    case 'bullmq-queue':
      return addCounts(r, bullmqCounts(t), timeoutOf(options), unhooks);
    case 'p-queue':
      hookPQueue(t, r, unhooks);
      return addCounts(r, pQueueCounts(t), 0, unhooks);
    default: {
      const { size, pending } = options;
      const active = () => (pending !== undefined ? readNumber(pending) : r.wrapped ? r.inFlight : undefined);
      return addCounts(r, () => ({ waiting: readNumber(size), active: active() }), 0, unhooks);
    }
  }
}

function addCounts(r: QueueRecord, read: JobCountsReader, timeoutMs: number, unhooks: Unhook[]): void {
  const source = new JobCountsSource({ queue: r.name, read, timeoutMs });
  r.counts.push(source);
  unhooks.push(() => {
    const i = r.counts.indexOf(source);
    if (i >= 0) r.counts.splice(i, 1);
  });
}

function timeoutOf(options: QueueInstrumentationOptions): number {
  const ms = options.jobCountsTimeoutMs;
  if (ms === undefined) return DEFAULT_JOB_COUNTS_TIMEOUT_MS;
  if (typeof ms === 'number' && Number.isFinite(ms) && ms > 0) return ms;
  warnOnce(
    'queue-timeout',
    `instrumentQueue: jobCountsTimeoutMs=${String(ms)} is invalid: expected a number of ms > 0; ` +
      `using ${DEFAULT_JOB_COUNTS_TIMEOUT_MS}`,
  );
  return DEFAULT_JOB_COUNTS_TIMEOUT_MS;
}

function handle(base: Instrumentation, r: QueueRecord): QueueInstrumentation {
  let live = true;
  return {
    dispose() {
      live = false;
      base.dispose();
    },
    wrap<F extends (...args: never[]) => unknown>(fn: F): F {
      if (typeof fn !== 'function') return fn;
      r.wrapped = true;
      const wrapped = function (this: unknown) {
        return live
          ? runJob(r, fn as unknown as Fn, this, arguments)
          : (fn as unknown as Fn).apply(this, arguments as unknown as unknown[]);
      };
      Object.defineProperty(wrapped, 'name', { value: fn.name, configurable: true });
      return wrapped as unknown as F;
    },
    jobStarted(waitSeconds?: number) {
      if (live) r.started(typeof waitSeconds === 'number' ? waitSeconds : undefined);
    },
    jobFinished(outcome: JobOutcome, durationSeconds?: number, error?: unknown) {
      if (live && OUTCOMES.includes(outcome))
        r.ended(outcome, typeof durationSeconds === 'number' ? durationSeconds : undefined, error);
    },
  };
}

const noopHandle: QueueInstrumentation = Object.freeze({
  dispose: noopInstrumentation.dispose,
  wrap: <F>(fn: F): F => fn,
  jobStarted() {},
  jobFinished() {},
});

function isObject(v: unknown): v is object {
  return (typeof v === 'object' || typeof v === 'function') && v !== null;
}

function isPlainObject(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function textOr(v: unknown, fallback: string): string {
  return typeof v === 'string' && v !== '' ? v : fallback;
}
