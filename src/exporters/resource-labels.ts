/**
 * Resource attributes as labels on every series (`prometheus.resourceLabels`), so a
 * query can filter on `service_name` without joining `target_info`.
 *
 * exporter-prometheus's serializer has an option for this (withResourceConstantLabels),
 * but it appends the labels to each series without looking at the series' own: a
 * metric with an attribute of the same label name would carry the label twice, and
 * Prometheus rejects the whole scrape for that. So otelkit copies the attributes into
 * each data point before the serializer runs, and the metric's own attribute wins:
 * that series keeps its value (a diag warning says so, once per metric and label).
 * Runs once per scrape, never per recording; without resource labels it is not used.
 */
import { diag, type AttributeValue, type Attributes } from '@opentelemetry/api';
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { warnOnce } from '../log.js';
import { prometheusLabelName } from '../util/prometheus-label.js';

interface Label {
  key: string;
  label: string;
  value: AttributeValue;
}

/** Attribute keys seen are few (instrumentation code names them); the memo is bounded anyway. */
const MEMO_LIMIT = 10_000;

export class ResourceLabels {
  private readonly labelOf = new Map<string, string>();
  private readonly warned = new Set<string>();

  constructor(private readonly keys: readonly string[]) {}

  apply(resourceMetrics: ResourceMetrics): ResourceMetrics {
    const labels = this.labels(resourceMetrics.resource.attributes);
    if (labels.length === 0) return resourceMetrics;
    return {
      resource: resourceMetrics.resource,
      scopeMetrics: resourceMetrics.scopeMetrics.map((scope) => ({
        scope: scope.scope,
        metrics: scope.metrics.map((metric) => this.labelMetric(metric, labels)),
      })),
    };
  }

  private labels(resource: Attributes): Label[] {
    const labels: Label[] = [];
    for (const key of this.keys) {
      const value = resource[key];
      if (value === undefined || value === null) {
        warnOnce(
          `resource-label:${key}`,
          `prometheus.resourceLabels (OTELKIT_PROMETHEUS_RESOURCE_LABELS) names ${key}, which the resource does not ` +
            'have; set it (OTEL_RESOURCE_ATTRIBUTES, say) or the series carry no such label',
        );
        continue;
      }
      labels.push({ key, label: prometheusLabelName(key), value });
    }
    return labels;
  }

  private labelMetric(metric: MetricData, labels: readonly Label[]): MetricData {
    const dataPoints = metric.dataPoints.map((point) => ({
      ...point,
      attributes: this.withLabels(metric.descriptor.name, point.attributes, labels),
    }));
    return { ...metric, dataPoints } as MetricData;
  }

  private withLabels(metricName: string, own: Attributes, labels: readonly Label[]): Attributes {
    const out: Attributes = { ...own };
    for (const { key, label, value } of labels) {
      const clash = this.ownKeyFor(own, label);
      if (clash === undefined) out[key] = value;
      else this.warnClash(metricName, clash, label);
    }
    return out;
  }

  /** The series' own attribute that becomes `label` in Prometheus, if any. */
  private ownKeyFor(own: Attributes, label: string): string | undefined {
    for (const key in own) if (this.labelName(key) === label) return key;
    return undefined;
  }

  private labelName(key: string): string {
    let label = this.labelOf.get(key);
    if (label === undefined) {
      if (this.labelOf.size >= MEMO_LIMIT) this.labelOf.clear();
      this.labelOf.set(key, (label = prometheusLabelName(key)));
    }
    return label;
  }

  private warnClash(metricName: string, ownKey: string, label: string): void {
    const id = `${metricName}\u0000${label}`;
    if (this.warned.has(id)) return;
    this.warned.add(id);
    diag.warn(
      `otelkit: ${metricName} has its own ${ownKey} attribute, so its series keep their ${label} label ` +
        'instead of the resource attribute',
    );
  }
}
