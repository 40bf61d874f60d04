/** Alerts on WebSocket servers and session stores. */
import type { AlertsConfig } from '../../src/config/types.js';
import { RECORD } from './recording.js';
import { alertRule, percent } from './alert.js';
import type { RuleGroup } from './types.js';

export function realtimeAlerts(alerts: AlertsConfig): RuleGroup {
  return {
    name: 'otelkit-realtime',
    rules: [
      ...alertRule(alerts, 'websocketFailedCloses', {
        alert: 'OtelkitWebSocketClosesFailing',
        severity: 'warning',
        expr: (t) => `${RECORD.websocketFailedCloseRatio} > ${t}`,
        summary:
          '{{ $labels.job }}: {{ $value | humanizePercentage }} of WebSocket connections to ' +
          '{{ $labels.websocket_server_name }} end abnormally or in error',
        description: (t) =>
          `More than ${percent(t)} of the connections closed over 5 minutes had no close frame (abnormal) ` +
          'or an error close code or socket error.',
        runbook:
          'Closes by class in the WebSockets dashboard. Abnormal: clients losing the network, a proxy or load ' +
          'balancer cutting idle connections (compare its idle timeout with the ping interval), or instances ' +
          'killed without a graceful close. Error: protocol violations or oversized messages (the errors panel).',
      }),
      ...alertRule(alerts, 'sessionStoreErrors', {
        alert: 'OtelkitSessionStoreErrors',
        severity: 'warning',
        expr: (t) => `${RECORD.sessionStoreErrors} > ${t}`,
        summary: '{{ $labels.job }}: session store {{ $labels.session_source_name }} fails {{ $value }} calls/s',
        description: (t) => `The session store failed more than ${t} calls per second over 5 minutes.`,
        runbook:
          'Users cannot load or keep their sessions (logged out, lost carts). Check the store behind it (Redis, ' +
          'the database): reachability, memory, latency; the errors by operation are in the sessions dashboard.',
      }),
    ],
  };
}
