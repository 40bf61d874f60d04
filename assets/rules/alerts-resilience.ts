/** Alerts on caches, rate limiters and circuit breakers. */
import type { AlertsConfig } from '../../src/config/types.js';
import { LABEL, PROM } from '../prometheus-names.js';
import { eq, increase, maxBy, sel, sumBy } from '../promql.js';
import { RECORD } from './recording.js';
import { alertRule, percent } from './alert.js';
import type { RuleGroup } from './types.js';

const breaker = ['job', 'instance', LABEL.breakerName];
const openings = sel(PROM.circuitBreaker.transitions, eq(LABEL.breakerToState, 'open'));

export function resilienceAlerts(alerts: AlertsConfig): RuleGroup {
  return {
    name: 'otelkit-resilience',
    rules: [
      ...alertRule(alerts, 'breakerOpen', {
        alert: 'OtelkitCircuitBreakerOpen',
        severity: 'warning',
        expr: () => `${maxBy(breaker, sel(PROM.circuitBreaker.stateCurrent, eq(LABEL.breakerState, 'open')))} == 1`,
        summary: '{{ $labels.instance }}: circuit breaker {{ $labels.circuit_breaker_name }} is open',
        description: () => 'The breaker refuses calls to what it protects; callers get its fallback or an error.',
        runbook:
          'Look at the protected dependency: its errors and latency (outgoing calls in the service dashboard) ' +
          'and the calls by outcome in the resilience dashboard. The breaker closes by itself once trial calls ' +
          'succeed.',
      }),
      ...alertRule(alerts, 'breakerFlapping', {
        alert: 'OtelkitCircuitBreakerFlapping',
        severity: 'warning',
        expr: (t) => `${sumBy(breaker, increase(openings, '15m'))} >= ${t}`,
        summary: '{{ $labels.instance }}: circuit breaker {{ $labels.circuit_breaker_name }} opened {{ $value }} times',
        description: (t) => `The breaker opened ${t} or more times within 15 minutes.`,
        runbook:
          'The dependency fails intermittently, or the breaker trips too easily (error threshold, volume ' +
          'threshold, timeout too tight for its latency). Compare its timeouts with the p99 of the calls.',
      }),
      ...alertRule(alerts, 'limiterRejectionRatio', {
        alert: 'OtelkitRateLimiterRejecting',
        severity: 'warning',
        expr: (t) => `${RECORD.limiterRejectionRatio} > ${t}`,
        summary:
          '{{ $labels.job }}: rate limiter {{ $labels.rate_limiter_name }} rejects {{ $value | humanizePercentage }}',
        description: (t) => `More than ${percent(t)} of the permit requests were rejected over 5 minutes.`,
        runbook:
          'More demand than the limit allows: a traffic spike, a retry storm, or a limit set too low. Check the ' +
          'queue length and wait p99 in the resilience dashboard, and who calls more than usual.',
      }),
      ...alertRule(alerts, 'cacheHitRatioDrop', {
        alert: 'OtelkitCacheHitRatioDropped',
        severity: 'warning',
        expr: (t) => `${RECORD.cacheHitRatio} < ${1 - t} * ${RECORD.cacheHitRatio1d}`,
        summary: '{{ $labels.job }}: cache {{ $labels.cache_name }} hit ratio {{ $value | humanizePercentage }}',
        description: (t) => `The hit ratio of the last 5 minutes is over ${percent(t)} below its one-day level.`,
        runbook:
          'Evictions by reason and size against max in the resilience dashboard: a cache at its max evicting ' +
          '(too small for the working set), entries expiring (TTL), a flush after a deploy, or new traffic ' +
          'with other keys.',
      }),
    ],
  };
}
