/**
 * Node runtime: event loop (delay, utilization), GC pauses by kind, heap per space,
 * RSS, CPU, active handles by type, uptime and restarts, per instance.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { LABEL, PROM } from '../prometheus-names.js';
import { maxBy, rate, sumBy } from '../promql.js';
import { DASHBOARDS, RATE_WINDOW, finish, otelkitDashboard, q, row, scoped, stat, timeseries } from './panels.js';

const r = PROM.runtime;
const byInstance = ['instance'];

export function nodeRuntime(): Dashboard {
  return finish(
    otelkitDashboard({
      ...DASHBOARDS.runtime,
      description: 'Event loop, GC, memory, CPU and handles of each Node.js instance, from otelkit metrics.',
    })
      .withPanel(
        stat({
          title: 'Uptime',
          description: 'Time since the process started (the shortest of the selected instances).',
          unit: 's',
          queries: [q(`min(${scoped(r.uptime)})`, 'uptime')],
        }),
      )
      .withPanel(
        stat({
          title: 'Restarts',
          description: 'Times the uptime went back to zero within the time range, all selected instances.',
          unit: 'short',
          queries: [q(sumBy([], `resets(${scoped(r.uptime)}[$__range])`), 'restarts')],
        }),
      )
      .withPanel(
        stat({
          title: 'Event-loop delay p99',
          description: 'The worst instance: every request waits behind the loop.',
          unit: 's',
          queries: [q(maxBy([], scoped(r.eventLoopDelayP99)), 'p99')],
        }),
      )
      .withPanel(
        stat({
          title: 'RSS',
          description: 'Resident memory, all selected instances.',
          unit: 'bytes',
          queries: [q(sumBy([], scoped(r.memoryUsage)), 'rss')],
        }),
      )
      .withRow(row('Event loop'))
      .withPanel(
        timeseries({
          title: 'Event-loop delay p50 / p95 / p99',
          description: 'Delay of the loop since the previous scrape (10 ms sampling: an idle loop reads about 10 ms).',
          unit: 's',
          queries: [
            q(maxBy(byInstance, scoped(r.eventLoopDelayP50)), 'p50 {{instance}}'),
            q(maxBy(byInstance, scoped(r.eventLoopDelayP95)), 'p95 {{instance}}'),
            q(maxBy(byInstance, scoped(r.eventLoopDelayP99)), 'p99 {{instance}}'),
          ],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Event-loop utilization',
          description: 'Share of the time the loop was busy: CPU saturation of the main thread.',
          unit: 'percentunit',
          min: 0,
          max: 1,
          queries: [q(maxBy(byInstance, scoped(r.eventLoopUtilization)), '{{instance}}')],
        }),
      )
      .withRow(row('Garbage collection and memory'))
      .withPanel(
        timeseries({
          title: 'GC pause time by kind',
          description: 'Share of the time spent in GC pauses, by kind (major, minor, incremental, weakcb).',
          unit: 'percentunit',
          stack: true,
          queries: [q(sumBy([LABEL.gcType], rate(scoped(`${r.gcDuration}_sum`), RATE_WINDOW)), '{{v8js_gc_type}}')],
        }),
      )
      .withPanel(
        timeseries({
          title: 'GC runs by kind',
          description: 'Collections per second, by kind.',
          unit: 'ops',
          queries: [q(sumBy([LABEL.gcType], rate(scoped(`${r.gcDuration}_count`), RATE_WINDOW)), '{{v8js_gc_type}}')],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Heap used per space',
          description: 'V8 heap in use by space; old_space growing across GCs is a leak.',
          unit: 'bytes',
          stack: true,
          queries: [q(sumBy([LABEL.heapSpace], scoped(r.heapUsed)), '{{v8js_heap_space_name}}')],
        }),
      )
      .withPanel(
        timeseries({
          title: 'RSS and heap size',
          description: 'Resident set size (what a container limit counts) and the total V8 heap size, per instance.',
          unit: 'bytes',
          queries: [
            q(sumBy(byInstance, scoped(r.memoryUsage)), 'rss {{instance}}'),
            q(sumBy(byInstance, scoped(r.heapSpaceSize)), 'heap {{instance}}'),
          ],
        }),
      )
      .withRow(row('CPU and handles'))
      .withPanel(
        timeseries({
          title: 'CPU',
          description: 'CPU time used per second by mode (1 = one core fully busy).',
          unit: 'percentunit',
          stack: true,
          queries: [
            q(sumBy([...byInstance, LABEL.cpuMode], rate(scoped(r.cpuTime), RATE_WINDOW)), '{{cpu_mode}} {{instance}}'),
          ],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Active handles by type',
          description: 'Handles and requests keeping the loop alive (sockets, timers, fs requests): leaks grow here.',
          unit: 'short',
          queries: [q(sumBy([LABEL.resourceType], scoped(r.resourceActive)), '{{v8js_resource_type}}')],
        }),
      )
      .withPanel(
        timeseries({
          title: 'Uptime',
          description: 'Time since each process started: a drop is a restart.',
          unit: 's',
          span: 24,
          queries: [q(maxBy(byInstance, scoped(r.uptime)), '{{instance}}')],
        }),
      ),
  );
}
