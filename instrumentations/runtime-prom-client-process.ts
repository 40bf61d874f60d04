/**
 * The `process` group of the prom-client-named runtime metrics (runtime-prom-client.ts):
 * prom-client 15's process_* metrics, active handles/requests/resources and
 * nodejs_version_info, read when a collection runs. As in prom-client, the memory
 * breakdown and the file descriptors come from /proc on Linux; elsewhere only
 * process_resident_memory_bytes is reported.
 */
import { readdirSync, readFileSync } from 'node:fs';
import {
  ValueType,
  type Attributes,
  type BatchObservableResult,
  type Meter,
  type Observable,
} from '@opentelemetry/api';

const LINUX = process.platform === 'linux';

export function promClientProcessMetrics(meter: Meter): () => void {
  const counter = (name: string, description: string) =>
    meter.createObservableCounter(name, { unit: 's', description, valueType: ValueType.DOUBLE });
  const gauge = (name: string, unit: string, description: string, valueType = ValueType.INT) =>
    meter.createObservableGauge(name, { unit, description, valueType });

  const cpuUser = counter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.');
  const cpuSystem = counter('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.');
  const cpu = counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.');
  const startTime = gauge('process_start_time_seconds', 's', 'Start time of the process since unix epoch in seconds.');
  const resident = gauge('process_resident_memory_bytes', 'By', 'Resident memory size in bytes.');
  const linux = LINUX
    ? {
        virtual: gauge('process_virtual_memory_bytes', 'By', 'Virtual memory size in bytes.'),
        heap: gauge('process_heap_bytes', 'By', 'Process heap size in bytes.'),
        openFds: gauge('process_open_fds', '{fd}', 'Number of open file descriptors.'),
      }
    : undefined;
  const maxFds = LINUX ? readMaxFds() : undefined;
  const maxFdsGauge =
    maxFds === undefined ? undefined : gauge('process_max_fds', '{fd}', 'Maximum number of open file descriptors.');
  const handles = new ByType(
    gauge(
      'nodejs_active_handles',
      '{handle}',
      'Number of active libuv handles grouped by handle type. Every handle type is C++ class name.',
    ),
    gauge('nodejs_active_handles_total', '{handle}', 'Total number of active handles.'),
  );
  const requests = new ByType(
    gauge(
      'nodejs_active_requests',
      '{request}',
      'Number of active libuv requests grouped by request type. Every request type is C++ class name.',
    ),
    gauge('nodejs_active_requests_total', '{request}', 'Total number of active requests.'),
  );
  const resources = new ByType(
    gauge(
      'nodejs_active_resources',
      '{resource}',
      'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.',
    ),
    gauge('nodejs_active_resources_total', '{resource}', 'Total number of active resources.'),
  );
  const version = gauge('nodejs_version_info', '', 'Node.js version info.');
  const [major, minor, patch] = process.version.slice(1).split('.');
  const VERSION = Object.freeze({ version: process.version, major, minor, patch } as Attributes);
  // prom-client's value: whole seconds, computed once.
  const started = Math.round(Date.now() / 1000 - process.uptime());
  const internals = process as unknown as { _getActiveHandles(): object[]; _getActiveRequests(): object[] };

  const callback = (result: BatchObservableResult): void => {
    // From the process start (prom-client counts from its own start; rate() is the same).
    const usage = process.cpuUsage();
    result.observe(cpuUser, usage.user / 1e6);
    result.observe(cpuSystem, usage.system / 1e6);
    result.observe(cpu, (usage.user + usage.system) / 1e6);
    result.observe(startTime, started);
    const status = linux ? readStatus() : undefined;
    result.observe(resident, status?.VmRSS ?? process.memoryUsage.rss());
    if (linux && status) {
      if (status.VmSize !== undefined) result.observe(linux.virtual, status.VmSize);
      if (status.VmData !== undefined) result.observe(linux.heap, status.VmData);
    }
    if (linux) {
      const open = countOpenFds();
      if (open !== undefined) result.observe(linux.openFds, open);
    }
    if (maxFdsGauge) result.observe(maxFdsGauge, maxFds!);
    handles.observe(result, internals._getActiveHandles(), (h) => h.constructor?.name);
    requests.observe(result, internals._getActiveRequests(), (r) => r.constructor?.name);
    resources.observe(result, process.getActiveResourcesInfo(), (name) => name);
    result.observe(version, 1, VERSION);
  };
  const observables: Observable[] = [cpuUser, cpuSystem, cpu, startTime, resident, version];
  if (linux) observables.push(linux.virtual, linux.heap, linux.openFds);
  if (maxFdsGauge) observables.push(maxFdsGauge);
  observables.push(...handles.observables, ...requests.observables, ...resources.observables);
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}

/** Bound on the types remembered for zeroing (handle types are C++ or library class names: a few dozen). */
const MAX_TYPES = 200;

/**
 * A `{type}` gauge and its `_total`. prom-client drops the series of a type that is
 * gone; the SDK would keep exporting its last count for ever (async instruments are
 * cumulative), so a type seen before and absent now is reported as 0.
 */
class ByType {
  private readonly labels = new Map<string, Attributes>();
  readonly observables: Observable[];

  constructor(
    private readonly byType: Observable,
    private readonly total: Observable,
  ) {
    this.observables = [byType, total];
  }

  observe<T>(result: BatchObservableResult, items: readonly T[], typeOf: (item: T) => string | undefined): void {
    const counts = new Map<string, number>();
    for (const item of items) {
      const type = item === null || item === undefined ? undefined : typeOf(item);
      if (type !== undefined) counts.set(type, (counts.get(type) ?? 0) + 1);
    }
    for (const [type, labels] of this.labels) if (!counts.has(type)) result.observe(this.byType, 0, labels);
    for (const [type, count] of counts) result.observe(this.byType, count, this.labelsFor(type));
    result.observe(this.total, items.length);
  }

  private labelsFor(type: string): Attributes {
    let labels = this.labels.get(type);
    if (!labels) {
      labels = Object.freeze({ type });
      if (this.labels.size < MAX_TYPES) this.labels.set(type, labels);
    }
    return labels;
  }
}

/** VmRSS, VmSize and VmData in bytes from /proc/self/status (procfs: no disk I/O). */
function readStatus(): Record<string, number> | undefined {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const out: Record<string, number> = {};
    for (const m of status.matchAll(/^(VmRSS|VmSize|VmData):\s*(\d+)\s*kB$/gm)) out[m[1]!] = Number(m[2]) * 1024;
    return out;
  } catch {
    return undefined;
  }
}

function countOpenFds(): number | undefined {
  try {
    // Minus the descriptor readdirSync itself had open, as prom-client does.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined;
  }
}

/** The soft limit on open files, once at start; undefined when unknown or unlimited. */
function readMaxFds(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const limit = Number(line?.split(/ {2,}/)[1]);
    return Number.isFinite(limit) ? limit : undefined;
  } catch {
    return undefined;
  }
}
