/**
 * What timed tasks record into, and how it is reported. One record per task name
 * holds plain numbers: runs in progress, successes, errors, the clock reading of
 * the last success, and a duration series per outcome, all aggregated in place
 * (src/histograms/) and read when a scrape or an export collects (the final OTLP
 * export at exit included), so a run costs two clock reads and a few field updates.
 *
 * The registry is process-wide (a processSingleton), so the ESM and CJS builds in
 * one app count a task once. Task names are capped, as every otelkit instrument's
 * series are: past the cap, new names share one `otel.metric.overflow=true` record.
 */
import { diag, type Attributes, type Meter } from '@opentelemetry/api';
import type { OtelkitConfig } from '../../src/config/types.js';
import { InPlaceHistogram, type HistogramSeries } from '../../src/histograms/in-place-histogram.js';
import { InPlaceNumbers, type NumberSeriesState } from '../../src/histograms/in-place-numbers.js';
import { warnOnce } from '../../src/log.js';
import { onMeter } from '../../src/meter-handoff.js';
import { OVERFLOW_KEY } from '../../src/overflow.js';
import { processSingleton } from '../../src/process-singleton.js';
import { cardinalityLimitFor } from '../../src/series-policy.js';
import { clock } from '../../src/util/clock.js';
import { TASK } from '../metric-names.js';

export type TaskOutcome = 'success' | 'error';

/** From 5 ms to an hour: a task may be a cache refresh or a nightly report. */
export const TASK_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
];

export class TaskRecord {
  active = 0;
  successes = 0;
  errors = 0;
  /** clock() reading of the last success; -1 before the first. */
  lastSuccessAt = -1;
  /** Wall-clock ms when otelkit started watching the task: the last-success gauge's value until a success. */
  readonly watchedSince = Date.now();
  /** False once every handle of the task was disposed: not reported. */
  live = true;
  private okSeries: HistogramSeries | undefined;
  private errorSeries: HistogramSeries | undefined;
  readonly attrs: Attributes;
  private readonly okAttrs: Attributes;
  private readonly errorAttrs: Attributes;
  /** task.runs by outcome, as series the producer reads (the counts stay plain fields). */
  readonly runs: readonly NumberSeriesState[];

  /** `name` undefined: the overflow record. */
  constructor(name: string | undefined) {
    const base: Attributes = name === undefined ? { [OVERFLOW_KEY]: true } : { 'task.name': name };
    this.attrs = Object.freeze(base);
    this.okAttrs = Object.freeze({ ...base, 'task.outcome': 'success' });
    this.errorAttrs = Object.freeze({ ...base, 'task.outcome': 'error' });
    const record = this;
    const startMs = this.watchedSince;
    this.runs = [
      {
        attributes: this.okAttrs,
        startMs,
        get value() {
          return record.successes;
        },
      },
      {
        attributes: this.errorAttrs,
        startMs,
        get value() {
          return record.errors;
        },
      },
    ];
  }

  /** Ends a run that started at `start` (a clock() reading). Never throws. */
  finish(start: number, ok: boolean): void {
    const end = clock();
    this.active--;
    this.record((end - start) / 1000, ok, end);
  }

  /** One run of `seconds`; `at` is a clock() reading of its end. Never throws. */
  record(seconds: number, ok: boolean, at: number): void {
    try {
      const histogram = registry.duration;
      const s = Math.max(seconds, 0);
      if (ok) {
        this.successes++;
        this.lastSuccessAt = at;
        if (histogram !== undefined) (this.okSeries ??= histogram.series(this.okAttrs)).record(s);
      } else {
        this.errors++;
        if (histogram !== undefined) (this.errorSeries ??= histogram.series(this.errorAttrs)).record(s);
      }
    } catch (err) {
      diag.error('otelkit: recording a task run failed', err);
    }
  }

  series(): (HistogramSeries | undefined)[] {
    return [this.okSeries, this.errorSeries];
  }
}

interface TaskRegistry {
  records: Map<string, TaskRecord>;
  /** The live handle of each task name (instrumentTask returns it again). */
  handles: Map<string, { dispose(): void }>;
  overflow?: TaskRecord;
  /** Functions timed() returned, to the record they report to: wrapping one again changes nothing. */
  wrappers: WeakMap<object, TaskRecord>;
  duration?: InPlaceHistogram;
  config?: OtelkitConfig;
  subscribed: boolean;
}

/** Looked up once: a run reads it, and a processSingleton lookup hashes its key. */
const registry = processSingleton<TaskRegistry>('otelkit.tasks', () => ({
  records: new Map(),
  handles: new Map(),
  wrappers: new WeakMap(),
  subscribed: false,
}));

export function tasks(): TaskRegistry {
  return registry;
}

/** The record of task `name`, created (and reporting) on first use; the overflow one past the cap. */
export function taskRecord(name: string): TaskRecord {
  const reg = tasks();
  const existing = reg.records.get(name);
  if (existing) return existing;
  subscribe(reg);
  // Two duration series per name (success, error), the overflow record's included.
  const limit = cardinalityLimitFor(reg.config, TASK.duration.name);
  if (reg.records.size >= Math.max(1, Math.floor(limit / 2) - 1)) {
    warnOnce(
      'task-overflow',
      `more than ${reg.records.size} task names; runs of further ones are reported as otel.metric.overflow=true`,
    );
    return (reg.overflow ??= new TaskRecord(undefined));
  }
  const record = new TaskRecord(name);
  reg.records.set(name, record);
  return record;
}

function* liveRecords(reg: TaskRegistry): Generator<TaskRecord> {
  for (const record of reg.records.values()) if (record.live) yield record;
  if (reg.overflow) yield reg.overflow;
}

function subscribe(reg: TaskRegistry): void {
  if (reg.subscribed) return;
  reg.subscribed = true;
  onMeter(({ meter, config }) => {
    reg.config = config;
    reg.duration = new InPlaceHistogram(meter, config, {
      name: TASK.duration.name,
      description: 'Duration of task runs, by outcome',
      boundaries: TASK_BUCKETS,
      live: () => Array.from(liveRecords(reg), (r) => r.series()).flat(),
    });
    createInstruments(meter, reg);
  });
}

function createInstruments(meter: Meter, reg: TaskRegistry): void {
  const startMs = Date.now();
  new InPlaceNumbers(meter, {
    name: TASK.active.name,
    unit: TASK.active.unit,
    description: 'Runs in progress',
    kind: 'updowncounter',
    live: () => Array.from(liveRecords(reg), (r) => ({ attributes: r.attrs, value: r.active, startMs })),
  });
  new InPlaceNumbers(meter, {
    name: TASK.runs.name,
    unit: TASK.runs.unit,
    description: 'Finished runs, by outcome (success or error)',
    kind: 'counter',
    live: () => Array.from(liveRecords(reg), (r) => r.runs).flat(),
  });
  new InPlaceNumbers(meter, {
    name: TASK.lastSuccess.name,
    unit: TASK.lastSuccess.unit,
    description:
      'When the task last succeeded, in seconds since the Unix epoch; before its first success in this ' +
      'process, when otelkit started watching it',
    kind: 'gauge',
    live: () => {
      // The last success as wall-clock time: now, less the monotonic time since it.
      const wallNow = Date.now();
      const monoNow = clock();
      return Array.from(liveRecords(reg), (r) => ({
        attributes: r.attrs,
        value: (r.lastSuccessAt < 0 ? r.watchedSince : wallNow - (monoNow - r.lastSuccessAt)) / 1000,
        startMs,
        set: true,
      }));
    },
  });
}
