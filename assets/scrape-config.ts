/**
 * Prometheus configuration for scraping otelkit: a static target, and a Kubernetes
 * variant that scrapes every pod annotated `prometheus.io/scrape: "true"` (port and
 * path from `prometheus.io/port` and `prometheus.io/path`). Both load the generated
 * rule files from `rules/` next to them.
 */
export interface ScrapeOptions {
  /** `host:port` of the app's scrape endpoint. */
  target: string;
  job: string;
}

const RULE_FILES = ['rules/*.rules.yml'];
const GLOBAL = { scrape_interval: '15s', evaluation_interval: '15s' };

export function staticScrapeConfig(options: ScrapeOptions): object {
  return {
    global: GLOBAL,
    rule_files: RULE_FILES,
    scrape_configs: [{ job_name: options.job, static_configs: [{ targets: [options.target] }] }],
  };
}

export function kubernetesScrapeConfig(): object {
  const meta = (name: string) => `__meta_kubernetes_pod_${name}`;
  return {
    global: GLOBAL,
    rule_files: RULE_FILES,
    scrape_configs: [
      {
        job_name: 'kubernetes-pods',
        kubernetes_sd_configs: [{ role: 'pod' }],
        relabel_configs: [
          { source_labels: [meta('annotation_prometheus_io_scrape')], action: 'keep', regex: 'true' },
          {
            source_labels: [meta('annotation_prometheus_io_path')],
            action: 'replace',
            target_label: '__metrics_path__',
            regex: '(.+)',
          },
          {
            source_labels: ['__address__', meta('annotation_prometheus_io_port')],
            action: 'replace',
            regex: '([^:]+)(?::\\d+)?;(\\d+)',
            replacement: '$1:$2',
            target_label: '__address__',
          },
          // job = namespace/app name, where the pod has the recommended label: one job per service.
          {
            source_labels: ['__meta_kubernetes_namespace', meta('label_app_kubernetes_io_name')],
            separator: '/',
            regex: '(.+/.+)',
            target_label: 'job',
          },
          { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
          { source_labels: [meta('name')], target_label: 'pod' },
        ],
      },
    ],
  };
}
