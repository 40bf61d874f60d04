/** Alerts on the Node process: event-loop delay, heap growth, restarts, and the target being down. */
import type { AlertsConfig } from '../../src/config/types.js';
import { LABEL, PROM } from '../prometheus-names.js';
import { eq, maxBy, sel } from '../promql.js';
import { alertRule, percent } from './alert.js';
import type { RuleGroup } from './types.js';

const instance = ['job', 'instance'];
const oldSpace = sel(PROM.runtime.heapUsed, eq(LABEL.heapSpace, 'old_space'));

export function runtimeAlerts(alerts: AlertsConfig): RuleGroup {
  return {
    name: 'otelkit-runtime',
    rules: [
      ...alertRule(alerts, 'eventLoopDelayP99', {
        alert: 'OtelkitEventLoopDelayHigh',
        severity: 'warning',
        expr: (t) => `${maxBy(instance, PROM.runtime.eventLoopDelayP99)} > ${t}`,
        summary: '{{ $labels.instance }}: event-loop delay p99 {{ $value | humanizeDuration }}',
        description: (t) => `The event loop's 99th percentile delay is over ${t} s: every request waits behind it.`,
        runbook:
          'A long synchronous task (JSON of a big payload, a sync crypto or fs call, a regex) or GC pauses block ' +
          'the loop. Check CPU and GC pause time in the runtime dashboard; take a CPU profile (--cpu-prof) of ' +
          'an affected instance.',
      }),
      ...alertRule(alerts, 'heapGrowth', {
        alert: 'OtelkitHeapGrowing',
        severity: 'warning',
        expr: (t) =>
          `${maxBy(instance, `min_over_time(${oldSpace}[1h])`)} > ${1 + t} * ` +
          `${maxBy(instance, `min_over_time(${oldSpace}[1h] offset 1h)`)}`,
        summary: '{{ $labels.instance }}: the old-space heap keeps growing across GCs',
        description: (t) =>
          `The lowest old-space usage of the last hour (what GCs bring it back to) is over ${percent(t)} above ` +
          "the previous hour's: memory that GC cannot free, hour after hour, is a leak.",
        runbook:
          'Take two heap snapshots some time apart (--heapsnapshot-signal, or the inspector) and compare what ' +
          'grew: unbounded caches or maps, listeners never removed, closures kept by timers are the usual causes.',
      }),
      ...alertRule(alerts, 'restarts', {
        alert: 'OtelkitProcessRestarting',
        severity: 'warning',
        expr: (t) => `sum by (job, instance) (resets(${PROM.runtime.uptime}[30m])) >= ${t}`,
        summary: '{{ $labels.instance }} restarted {{ $value }} times in 30 minutes',
        description: (t) => `The process uptime went back to zero ${t} or more times within 30 minutes: a crash loop.`,
        runbook:
          "Read the instance's logs around the restarts: an uncaught exception, an out-of-memory kill (RSS near " +
          'the container limit in the runtime dashboard) or a failing health check are the usual causes.',
      }),
      ...alertRule(alerts, 'targetDown', {
        alert: 'OtelkitTargetDown',
        severity: 'critical',
        // Only targets that served otelkit metrics (target_info) within the last day.
        expr: () => 'up == 0 and on (job, instance) max_over_time(target_info[1d])',
        summary: '{{ $labels.instance }} ({{ $labels.job }}) cannot be scraped',
        description: () => 'Prometheus could not scrape this target, which served OpenTelemetry metrics today.',
        runbook:
          'Is the process running? Does the scrape reach it (in a container, OTEL_EXPORTER_PROMETHEUS_HOST=0.0.0.0; ' +
          "the port and path Prometheus uses; the bearer token)? The target's last error is on Prometheus' " +
          'Targets page.',
      }),
    ],
  };
}
