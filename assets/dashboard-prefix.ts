/**
 * A shipped dashboard (JSON text, built with the default naming) with the app's
 * Prometheus naming in every panel query: the CLI's way to follow `prometheus.prefix`
 * and `prometheus.unitSuffixes` without the Grafana SDK at run time. Variable queries
 * only read `target_info`, which keeps its name. With the defaults the text is
 * returned as it is.
 */
import { renameMetrics, type Naming } from './prefix.js';

interface Panel {
  targets?: { expr?: string }[];
  panels?: Panel[];
}

export function prefixDashboard(json: string, naming: Naming | string | undefined): string {
  const { prefix, unitSuffixes = true } = typeof naming === 'string' ? { prefix: naming } : (naming ?? {});
  if (!prefix && unitSuffixes) return json;
  const dashboard = JSON.parse(json) as { panels?: Panel[] };
  const visit = (panels: Panel[] | undefined): void => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? [])
        if (typeof target.expr === 'string') target.expr = renameMetrics(target.expr, { prefix, unitSuffixes });
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
