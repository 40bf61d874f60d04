/**
 * Node runtime metrics, in four groups that can be switched off one by one:
 *   eventloop  nodejs.eventloop.delay.{min,max,mean,stddev,p50,p90,p95,p99}, .utilization, .time
 *   gc         v8js.gc.duration by v8js.gc.type
 *   heap       v8js.memory.heap.used / .space.size / .space.available_size / .space.physical_size per space
 *   process    process.cpu.time, process.cpu.utilization, process.memory.usage, process.uptime,
 *              v8js.resource.active (active handles/resources by type)
 *
 * The eventloop, gc, heap and active-resource metrics come from the official
 * @opentelemetry/instrumentation-runtime-node, keeping only the collectors of the
 * enabled groups (a disabled group then costs nothing: no event-loop monitor, no
 * GC observer). The process metrics are four observable instruments over Node's own
 * `process.cpuUsage()`, `process.memoryUsage.rss()` and `process.uptime()`:
 * @opentelemetry/host-metrics would give the same three process metrics but brings
 * `systeminformation` and host-wide metrics a service does not own.
 */
import { availableParallelism } from 'node:os';
import { ValueType, type Meter, type MeterProvider } from '@opentelemetry/api';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import { isDisabled, onMeter } from '../src/meter-handoff.js';
import { clock } from '../src/util/clock.js';
import { tryOrLog } from '../src/util/errors.js';
import { disposeOnce, noopInstrumentation, type Instrumentation } from '../src/instrumentation.js';
import type { RuntimeNames } from '../src/config/types.js';
import { instrumentPromClientRuntime } from './runtime-prom-client.js';
import { RUNTIME } from './metric-names.js';

export const RUNTIME_GROUPS = ['eventloop', 'gc', 'heap', 'process'] as const;
export type RuntimeGroup = (typeof RUNTIME_GROUPS)[number];

export interface RuntimeInstrumentationOptions {
  /** Groups to report; default all. */
  groups?: RuntimeGroup[];
  /** Event-loop delay sampling resolution in ms (runtime-node's `monitoringPrecision`). Default 10. */
  eventLoopResolutionMs?: number;
  /** `prom-client`: prom-client's default metrics (runtime-prom-client.ts) instead of these. Default `otel`. */
  names?: RuntimeNames;
}

/** runtime-node collector class names per group. */
const COLLECTORS: Record<string, RuntimeGroup> = {
  EventLoopUtilizationCollector: 'eventloop',
  EventLoopTimeCollector: 'eventloop',
  EventLoopDelayCollector: 'eventloop',
  GCCollector: 'gc',
  HeapSpacesSizeAndUsedCollector: 'heap',
  ActiveResourcesCollector: 'process',
};

/** Starts the runtime metrics of `groups`. Returns a handle whose dispose() stops them. */
export function instrumentRuntime(options: RuntimeInstrumentationOptions = {}): Instrumentation {
  if (options.names === 'prom-client')
    return instrumentPromClientRuntime({ ...options, groups: options.groups ?? [...RUNTIME_GROUPS] });
  if (isDisabled()) return noopInstrumentation;
  const groups = new Set<RuntimeGroup>(options.groups ?? RUNTIME_GROUPS);
  if (groups.size === 0) return noopInstrumentation;
  let runtimeNode: RuntimeNodeInstrumentation | undefined;
  let stopProcess: (() => void) | undefined;
  let stopped = false;
  const cancel = onMeter(({ meter }) => {
    if (stopped) return;
    runtimeNode = startRuntimeNode(meter, groups, options.eventLoopResolutionMs ?? 10);
    if (groups.has('process')) stopProcess = processMetrics(meter);
  });
  return disposeOnce(() => {
    stopped = true;
    cancel();
    tryOrLog('stopping the runtime metrics failed', () => runtimeNode?.disable());
    stopProcess?.();
  });
}

function startRuntimeNode(
  meter: Meter,
  groups: Set<RuntimeGroup>,
  resolutionMs: number,
): RuntimeNodeInstrumentation | undefined {
  const instrumentation = new RuntimeNodeInstrumentation({ enabled: false, monitoringPrecision: resolutionMs });
  // Keep the collectors of the enabled groups only. `_collectors` is internal: if its
  // shape ever changes, every collector stays (more metrics, never fewer).
  const internal = instrumentation as unknown as { _collectors?: { constructor: { name: string } }[] };
  if (Array.isArray(internal._collectors)) {
    internal._collectors = internal._collectors.filter((c) => {
      const group = COLLECTORS[c.constructor.name];
      return group === undefined || groups.has(group);
    });
    if (internal._collectors.length === 0) return undefined;
    addDelayP95(meter, internal._collectors);
  }
  // Report through otelkit's meter (scope `otelkit`) rather than the global provider.
  const provider: MeterProvider = { getMeter: () => meter };
  instrumentation.setMeterProvider(provider);
  instrumentation.enable();
  return instrumentation;
}

/**
 * nodejs.eventloop.delay.p95, which runtime-node does not report, read from the same
 * monitor as its other delay gauges (its internal `_histogram`; when that changes
 * shape, no p95). Added before runtime-node creates its instruments: the SDK runs
 * single-instrument callbacks before batch ones, so this reads the monitor before
 * runtime-node's batch callback resets it, and reports the same interval.
 */
function addDelayP95(meter: Meter, collectors: object[]): void {
  const collector = collectors.find((c) => c.constructor.name === 'EventLoopDelayCollector') as
    | { _histogram?: { count?: unknown; percentile?: unknown } }
    | undefined;
  const histogram = collector?._histogram;
  if (typeof histogram?.percentile !== 'function' || typeof histogram.count !== 'number') return;
  const monitor = histogram as { count: number; percentile(p: number): number };
  const p95 = meter.createObservableGauge(RUNTIME.eventLoopDelayP95.name, {
    unit: RUNTIME.eventLoopDelayP95.unit,
    description: 'Event loop 95 percentile delay.',
  });
  p95.addCallback((result) => {
    // runtime-node's rule: no delay figures until the monitor has 5 samples
    if (monitor.count < 5) return;
    const seconds = monitor.percentile(95) / 1e9;
    if (Number.isFinite(seconds)) result.observe(seconds);
  });
}

/** process.* metrics from Node's own process APIs; returns the stop function. */
function processMetrics(meter: Meter): () => void {
  const cpuTime = meter.createObservableCounter(RUNTIME.cpuTime.name, {
    unit: RUNTIME.cpuTime.unit,
    description: 'Total CPU seconds used by the process, by mode.',
    valueType: ValueType.DOUBLE,
  });
  const cpuUtilization = meter.createObservableGauge(RUNTIME.cpuUtilization.name, {
    unit: RUNTIME.cpuUtilization.unit,
    description:
      'CPU time used since the last collection, divided by elapsed time and the CPUs available to the process.',
    valueType: ValueType.DOUBLE,
  });
  const memory = meter.createObservableUpDownCounter(RUNTIME.memoryUsage.name, {
    unit: RUNTIME.memoryUsage.unit,
    description: 'Resident set size of the process.',
    valueType: ValueType.INT,
  });
  const uptime = meter.createObservableGauge(RUNTIME.uptime.name, {
    unit: RUNTIME.uptime.unit,
    description: 'Time since the process started.',
    valueType: ValueType.DOUBLE,
  });
  const USER = Object.freeze({ 'cpu.mode': 'user' });
  const SYSTEM = Object.freeze({ 'cpu.mode': 'system' });
  const cpus = Math.max(1, availableParallelism());
  let last = { at: clock(), usage: process.cpuUsage() };

  const callback = (result: import('@opentelemetry/api').BatchObservableResult): void => {
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
