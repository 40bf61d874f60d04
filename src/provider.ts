/**
 * Config -> resource, views and readers -> MeterProvider.
 */
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { bucketViews } from './buckets.js';
import type { OtelkitConfig } from './config/types.js';
import { createConsoleExporter, createOtlpExporter, periodicReader } from './exporters/otlp.js';
import { PrometheusReader } from './exporters/prometheus-reader.js';
import { buildResource } from './resource.js';

export interface BuiltProvider {
  provider: MeterProvider;
  /** Present when `prometheus` is among the exporters. */
  prometheus?: PrometheusReader;
}

export function buildProvider(config: OtelkitConfig): BuiltProvider {
  const readers: MetricReader[] = [];
  let prometheus: PrometheusReader | undefined;
  for (const name of config.exporters) {
    if (name === 'prometheus') {
      prometheus = new PrometheusReader({ unitSuffixes: config.prometheus.unitSuffixes, cardinalityLimit: config.cardinalityLimit });
      readers.push(prometheus);
    } else if (name === 'otlp') {
      readers.push(periodicReader(createOtlpExporter(config), config));
    } else {
      readers.push(periodicReader(createConsoleExporter(), config));
    }
  }
  const provider = new MeterProvider({
    resource: buildResource(config.resourceAttributes),
    readers,
    views: bucketViews(config.histogramBuckets),
  });
  return prometheus ? { provider, prometheus } : { provider };
}
