/** One alerting rule from its setting (threshold, `for:`), or nothing when switched off. */
import type { AlertSetting, AlertsConfig, AlertName } from '../../src/config/types.js';
import type { AlertingRule } from './types.js';

export interface AlertSpec {
  /** The rule's `alert:` name. */
  alert: string;
  severity: 'critical' | 'warning';
  /** The expression for this threshold (undefined for alerts without one). */
  expr: (threshold: number) => string;
  summary: string;
  description: (threshold: number) => string;
  runbook: string;
}

export function alertRule(alerts: AlertsConfig, key: AlertName, spec: AlertSpec): AlertingRule[] {
  const setting: AlertSetting | false = alerts[key];
  if (setting === false) return [];
  const threshold = setting.threshold ?? Number.NaN;
  return [
    {
      alert: spec.alert,
      expr: spec.expr(threshold),
      for: setting.for === '0s' ? undefined : setting.for,
      labels: { severity: spec.severity },
      annotations: { summary: spec.summary, description: spec.description(threshold), runbook: spec.runbook },
    },
  ];
}

/** A share as a percentage for the annotations: 0.05 -> 5%. */
export const percent = (share: number): string => `${Number((share * 100).toPrecision(6))}%`;
