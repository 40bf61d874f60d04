/** The rule files `npx otelkit assets` writes, by file name. */
import type { AlertsConfig, SloConfig } from '../../src/config/types.js';
import { httpAlerts } from './alerts-http.js';
import { resilienceAlerts } from './alerts-resilience.js';
import { realtimeAlerts } from './alerts-realtime.js';
import { runtimeAlerts } from './alerts-runtime.js';
import { recordingRules } from './recording.js';
import { sloRules } from './slo.js';
import type { RuleFile } from './types.js';

export function ruleFiles(options: { alerts: AlertsConfig; slos: SloConfig[] }): Record<string, RuleFile> {
  const files: Record<string, RuleFile> = {
    'otelkit-recording.rules.yml': { groups: [recordingRules()] },
    'otelkit-alerts.rules.yml': {
      groups: [
        httpAlerts(options.alerts),
        runtimeAlerts(options.alerts),
        resilienceAlerts(options.alerts),
        realtimeAlerts(options.alerts),
      ].filter((g) => g.rules.length > 0),
    },
  };
  if (options.slos.length > 0) files['otelkit-slos.rules.yml'] = { groups: sloRules(options.slos) };
  return files;
}
