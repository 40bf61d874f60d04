/**
 * Node runtime metrics, in four groups that can be switched off one by one:
 *   eventloop  nodejs.eventloop.delay.{min,max,mean,stddev,p50,p90,p95,p99}, .utilization, .time
 *   gc         v8js.gc.duration by v8js.gc.type
 *   heap       v8js.memory.heap.used / .space.size / .space.available_size / .space.physical_size per space
 *   process    process.cpu.time, process.cpu.utilization, process.memory.usage, process.uptime,
 *              v8js.resource.active (active handles/resources by type)
 *
 * The collectors are in runtime-otel.ts (these names) and runtime-prom-client.ts
 * (prom-client's); only the enabled groups start (a disabled group costs nothing: no
 * event-loop monitor, no GC observer).
 */
import { isDisabled, onMeter } from '../src/meter-handoff.js';
import { tryOrLog } from '../src/util/errors.js';
import { disposeOnce, noopInstrumentation, type Instrumentation } from '../src/instrumentation.js';
import type { RuntimeNames } from '../src/config/types.js';
import type { Meter } from '@opentelemetry/api';
import { PROM_CLIENT_COLLECTORS } from './runtime-prom-client.js';
import { OTEL_COLLECTORS } from './runtime-otel.js';

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

/** What starts one group's metrics under one naming: its stop functions. */
export type RuntimeCollectors = Record<RuntimeGroup, (meter: Meter, resolutionMs: number) => (() => void)[]>;

/** Starts the runtime metrics of `groups`. Returns a handle whose dispose() stops them. */
export function instrumentRuntime(options: RuntimeInstrumentationOptions = {}): Instrumentation {
  if (isDisabled()) return noopInstrumentation;
  const groups = RUNTIME_GROUPS.filter((group) => (options.groups ?? RUNTIME_GROUPS).includes(group));
  if (groups.length === 0) return noopInstrumentation;
  const collectors = options.names === 'prom-client' ? PROM_CLIENT_COLLECTORS : OTEL_COLLECTORS;
  const stops: (() => void)[] = [];
  let stopped = false;
  const cancel = onMeter(({ meter }) => {
    if (stopped) return;
    for (const group of groups) stops.push(...collectors[group](meter, options.eventLoopResolutionMs ?? 10));
  });
  return disposeOnce(() => {
    stopped = true;
    cancel();
    for (const stop of stops.splice(0)) tryOrLog('stopping the runtime metrics failed', stop);
  });
}
