/**
 * A shipped dashboard (JSON text, built without a prefix) with the app's Prometheus
 * prefix in every panel query: the CLI's way to follow `prometheus.prefix` without
 * the Grafana SDK at run time. Variable queries only read `target_info`, which
 * keeps its name. Without a prefix the text is returned as it is.
 */
import { prefixMetrics } from './prefix.js';

interface Panel {
  targets?: { expr?: string }[];
  panels?: Panel[];
}

export function prefixDashboard(json: string, prefix: string | undefined): string {
  if (!prefix) return json;
  const dashboard = JSON.parse(json) as { panels?: Panel[] };
  const visit = (panels: Panel[] | undefined): void => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? [])
        if (typeof target.expr === 'string') target.expr = prefixMetrics(target.expr, prefix);
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
