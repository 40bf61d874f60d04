/**
 * The runtime metrics under prom-client 15's default metric names (`runtime.names:
 * 'prom-client'`), so dashboards and alerts built on `collectDefaultMetrics()` keep
 * working: same names, types, labels and units, in otelkit's four runtime groups.
 *   eventloop  nodejs_eventloop_lag_seconds, nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds
 *   gc         nodejs_gc_duration_seconds{kind} (prom-client's buckets)
 *   heap       nodejs_heap_size_{total,used}_bytes, nodejs_external_memory_bytes,
 *              nodejs_heap_space_size_{total,used,available}_bytes{space}
 *   process    the process_* metrics, nodejs_active_{handles,requests,resources}[_total],
 *              nodejs_version_info (runtime-prom-client-process.ts)
 *
 * Each name already ends in its Prometheus unit word (and counters in `_total`), so the
 * exporter's unit suffixes leave it as it is; the OTel unit is still set for OTLP,
 * which gets the same names. Everything is read at collection, as in runtime.ts.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { constants, monitorEventLoopDelay } from 'node:perf_hooks';
import {
  ValueType,
  type Attributes,
  type BatchObservableResult,
  type Meter,
  type ObservableResult,
} from '@opentelemetry/api';
import type { RuntimeCollectors } from './runtime.js';
import { promClientProcessMetrics } from './runtime-prom-client-process.js';
import { observeGc } from './runtime-otel.js';

/** prom-client 15's `nodejs_gc_duration_seconds` buckets (lib/metrics/gc.js). */
export const PROM_CLIENT_GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5];

/** prom-client's runtime metrics, per group; each returns its stop functions. */
export const PROM_CLIENT_COLLECTORS: RuntimeCollectors = {
  eventloop: (meter, resolutionMs) => [eventLoopMetrics(meter, resolutionMs)],
  gc: (meter) => [gcMetrics(meter)],
  heap: (meter) => [heapMetrics(meter)],
  process: (meter) => [promClientProcessMetrics(meter)],
};

const gauge = (meter: Meter, name: string, unit: string, description: string) =>
  meter.createObservableGauge(name, { unit, description, valueType: ValueType.DOUBLE });

/** prom-client's event-loop delay gauges: name part and help text. */
const DELAY_STATS = [
  ['min', 'The minimum recorded event loop delay.'],
  ['max', 'The maximum recorded event loop delay.'],
  ['mean', 'The mean of the recorded event loop delays.'],
  ['stddev', 'The standard deviation of the recorded event loop delays.'],
  ['p50', 'The 50th percentile of the recorded event loop delays.'],
  ['p90', 'The 90th percentile of the recorded event loop delays.'],
  ['p99', 'The 99th percentile of the recorded event loop delays.'],
] as const;

function eventLoopMetrics(meter: Meter, resolutionMs: number): () => void {
  const lag = gauge(meter, 'nodejs_eventloop_lag_seconds', 's', 'Lag of event loop in seconds.');
  const stats = DELAY_STATS.map(([stat, help]) => gauge(meter, `nodejs_eventloop_lag_${stat}_seconds`, 's', help));
  const delay = monitorEventLoopDelay({ resolution: resolutionMs });
  delay.enable();
  const read = [
    () => delay.min,
    () => delay.max,
    () => delay.mean,
    () => delay.stddev,
    () => delay.percentile(50),
    () => delay.percentile(90),
    () => delay.percentile(99),
  ];
  const statsCallback = (result: BatchObservableResult): void => {
    // Before its first sample the monitor reads min 9.2e18 ns: report nothing rather than that.
    if (delay.count > 0) for (let i = 0; i < stats.length; i++) result.observe(stats[i]!, read[i]!() / 1e9);
    delay.reset();
  };
  // prom-client's lag: how long a setImmediate scheduled now waits. prom-client reports
  // it at the next scrape; an async callback can report it in this one.
  const lagCallback = async (result: ObservableResult): Promise<void> => {
    const start = process.hrtime.bigint();
    await new Promise<void>((resolve) => setImmediate(resolve));
    result.observe(Number(process.hrtime.bigint() - start) / 1e9);
  };
  meter.addBatchObservableCallback(statsCallback, stats);
  lag.addCallback(lagCallback);
  return () => {
    meter.removeBatchObservableCallback(statsCallback, stats);
    lag.removeCallback(lagCallback);
    delay.disable();
  };
}

/** perf_hooks GC kind -> prom-client's `kind` label; minor mark-sweep (`--minor-ms`) is a minor GC. */
const GC_KINDS: Record<number, Attributes> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: Object.freeze({ kind: 'major' }),
  [constants.NODE_PERFORMANCE_GC_MINOR]: Object.freeze({ kind: 'minor' }),
  [constants.NODE_PERFORMANCE_GC_MINOR_MARK_SWEEP]: Object.freeze({ kind: 'minor' }),
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: Object.freeze({ kind: 'incremental' }),
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: Object.freeze({ kind: 'weakcb' }),
};
const UNKNOWN_GC: Attributes = Object.freeze({ kind: 'unknown' });

function gcMetrics(meter: Meter): () => void {
  const histogram = meter.createHistogram('nodejs_gc_duration_seconds', {
    unit: 's',
    description: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    valueType: ValueType.DOUBLE,
    advice: { explicitBucketBoundaries: PROM_CLIENT_GC_BUCKETS },
  });
  // Every GC: prom-client reads only the first entry of a batch.
  return observeGc((seconds, kind) => histogram.record(seconds, (kind !== undefined && GC_KINDS[kind]) || UNKNOWN_GC));
}

function heapMetrics(meter: Meter): () => void {
  const total = gauge(meter, 'nodejs_heap_size_total_bytes', 'By', 'Process heap size from Node.js in bytes.');
  const used = gauge(meter, 'nodejs_heap_size_used_bytes', 'By', 'Process heap size used from Node.js in bytes.');
  const external = gauge(meter, 'nodejs_external_memory_bytes', 'By', 'Node.js external memory size in bytes.');
  const space = (what: string) =>
    gauge(
      meter,
      `nodejs_heap_space_size_${what}_bytes`,
      'By',
      `Process heap space size ${what} from Node.js in bytes.`,
    );
  const spaceTotal = space('total');
  const spaceUsed = space('used');
  const spaceAvailable = space('available');
  /** `old_space` -> `{ space: 'old' }`, as prom-client names them; made once per space. */
  const spaceLabels = new Map<string, Attributes>();
  const callback = (result: BatchObservableResult): void => {
    const memory = process.memoryUsage();
    result.observe(total, memory.heapTotal);
    result.observe(used, memory.heapUsed);
    result.observe(external, memory.external);
    for (const space of getHeapSpaceStatistics()) {
      let labels = spaceLabels.get(space.space_name);
      if (!labels) {
        const end = space.space_name.indexOf('_space');
        labels = Object.freeze({ space: end >= 0 ? space.space_name.slice(0, end) : space.space_name });
        spaceLabels.set(space.space_name, labels);
      }
      result.observe(spaceTotal, space.space_size, labels);
      result.observe(spaceUsed, space.space_used_size, labels);
      result.observe(spaceAvailable, space.space_available_size, labels);
    }
  };
  const observables = [total, used, external, spaceTotal, spaceUsed, spaceAvailable];
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}
