/**
 * The `alerts` setting: per alert of `npx otelkit assets`, its threshold and `for:`
 * duration over the defaults, or `false` to leave it out. Invalid values are
 * reported (register(): a problem line; the CLI: an error) and the default is kept.
 */
import type { AlertName, AlertSetting, AlertsConfig } from './types.js';

/** The defaults, and what each threshold means (the docs and the rules' annotations say the same). */
export const ALERT_DEFAULTS: Readonly<Record<AlertName, Readonly<AlertSetting>>> = Object.freeze({
  /** Share of a route's requests answered 5xx. */
  httpErrorRatio: { threshold: 0.05, for: '5m' },
  /** p99 latency of a route, seconds. */
  httpLatencyP99: { threshold: 1, for: '10m' },
  /** Event-loop delay p99, seconds. */
  eventLoopDelayP99: { threshold: 0.1, for: '5m' },
  /** Growth of the old-space floor (its minimum, the level GCs bring it back to) over an hour, as a share. */
  heapGrowth: { threshold: 0.1, for: '2h' },
  breakerOpen: { for: '1m' },
  /** Openings of one breaker within 15 minutes. */
  breakerFlapping: { threshold: 3, for: '0s' },
  /** Share of a limiter's permit requests rejected. */
  limiterRejectionRatio: { threshold: 0.05, for: '5m' },
  /** Drop of a cache's hit ratio (5 minutes) below its one-day ratio, as a share of it. */
  cacheHitRatioDrop: { threshold: 0.25, for: '15m' },
  /** Share of a WebSocket server's closes (5 minutes) that were abnormal or errors. */
  websocketFailedCloses: { threshold: 0.1, for: '10m' },
  /** Failed session store calls per second (5 minutes). */
  sessionStoreErrors: { threshold: 0.01, for: '5m' },
  targetDown: { for: '2m' },
  /** Restarts of one instance within 30 minutes. */
  restarts: { threshold: 3, for: '0s' },
  /** Share of a queue's job attempts that failed or will be retried. */
  queueFailureRatio: { threshold: 0.1, for: '10m' },
  /** Stalled jobs of one queue within 15 minutes. */
  queueStalled: { threshold: 1, for: '0s' },
  /** Wait p99 of a queue, seconds (under the largest bucket boundary: 10 with the default buckets). */
  queueWaitP99: { threshold: 5, for: '10m' },
  /** Growth of a queue's backlog (waiting jobs) over 15 minutes, jobs. */
  queueBacklogGrowth: { threshold: 100, for: '15m' },
  /** Seconds since a task last succeeded (on any instance of the job). */
  taskNotSucceeding: { threshold: 7200, for: '5m' },
  /** Share of a task's runs that ended in an error (30 minutes). */
  taskErrorRatio: { threshold: 0.1, for: '10m' },
});

export const ALERT_NAMES = Object.keys(ALERT_DEFAULTS) as AlertName[];

export function defaultAlerts(): AlertsConfig {
  return Object.fromEntries(ALERT_NAMES.map((name) => [name, { ...ALERT_DEFAULTS[name] }])) as AlertsConfig;
}

const DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

/** `raw` over `base`; problems name the key, the value and what is accepted. */
export function parseAlerts(
  raw: unknown,
  base: AlertsConfig,
  label: string,
): { alerts: AlertsConfig; problems: string[] } {
  const problems: string[] = [];
  const alerts = { ...base };
  if (raw === undefined) return { alerts, problems };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${label}: alerts is invalid: expected an object keyed by alert (${ALERT_NAMES.join(', ')})`);
    return { alerts, problems };
  }
  for (const [name, value] of Object.entries(raw)) {
    const where = `${label}: alerts.${name}`;
    if (!(ALERT_NAMES as string[]).includes(name)) {
      problems.push(`${where} is not an alert otelkit writes; known: ${ALERT_NAMES.join(', ')}`);
      continue;
    }
    const key = name as AlertName;
    if (value === false) {
      alerts[key] = false;
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push(`${where} is invalid: expected { threshold?, for? } or false`);
      continue;
    }
    const { threshold, for: forDuration, ...rest } = value as Record<string, unknown>;
    const setting: AlertSetting = { ...ALERT_DEFAULTS[key], ...(base[key] || {}) };
    if (Object.keys(rest).length)
      problems.push(`${where} has unknown keys ${Object.keys(rest).join(', ')}: expected threshold, for`);
    if (threshold !== undefined) {
      if (ALERT_DEFAULTS[key].threshold === undefined)
        problems.push(`${where}.threshold: this alert has no threshold, only for`);
      else if (typeof threshold !== 'number' || !(threshold > 0) || !Number.isFinite(threshold))
        problems.push(`${where}.threshold=${JSON.stringify(threshold)} is invalid: expected a number greater than 0`);
      else setting.threshold = threshold;
    }
    if (forDuration !== undefined) {
      if (typeof forDuration !== 'string' || !DURATION.test(forDuration))
        problems.push(
          `${where}.for=${JSON.stringify(forDuration)} is invalid: ` +
            'expected a Prometheus duration, e.g. 5m, 1h30m or 0s',
        );
      else setting.for = forDuration;
    }
    alerts[key] = setting;
  }
  return { alerts, problems };
}
