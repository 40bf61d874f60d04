/**
 * A pull MetricReader for Prometheus. Collection and text serialization are the
 * SDK's (MetricReader.collect, exporter-prometheus's PrometheusSerializer); this
 * class only adds unit suffixes and the cardinality limit.
 */
import { diag } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MetricReader, type MetricProducer } from '@opentelemetry/sdk-metrics';
import { withUnitSuffixes } from './unit-suffix.js';

export interface PrometheusReaderOptions {
  unitSuffixes: boolean;
  cardinalityLimit: number;
  /** Extra producers collected with the SDK's (otelkit's own duration histograms). */
  metricProducers?: MetricProducer[];
}

export class PrometheusReader extends MetricReader {
  private readonly serializer = new PrometheusSerializer();

  constructor(private readonly options: PrometheusReaderOptions) {
    super({ cardinalitySelector: () => options.cardinalityLimit, metricProducers: options.metricProducers });
  }

  /** The current metrics in Prometheus text format 0.0.4. */
  async scrape(): Promise<string> {
    const { resourceMetrics, errors } = await this.collect();
    if (errors.length) diag.error('otelkit: errors while collecting metrics for a scrape', ...errors);
    // Host/process detectors settle asynchronously; target_info must not race them.
    await resourceMetrics.resource.waitForAsyncAttributes?.();
    return this.serializer.serialize(this.options.unitSuffixes ? withUnitSuffixes(resourceMetrics) : resourceMetrics);
  }

  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}
