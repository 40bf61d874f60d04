/**
 * Jobs by state, read once per queue per collection: from the queue's own store
 * (BullMQ: one `getJobCounts()` round trip to Redis) or from in-process numbers
 * (p-queue's `size` / `pending`, the generic adapter's functions).
 *
 * A store that answers slowly or not at all must not stall a scrape (the
 * Prometheus exporter collects without a timeout of its own): each read is bounded
 * by a timeout, after which the collection goes on without fresh job counts for
 * that queue (the SDK repeats the last value of a series it has seen).
 * While a call is still unanswered, the next collection starts no second one, so
 * a hung Redis does not pile up commands. Failures are told through diag: the
 * first at once, then at most one summary a minute, then one line when reads work
 * again. Nothing here rejects.
 */
import { diag } from '@opentelemetry/api';
import { firstLine } from '../../src/util/errors.js';
import { isThenable } from '../shared/settle.js';

export const JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'completed',
  'failed',
  'paused',
] as const;
export type JobState = (typeof JOB_STATES)[number];
export type JobCounts = Partial<Record<JobState, number>>;

/** Reads the counts: at once, or as a promise (bounded by the source's timeout). */
export type JobCountsReader = () => JobCounts | undefined | PromiseLike<JobCounts | undefined>;

const SUMMARY_EVERY_MS = 60_000;

export interface JobCountsSourceOptions {
  /** For messages: the queue's name. */
  queue: string;
  read: JobCountsReader;
  timeoutMs: number;
  now?: () => number;
  warn?: (line: string) => void;
}

export class JobCountsSource {
  private readonly queue: string;
  private readonly reader: JobCountsReader;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly warn: (line: string) => void;
  private unanswered: Promise<unknown> | undefined;
  private failing = false;
  private failedSinceLine = 0;
  private lastLineAt = 0;

  constructor(options: JobCountsSourceOptions) {
    this.queue = options.queue;
    this.reader = options.read;
    this.timeoutMs = options.timeoutMs;
    this.now = options.now ?? Date.now;
    this.warn = options.warn ?? ((line) => diag.warn(line));
  }

  /** The counts, or undefined when they cannot be had within the timeout. Never throws or rejects. */
  read(): JobCounts | undefined | Promise<JobCounts | undefined> {
    if (this.unanswered !== undefined) {
      this.failed(`the previous call has not answered yet`);
      return undefined;
    }
    let result: ReturnType<JobCountsReader>;
    try {
      result = this.reader();
    } catch (err) {
      this.failed(firstLine(err));
      return undefined;
    }
    if (!isThenable(result)) return this.succeeded(result);
    const call = Promise.resolve(result).then(
      (counts) => {
        this.unanswered = undefined;
        return this.succeeded(counts);
      },
      (err: unknown) => {
        this.unanswered = undefined;
        this.failed(firstLine(err));
        return undefined;
      },
    );
    this.unanswered = call;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.failed(`no answer within ${this.timeoutMs} ms`);
        resolve(undefined);
      }, this.timeoutMs);
      timer.unref?.();
      void call.then((counts) => {
        clearTimeout(timer);
        resolve(counts);
      });
    });
  }

  private succeeded(counts: JobCounts | undefined): JobCounts | undefined {
    if (this.failing) {
      this.failing = false;
      this.warn(`otelkit: reading the job counts of queue "${this.queue}" works again`);
    }
    return counts !== null && typeof counts === 'object' ? counts : undefined;
  }

  private failed(cause: string): void {
    this.failedSinceLine++;
    const now = this.now();
    if (!this.failing) {
      this.failing = true;
      this.warn(
        `otelkit: reading the job counts of queue "${this.queue}" failed (${cause}); ` +
          'its queue.jobs series keep their last values meanwhile. ' +
          'Further failures are summed up once a minute.',
      );
    } else if (now - this.lastLineAt >= SUMMARY_EVERY_MS) {
      this.warn(
        `otelkit: reading the job counts of queue "${this.queue}" failed ${this.failedSinceLine} times ` +
          `since the last message; last cause: ${cause}`,
      );
    } else return;
    this.lastLineAt = now;
    this.failedSinceLine = 0;
  }
}
