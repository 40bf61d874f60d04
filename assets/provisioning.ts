/**
 * Grafana provisioning: a Prometheus data source and a file provider that loads
 * the dashboards into an "otelkit" folder. The dashboards choose their data source
 * through a variable, so they also work with a data source provisioned elsewhere.
 */
export interface ProvisioningOptions {
  /** The URL Grafana's server reaches Prometheus at. */
  prometheusUrl: string;
}

/** Where the dashboards provider reads the JSON files (mount `dashboards/` there). */
export const GRAFANA_DASHBOARDS_PATH = '/var/lib/grafana/dashboards/otelkit';

export function datasources(options: ProvisioningOptions): object {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: 'Prometheus (otelkit)',
        uid: 'otelkit-prometheus',
        type: 'prometheus',
        access: 'proxy',
        url: options.prometheusUrl,
        jsonData: { timeInterval: '15s' },
      },
    ],
  };
}

export function dashboardProviders(): object {
  return {
    apiVersion: 1,
    providers: [
      {
        name: 'otelkit',
        folder: 'otelkit',
        type: 'file',
        allowUiUpdates: true,
        options: { path: GRAFANA_DASHBOARDS_PATH },
      },
    ],
  };
}
