/**
 * The files of the repository's monitoring/ folder (shipped in the package: what
 * `npx otelkit assets` writes with no options) and of examples/monitoring's own
 * configuration (the compose setup's Prometheus and Grafana addresses). `npm run
 * assets` writes them; a test checks the committed files are current.
 */
import { defaultAlerts } from '../src/config/alerts.js';
import { dashboards } from './dashboards/index.js';
import { DEFAULT_JOB, DEFAULT_PROMETHEUS_URL, DEFAULT_TARGET, assetFiles } from './files.js';

/** Where the CLI finds the dashboards in the package, and the repository keeps them. */
export const SHIPPED_DIR = 'monitoring';
export const EXAMPLE_DIR = 'examples/monitoring';

export function dashboardFiles(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(dashboards()).map(([name, dashboard]) => [
      `dashboards/${name}`,
      `${JSON.stringify(dashboard, null, 2)}\n`,
    ]),
  );
}

export function shippedFiles(): Record<string, string> {
  const options = {
    alerts: defaultAlerts(),
    slos: [],
    target: DEFAULT_TARGET,
    job: DEFAULT_JOB,
    prometheusUrl: DEFAULT_PROMETHEUS_URL,
  };
  return { ...dashboardFiles(), ...assetFiles(options) };
}

/** The compose example mounts monitoring/ for dashboards and rules; these are its own addresses. */
export function exampleFiles(): Record<string, string> {
  const files = assetFiles({
    alerts: defaultAlerts(),
    slos: [],
    target: 'app:9464',
    job: 'shop',
    prometheusUrl: 'http://prometheus:9090',
  });
  const keep = ['prometheus.yml', 'provisioning/datasources/otelkit.yml', 'provisioning/dashboards/otelkit.yml'];
  return Object.fromEntries(keep.map((path) => [path, files[path]!]));
}
