/**
 * Node runtime metrics, in four groups that can be switched off one by one:
 *   eventloop  nodejs.eventloop.delay.{min,max,mean,stddev,p50,p90,p95,p99}, .utilization, .time
 *   gc         v8js.gc.duration by v8js.gc.type
 *   heap       v8js.memory.heap.used / .space.size / .space.available_size / .space.physical_size per space
 *   process    process.cpu.time, process.cpu.utilization, process.memory.usage, process.uptime,
 *              v8js.resource.active (active handles/resources by type)
 *
 * The eventloop, gc, heap and active-resource metrics are in runtime-otel.ts, under
 * the names @opentelemetry/instrumentation-runtime-node gives them; only the enabled
 * groups start (a disabled group costs nothing: no event-loop monitor, no GC
 * observer). The process metrics are four observable instruments over Node's own
 * `process.cpuUsage()`, `process.memoryUsage.rss()` and `process.uptime()`:
 * @opentelemetry/host-metrics would give the same three process metrics but brings
 * `systeminformation` and host-wide metrics a service does not own.
 */
import { availableParallelism } from 'node:os';
import { ValueType, type Meter } from '@opentelemetry/api';
import { isDisabled, onMeter } from '../src/meter-handoff.js';
import { clock } from '../src/util/clock.js';
import { tryOrLog } from '../src/util/errors.js';
import { disposeOnce, noopInstrumentation, type Instrumentation } from '../src/instrumentation.js';
import type { RuntimeNames } from '../src/config/types.js';
import { instrumentPromClientRuntime } from './runtime-prom-client.js';
import { RUNTIME } from './metric-names.js';
import { activeResourceMetrics, eventLoopMetrics, gcMetrics, heapMetrics } from './runtime-otel.js';

export const RUNTIME_GROUPS = ['eventloop', 'gc', 'heap', 'process'] as const;
export type RuntimeGroup = (typeof RUNTIME_GROUPS)[number];

export interface RuntimeInstrumentationOptions {
  /** Groups to report; default all. */
  groups?: RuntimeGroup[];
  /** Event-loop delay sampling resolution in ms (`monitorEventLoopDelay`'s `resolution`). Default 10. */
  eventLoopResolutionMs?: number;
  /** `prom-client`: prom-client's default metrics (runtime-prom-client.ts) instead of these. Default `otel`. */
  names?: RuntimeNames;
}

/** Starts the runtime metrics of `groups`. Returns a handle whose dispose() stops them. */
export function instrumentRuntime(options: RuntimeInstrumentationOptions = {}): Instrumentation {
  if (options.names === 'prom-client')
    return instrumentPromClientRuntime({ ...options, groups: options.groups ?? [...RUNTIME_GROUPS] });
  if (isDisabled()) return noopInstrumentation;
  const groups = new Set<RuntimeGroup>(options.groups ?? RUNTIME_GROUPS);
  if (groups.size === 0) return noopInstrumentation;
  const stops: (() => void)[] = [];
  let stopped = false;
  const cancel = onMeter(({ meter }) => {
    if (stopped) return;
    if (groups.has('eventloop')) stops.push(eventLoopMetrics(meter, options.eventLoopResolutionMs ?? 10));
    if (groups.has('gc')) stops.push(gcMetrics(meter));
    if (groups.has('heap')) stops.push(heapMetrics(meter));
    if (groups.has('process')) stops.push(processMetrics(meter), activeResourceMetrics(meter));
  });
  return disposeOnce(() => {
    stopped = true;
    cancel();
    for (const stop of stops.splice(0)) tryOrLog('stopping the runtime metrics failed', stop);
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
