/** The rule files `npx otelkit assets` writes, by file name. */
import type { AlertsConfig, SloConfig } from '../../src/config/types.js';
import { renameMetrics } from '../prefix.js';
import { httpAlerts } from './alerts-http.js';
import { queueAlerts } from './alerts-queues.js';
import { resilienceAlerts } from './alerts-resilience.js';
import { realtimeAlerts } from './alerts-realtime.js';
import { runtimeAlerts } from './alerts-runtime.js';
import { taskAlerts } from './alerts-tasks.js';
import { recordingRules } from './recording.js';
import { sloRules } from './slo.js';
import type { RuleFile } from './types.js';

/**
 * `prefix` and `unitSuffixes`: the app's `prometheus.prefix` and `prometheus.unitSuffixes`,
 * applied to every otelkit metric name in the expressions.
 */
export function ruleFiles(options: {
  alerts: AlertsConfig;
  slos: SloConfig[];
  prefix?: string;
  unitSuffixes?: boolean;
}): Record<string, RuleFile> {
  const files: Record<string, RuleFile> = {
    'otelkit-recording.rules.yml': { groups: [recordingRules()] },
    'otelkit-alerts.rules.yml': {
      groups: [
        httpAlerts(options.alerts),
        runtimeAlerts(options.alerts),
        resilienceAlerts(options.alerts),
        queueAlerts(options.alerts),
        taskAlerts(options.alerts),
        realtimeAlerts(options.alerts),
      ].filter((g) => g.rules.length > 0),
    },
  };
  if (options.slos.length > 0) files['otelkit-slos.rules.yml'] = { groups: sloRules(options.slos) };
  for (const file of Object.values(files))
    for (const group of file.groups) for (const rule of group.rules) rule.expr = renameMetrics(rule.expr, options);
  return files;
}
