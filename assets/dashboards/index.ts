/** The dashboards, by file name under `dashboards/`. */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { nodeRuntime } from './node-runtime.js';
import { queues } from './queues.js';
import { realtime } from './realtime.js';
import { resilience } from './resilience.js';
import { serviceOverview } from './service-overview.js';

export function dashboards(): Record<string, Dashboard> {
  return {
    'otelkit-service.json': serviceOverview(),
    'otelkit-runtime.json': nodeRuntime(),
    'otelkit-resilience.json': resilience(),
    'otelkit-queues.json': queues(),
    'otelkit-realtime.json': realtime(),
  };
}
