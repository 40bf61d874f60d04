/**
 * Config -> resource, views and readers -> MeterProvider.
 */
import { AggregationTemporality, InstrumentType, MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { bucketViews } from './buckets.js';
import type { OtelkitConfig } from './config/types.js';
import {
  type CumulativePeriodicReader,
  type ThreadPeers,
  createConsoleExporter,
  createOtlpExporter,
  periodicReader,
} from './exporters/otlp.js';
import { PrometheusReader, type PrometheusReaderOptions } from './exporters/prometheus-reader.js';
import { createInstrumentationProducer } from './histograms/producer.js';
import { pushMergesThreads } from './peers/index.js';
import { buildResource } from './resource.js';

/** A reader that says what it hands out, whatever it asks the SDK for. */
type OutputReader = MetricReader & { outputTemporality(type: InstrumentType): AggregationTemporality };

export interface BuiltProvider {
  provider: MeterProvider;
  /** Present when `prometheus` is among the exporters. */
  prometheus?: PrometheusReader;
  /** The push readers (OTLP, console): they export once more when the process exits. */
  pushReaders: CumulativePeriodicReader[];
}

/**
 * `peers`: the cluster workers and threads that joined this process (src/peers/). The
 * Prometheus scrape merges them all; a push export merges the threads only (each process
 * exports itself), and only with cumulative temporality (the threads answer cumulative).
 */
export function buildProvider(
  config: OtelkitConfig,
  peers?: PrometheusReaderOptions['peers'] & ThreadPeers,
): BuiltProvider {
  const readers: OutputReader[] = [];
  const pushReaders: CumulativePeriodicReader[] = [];
  let prometheus: PrometheusReader | undefined;
  for (const name of config.exporters) {
    // Each reader also collects the cache/limiter/breaker duration histograms that
    // otelkit aggregates itself (histograms/).
    const producer = createInstrumentationProducer();
    let reader: OutputReader;
    if (name === 'prometheus') {
      reader = prometheus = new PrometheusReader({
        unitSuffixes: config.prometheus.unitSuffixes,
        prefix: config.prometheus.prefix,
        resourceLabels: config.prometheus.resourceLabels,
        scopeLabels: config.prometheus.scopeLabels,
        cardinalityLimit: config.cardinalityLimit,
        metricProducers: [producer],
        peers,
      });
    } else {
      const exporter = name === 'otlp' ? createOtlpExporter(config) : createConsoleExporter();
      const push = periodicReader(exporter, config, [producer], pushMergesThreads(name, config) ? peers : undefined);
      pushReaders.push(push);
      reader = push;
    }
    // The readers ask the SDK for delta where otelkit cumulates (exporters/cumulative.ts);
    // the producer follows what the reader hands out instead, so its histograms
    // arrive already cumulative (min and max included) and pass through as they are.
    producer.bind({ selectAggregationTemporality: (type) => reader.outputTemporality(type) });
    readers.push(reader);
  }
  const provider = new MeterProvider({
    resource: buildResource(config.resourceAttributes),
    readers,
    views: bucketViews(config, readers.some(cumulatesHistograms)),
  });
  return prometheus ? { provider, prometheus, pushReaders } : { provider, pushReaders };
}

/** True when the reader asks the SDK for delta histograms and hands out cumulative ones (it cumulates them itself). */
function cumulatesHistograms(reader: OutputReader): boolean {
  return (
    reader.selectAggregationTemporality(InstrumentType.HISTOGRAM) === AggregationTemporality.DELTA &&
    reader.outputTemporality(InstrumentType.HISTOGRAM) === AggregationTemporality.CUMULATIVE
  );
}
