/** Alerts on the HTTP server: each route's error ratio and p99 latency (from the recording rules). */
import type { AlertsConfig } from '../../src/config/types.js';
import { RECORD } from './recording.js';
import { alertRule, percent } from './alert.js';
import type { RuleGroup } from './types.js';

export function httpAlerts(alerts: AlertsConfig): RuleGroup {
  return {
    name: 'otelkit-http',
    rules: [
      ...alertRule(alerts, 'httpErrorRatio', {
        alert: 'OtelkitHttpRouteErrorRatioHigh',
        severity: 'warning',
        expr: (t) => `${RECORD.routeErrorRatio} > ${t}`,
        summary: '{{ $labels.job }} {{ $labels.http_route }}: {{ $value | humanizePercentage }} of requests answer 5xx',
        description: (t) => `More than ${percent(t)} of the requests to this route answered 5xx over 5 minutes.`,
        runbook:
          'Look at the error_type and http_response_status_code of the route in the service dashboard, and at ' +
          'the outgoing calls it makes (dependency errors, open circuit breakers). A deploy, a failing ' +
          'dependency or an exhausted resource (connections, memory) are the usual causes.',
      }),
      ...alertRule(alerts, 'httpLatencyP99', {
        alert: 'OtelkitHttpRouteLatencyHigh',
        severity: 'warning',
        expr: (t) => `${RECORD.routeLatency}{quantile="0.99"} > ${t}`,
        summary: '{{ $labels.job }} {{ $labels.http_route }}: p99 latency {{ $value | humanizeDuration }}',
        description: (t) => `The 99th percentile latency of this route is over ${t} s (5-minute window).`,
        runbook:
          'Compare with the latency of its dependencies (outgoing calls), the event-loop delay and CPU of the ' +
          'instances, and rate-limiter waits. A slow dependency, a saturated event loop or GC pressure are the ' +
          'usual causes. The p99 comes from histogram buckets: it is only as precise as the bucket boundaries.',
      }),
    ],
  };
}
