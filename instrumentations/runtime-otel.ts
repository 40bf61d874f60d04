/**
 * The event-loop, GC, heap and active-resource metrics under their OpenTelemetry
 * names (the semantic conventions' `nodejs.*` and `v8js.*` metrics), with the same
 * names, units, attributes and reading rules as @opentelemetry/instrumentation-runtime-node
 * 0.37, plus `nodejs.eventloop.delay.p95`. They are written here rather than taken
 * from that package because its base class brings the module-patching framework
 * (import-in-the-middle, require-in-the-middle), which these collectors never use and
 * which the preload would otherwise load at every start; they are a few readings of
 * Node's own `perf_hooks`, `v8` and `process` APIs. The process group is four instruments
 * over `process.cpuUsage()`, `process.memoryUsage.rss()` and `process.uptime()`:
 * @opentelemetry/host-metrics would give the same but brings `systeminformation` and
 * host-wide metrics a service does not own. Everything is read at collection.
 */
import { availableParallelism } from 'node:os';
import { getHeapSpaceStatistics } from 'node:v8';
import { PerformanceObserver, constants, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { ValueType, type Attributes, type BatchObservableResult, type Meter } from '@opentelemetry/api';
import { clock } from '../src/util/clock.js';
import { RUNTIME } from './metric-names.js';

import type { RuntimeCollectors } from './runtime.js';

type Stop = () => void;

/** The OpenTelemetry-named runtime metrics, per group; each returns its stop functions. */
export const OTEL_COLLECTORS: RuntimeCollectors = {
  eventloop: (meter, resolutionMs) => [eventLoopMetrics(meter, resolutionMs)],
  gc: (meter) => [gcMetrics(meter)],
  heap: (meter) => [heapMetrics(meter)],
  process: (meter) => [processMetrics(meter), activeResourceMetrics(meter)],
};

type Metric = { name: string; unit: string };
type Observable = 'createObservableGauge' | 'createObservableCounter' | 'createObservableUpDownCounter';

/** A `RUNTIME` entry -> the observable instrument `create` makes, with that name and unit. */
function observable<K extends Observable>(
  meter: Meter,
  create: K,
  metric: Metric,
  description: string,
  valueType = ValueType.DOUBLE,
): ReturnType<Meter[K]> {
  return meter[create](metric.name, { unit: metric.unit, description, valueType }) as ReturnType<Meter[K]>;
}
const gauge = (meter: Meter, metric: Metric, description: string) =>
  observable(meter, 'createObservableGauge', metric, description);

/** nodejs.eventloop.delay.* (since the previous collection), .utilization and .time. */
export function eventLoopMetrics(meter: Meter, resolutionMs: number): Stop {
  const monitor = monitorEventLoopDelay({ resolution: resolutionMs });
  monitor.enable();
  const delays: [ReturnType<typeof gauge>, () => number][] = [
    [gauge(meter, RUNTIME.eventLoopDelayMin, 'Event loop minimum delay.'), () => monitor.min],
    [gauge(meter, RUNTIME.eventLoopDelayMax, 'Event loop maximum delay.'), () => monitor.max],
    [gauge(meter, RUNTIME.eventLoopDelayMean, 'Event loop mean delay.'), () => monitor.mean],
    [gauge(meter, RUNTIME.eventLoopDelayStddev, 'Event loop standard deviation delay.'), () => monitor.stddev],
    ...[50, 90, 95, 99].map((p): [ReturnType<typeof gauge>, () => number] => [
      gauge(meter, RUNTIME[`eventLoopDelayP${p}` as 'eventLoopDelayP50'], `Event loop ${p} percentile delay.`),
      () => monitor.percentile(p),
    ]),
  ];
  const utilization = gauge(meter, RUNTIME.eventLoopUtilization, 'Event loop utilization');
  const time = observable(
    meter,
    'createObservableCounter',
    RUNTIME.eventLoopTime,
    'Cumulative duration of time the event loop has been in each state.',
  );
  const ACTIVE = Object.freeze({ 'nodejs.eventloop.state': 'active' });
  const IDLE = Object.freeze({ 'nodejs.eventloop.state': 'idle' });
  let lastElu = performance.eventLoopUtilization();

  const callback = (result: BatchObservableResult): void => {
    // runtime-node's rule: no delay figures until the monitor has 5 samples, then a fresh interval.
    if (monitor.count >= 5) {
      for (const [instrument, read] of delays) {
        const seconds = read() / 1e9;
        result.observe(instrument, Number.isNaN(seconds) ? 0 : seconds);
      }
      monitor.reset();
    }
    const elu = performance.eventLoopUtilization();
    result.observe(utilization, performance.eventLoopUtilization(elu, lastElu).utilization);
    lastElu = elu;
    result.observe(time, elu.active / 1e3, ACTIVE);
    result.observe(time, elu.idle / 1e3, IDLE);
  };
  const observables = [...delays.map(([instrument]) => instrument), utilization, time];
  meter.addBatchObservableCallback(callback, observables);
  return () => {
    meter.removeBatchObservableCallback(callback, observables);
    monitor.disable();
  };
}

/** runtime-node's GC duration buckets. */
const GC_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const gcType = (type: string): Attributes => Object.freeze({ 'v8js.gc.type': type });
/** perf_hooks GC kind -> v8js.gc.type; a minor mark-sweep (`--minor-ms`) is a minor GC. */
const GC_TYPES: Record<number, Attributes> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: gcType('major'),
  [constants.NODE_PERFORMANCE_GC_MINOR]: gcType('minor'),
  [constants.NODE_PERFORMANCE_GC_MINOR_MARK_SWEEP]: gcType('minor'),
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: gcType('incremental'),
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: gcType('weakcb'),
};
const NO_GC_TYPE: Attributes = Object.freeze({});

/** v8js.gc.duration by v8js.gc.type, one record per GC. */
export function gcMetrics(meter: Meter): Stop {
  const histogram = meter.createHistogram(RUNTIME.gcDuration.name, {
    unit: RUNTIME.gcDuration.unit,
    description: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    valueType: ValueType.DOUBLE,
    advice: { explicitBucketBoundaries: GC_BUCKETS },
  });
  return observeGc((seconds, kind) => histogram.record(seconds, (kind !== undefined && GC_TYPES[kind]) || NO_GC_TYPE));
}

/** Calls `onGc` with each GC's duration in seconds and its perf_hooks kind; returns the stop function. */
export function observeGc(onGc: (seconds: number, kind: number | undefined) => void): Stop {
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      onGc(entry.duration / 1000, (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

/** v8js.memory.heap.* per heap space. */
export function heapMetrics(meter: Meter): Stop {
  const size = observable(
    meter,
    'createObservableUpDownCounter',
    RUNTIME.heapSpaceSize,
    'Total heap memory size pre-allocated for a heap space.',
  );
  const used = gauge(meter, RUNTIME.heapUsed, 'Heap Memory size allocated.');
  const available = gauge(meter, RUNTIME.heapSpaceAvailable, 'Heap space available size.');
  const physical = gauge(meter, RUNTIME.heapSpacePhysical, 'Committed size of a heap space.');
  /** One frozen attribute set per space name, made once. */
  const spaces = new Map<string, Attributes>();
  const callback = (result: BatchObservableResult): void => {
    for (const space of getHeapSpaceStatistics()) {
      let attributes = spaces.get(space.space_name);
      if (!attributes) {
        attributes = Object.freeze({ 'v8js.heap.space.name': space.space_name });
        spaces.set(space.space_name, attributes);
      }
      result.observe(size, space.space_size, attributes);
      result.observe(used, space.space_used_size, attributes);
      result.observe(available, space.space_available_size, attributes);
      result.observe(physical, space.physical_space_size, attributes);
    }
  };
  const observables = [size, used, available, physical];
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}

/** v8js.resource.active by v8js.resource.type; a type seen once reports 0 when none is left. */
export function activeResourceMetrics(meter: Meter): Stop {
  const active = observable(
    meter,
    'createObservableGauge',
    RUNTIME.resourceActive,
    'Count of the active resources that are currently keeping the event loop alive.',
  );
  const known = new Map<string, Attributes>();
  const callback = (result: BatchObservableResult): void => {
    const counts = new Map<string, number>();
    for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
    for (const type of counts.keys()) {
      if (!known.has(type)) known.set(type, Object.freeze({ 'v8js.resource.type': type }));
    }
    for (const [type, attributes] of known) result.observe(active, counts.get(type) ?? 0, attributes);
  };
  meter.addBatchObservableCallback(callback, [active]);
  return () => meter.removeBatchObservableCallback(callback, [active]);
}

/** process.* metrics from Node's own process APIs; returns the stop function. */
export function processMetrics(meter: Meter): Stop {
  const cpuTime = observable(
    meter,
    'createObservableCounter',
    RUNTIME.cpuTime,
    'Total CPU seconds used by the process, by mode.',
  );
  const cpuUtilization = gauge(
    meter,
    RUNTIME.cpuUtilization,
    'CPU time used since the last collection, divided by elapsed time and the CPUs available to the process.',
  );
  const memory = observable(
    meter,
    'createObservableUpDownCounter',
    RUNTIME.memoryUsage,
    'Resident set size of the process.',
    ValueType.INT,
  );
  const uptime = gauge(meter, RUNTIME.uptime, 'Time since the process started.');
  const USER = Object.freeze({ 'cpu.mode': 'user' });
  const SYSTEM = Object.freeze({ 'cpu.mode': 'system' });
  const cpus = Math.max(1, availableParallelism());
  let last = { at: clock(), usage: process.cpuUsage() };

  const callback = (result: BatchObservableResult): void => {
    const usage = process.cpuUsage();
    const at = clock();
    result.observe(cpuTime, usage.user / 1e6, USER);
    result.observe(cpuTime, usage.system / 1e6, SYSTEM);
    const elapsedUs = (at - last.at) * 1000 * cpus;
    if (elapsedUs > 0) {
      result.observe(cpuUtilization, Math.min(1, (usage.user - last.usage.user) / elapsedUs), USER);
      result.observe(cpuUtilization, Math.min(1, (usage.system - last.usage.system) / elapsedUs), SYSTEM);
    }
    last = { at, usage };
    result.observe(memory, process.memoryUsage.rss());
    result.observe(uptime, process.uptime());
  };
  const observables = [cpuTime, cpuUtilization, memory, uptime];
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}
