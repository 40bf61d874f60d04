/**
 * The job-queue family: one record per queue (messaging.system + queue name), shared
 * by every target that reports for it (a BullMQ Queue and its Worker, several
 * workers of one queue in a process), so its series exist once. The hot path
 * (a job starting or ending) increments integer fields and records into in-place
 * histogram series; observable instruments read the fields at collection.
 *
 * Names: the OpenTelemetry messaging conventions where they fit
 * (`messaging.client.consumed.messages`, `messaging.process.duration`, attributes
 * `messaging.system`, `messaging.destination.name`, `messaging.operation.name`,
 * `error.type`), otelkit's own `queue.*` names where they have none (jobs by state,
 * queue wait, attempts by outcome).
 */
import {
  ValueType,
  type Attributes,
  type BatchObservableResult,
  type Meter,
  type Observable,
} from '@opentelemetry/api';
import type { OtelkitConfig } from '../../src/config/types.js';
import { InPlaceHistogram, type HistogramSeries } from '../../src/histograms/in-place-histogram.js';
import { seriesPercentile } from '../../src/stats/percentile.js';
import { QUEUE } from '../metric-names.js';
import { Family } from '../shared/targets.js';
import { isThenable } from '../shared/settle.js';
import { JOB_STATES, type JobCounts, type JobCountsSource, type JobState } from './job-counts.js';

/** How an attempt at a job ended. `retried`: it failed and will run again; `failed`: for good. */
export type JobOutcome = 'completed' | 'failed' | 'retried' | 'stalled';

/** Distinct `error.type` values per queue; later ones are reported as `_OTHER` (the semconv fallback). */
export const MAX_ERROR_TYPES = 20;
const OTHER = '_OTHER';
const MAX_ERROR_TYPE_LENGTH = 64;

let processDuration: InPlaceHistogram | undefined;
let waitDuration: InPlaceHistogram | undefined;
let instruments: { consumed: Observable; attempts: Observable; jobs: Observable } | undefined;

/** Counts and durations of one error type's failed attempts. */
class Failures {
  failed = 0;
  retried = 0;
  duration: HistogramSeries | undefined;
  readonly durationAttrs: Attributes;
  readonly failedAttrs: Attributes;
  readonly retriedAttrs: Attributes;

  constructor(base: Attributes, errorType: string) {
    this.durationAttrs = Object.freeze({ ...base, 'messaging.operation.name': 'process', 'error.type': errorType });
    const outcome = (o: JobOutcome) => Object.freeze({ ...base, 'queue.job.outcome': o, 'error.type': errorType });
    this.failedAttrs = outcome('failed');
    this.retriedAttrs = outcome('retried');
  }
}

export class QueueRecord {
  consumed = 0;
  completed = 0;
  stalled = 0;
  /** Calls of run-job.ts in progress: the active count of a generic queue that uses wrap(). */
  inFlight = 0;
  /** Set once the handle's wrap() was used. */
  wrapped = false;
  success: HistogramSeries | undefined;
  wait: HistogramSeries | undefined;
  readonly failures = new Map<string, Failures>();
  /** Where the jobs-by-state gauge comes from; the first one reports. */
  readonly counts: JobCountsSource[] = [];
  readonly attrs: Attributes;
  readonly processAttrs: Attributes;
  readonly completedAttrs: Attributes;
  readonly stalledAttrs: Attributes;
  private stateAttrs: Record<string, Attributes> | undefined;

  constructor(
    readonly system: string,
    readonly name: string,
  ) {
    this.attrs = Object.freeze({ 'messaging.system': system, 'messaging.destination.name': name });
    this.processAttrs = Object.freeze({ ...this.attrs, 'messaging.operation.name': 'process' });
    this.completedAttrs = Object.freeze({ ...this.attrs, 'queue.job.outcome': 'completed' });
    this.stalledAttrs = Object.freeze({ ...this.attrs, 'queue.job.outcome': 'stalled' });
  }

  /** A job (attempt) started, after waiting `waitSeconds` when known. */
  started(waitSeconds?: number): void {
    this.consumed++;
    if (waitSeconds !== undefined && waitDuration !== undefined && !Number.isNaN(waitSeconds))
      (this.wait ??= waitDuration.series(this.attrs)).record(seconds(waitSeconds));
  }

  /** An attempt ended; `durationSeconds` when it ran here and its duration is known. */
  ended(outcome: JobOutcome, durationSeconds?: number, error?: unknown): void {
    switch (outcome) {
      case 'completed':
        this.completed++;
        if (durationSeconds !== undefined && processDuration !== undefined)
          (this.success ??= processDuration.series(this.processAttrs)).record(seconds(durationSeconds));
        return;
      case 'stalled':
        this.stalled++;
        return;
      case 'failed':
      case 'retried': {
        const f = this.failuresOf(errorType(error));
        if (outcome === 'failed') f.failed++;
        else f.retried++;
        if (durationSeconds !== undefined && processDuration !== undefined)
          (f.duration ??= processDuration.series(f.durationAttrs)).record(seconds(durationSeconds));
      }
    }
  }

  stateAttributes(state: string): Attributes {
    const all = (this.stateAttrs ??= {});
    return (all[state] ??= Object.freeze({ ...this.attrs, 'queue.job.state': state }));
  }

  private failuresOf(type: string): Failures {
    let f = this.failures.get(type);
    if (f === undefined) {
      if (this.failures.size >= MAX_ERROR_TYPES - 1 && type !== OTHER) return this.failuresOf(OTHER);
      f = new Failures(this.attrs, type);
      this.failures.set(type, f);
    }
    return f;
  }
}

/** A duration the histogram accepts: negative (clocks of two machines) and NaN become 0. */
function seconds(s: number): number {
  return Number.isNaN(s) ? 0 : Math.max(s, 0);
}

/**
 * `error.type` of a failed job: the error's class (`err.name`, or its constructor's
 * name when `name` is the generic `Error`), `_OTHER` for anything that is not an
 * object with one. Bounded in length; bounded in number per queue by the record.
 */
export function errorType(error: unknown): string {
  if (error === null || (typeof error !== 'object' && typeof error !== 'function')) return OTHER;
  const e = error as { name?: unknown; constructor?: { name?: unknown } };
  let type = typeof e.name === 'string' && e.name !== '' ? e.name : undefined;
  if (type === undefined || type === 'Error') {
    const ctor = e.constructor?.name;
    if (typeof ctor === 'string' && ctor !== '' && ctor !== 'Object') type = ctor;
  }
  if (type === undefined) return OTHER;
  return type.length > MAX_ERROR_TYPE_LENGTH ? type.slice(0, MAX_ERROR_TYPE_LENGTH) : type;
}

export const queueFamily = new Family<QueueRecord>({
  kind: 'queue',
  stats: {
    section: 'queues',
    entry(r) {
      let failed = 0;
      let retried = 0;
      for (const f of r.failures.values()) {
        failed += f.failed;
        retried += f.retried;
      }
      return {
        name: r.name,
        system: r.system,
        window: 'since instrumented',
        consumed: r.consumed,
        completed: r.completed,
        failed,
        retried,
        stalled: r.stalled,
        waitP95Seconds: seriesPercentile(r.wait, 0.95) ?? null,
        processP95Seconds: seriesPercentile(r.success, 0.95) ?? null,
      };
    },
  },
  instruments(meter: Meter, config: OtelkitConfig): Observable[] {
    processDuration = new InPlaceHistogram(meter, config, {
      name: QUEUE.processDuration.name,
      description: 'Time a job attempt took to process, from start to completion or failure',
      live: function* () {
        for (const r of queueFamily.live) {
          yield r.success;
          for (const f of r.failures.values()) yield f.duration;
        }
      },
    });
    waitDuration = new InPlaceHistogram(meter, config, {
      name: QUEUE.waitDuration.name,
      description: 'Time a job waited in the queue, from created (or delayed until) to started',
      live: () => Array.from(queueFamily.live, (r) => r.wait),
    });
    instruments = {
      consumed: meter.createObservableCounter(QUEUE.consumed.name, {
        unit: QUEUE.consumed.unit,
        description: 'Jobs a worker took from the queue (each attempt)',
        valueType: ValueType.INT,
      }),
      attempts: meter.createObservableCounter(QUEUE.attempts.name, {
        unit: QUEUE.attempts.unit,
        description: 'Job attempts that ended, by outcome (completed, retried, failed, stalled)',
        valueType: ValueType.INT,
      }),
      jobs: meter.createObservableUpDownCounter(QUEUE.jobs.name, {
        unit: QUEUE.jobs.unit,
        description: 'Jobs in the queue, by state',
        valueType: ValueType.INT,
      }),
    };
    return Object.values(instruments);
  },
  observe(result: BatchObservableResult, r: QueueRecord): void | Promise<void> {
    const i = instruments!;
    result.observe(i.consumed, r.consumed, r.processAttrs);
    result.observe(i.attempts, r.completed, r.completedAttrs);
    result.observe(i.attempts, r.stalled, r.stalledAttrs);
    for (const f of r.failures.values()) {
      result.observe(i.attempts, f.failed, f.failedAttrs);
      result.observe(i.attempts, f.retried, f.retriedAttrs);
    }
    const source = r.counts[0];
    if (source === undefined) return;
    const counts = source.read();
    if (!isThenable(counts)) return observeCounts(result, i.jobs, r, counts);
    return counts.then((c) => observeCounts(result, i.jobs, r, c));
  },
});

function observeCounts(result: BatchObservableResult, jobs: Observable, r: QueueRecord, counts?: JobCounts): void {
  if (counts === undefined) return;
  for (const state of JOB_STATES) {
    const n = counts[state as JobState];
    if (typeof n === 'number' && Number.isFinite(n)) result.observe(jobs, n, r.stateAttributes(state));
  }
}

/** Records by system and queue name: a queue instrumented again (or by another target) continues its counts. */
const records = new Map<string, QueueRecord>();

export function recordFor(system: string, name: string): QueueRecord {
  const key = `${system}\u0000${name}`;
  let r = records.get(key);
  if (r === undefined) records.set(key, (r = new QueueRecord(system, name)));
  return r;
}
