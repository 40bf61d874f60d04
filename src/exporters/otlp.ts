/**
 * OTLP push export through the official exporters, one per protocol, driven by a
 * PeriodicExportingMetricReader. Settings come resolved from Config (env already
 * applied), so the exporters' own env fallbacks only fill what otelkit does not set
 * (TLS certificates, gRPC insecure flag).
 */
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { AggregationTemporalityPreference, OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import {
  AggregationTemporality,
  AggregationType,
  ConsoleMetricExporter,
  InstrumentType,
  PeriodicExportingMetricReader,
  type AggregationOption,
  type CollectionResult,
  type MetricCollectOptions,
  type MetricProducer,
  type PeriodicExportingMetricReaderOptions,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import type { OtelkitConfig } from '../config/types.js';
import { Cumulation } from './cumulative.js';

const TEMPORALITY = {
  cumulative: AggregationTemporalityPreference.CUMULATIVE,
  delta: AggregationTemporalityPreference.DELTA,
  lowmemory: AggregationTemporalityPreference.LOWMEMORY,
} as const;

function exponentialHistograms(type: InstrumentType): AggregationOption {
  return type === InstrumentType.HISTOGRAM ? { type: AggregationType.EXPONENTIAL_HISTOGRAM } : { type: AggregationType.DEFAULT };
}

export function createOtlpExporter(config: OtelkitConfig): PushMetricExporter {
  const { otlp } = config;
  const options = {
    url: otlp.endpoint,
    headers: otlp.headers,
    timeoutMillis: otlp.timeoutMs,
    temporalityPreference: TEMPORALITY[otlp.temporality],
    ...(otlp.histogram === 'exponential' ? { aggregationPreference: exponentialHistograms } : {}),
  };
  switch (otlp.protocol) {
    case 'grpc':
      return new GrpcExporter({ ...options, compression: otlp.compression as never });
    case 'http/json':
      return new JsonExporter({ ...options, compression: otlp.compression as never });
    default:
      return new ProtoExporter({ ...options, compression: otlp.compression as never });
  }
}

/**
 * A PeriodicExportingMetricReader that keeps the cardinality limit across
 * collections: for the synchronous instruments the exporter wants cumulative,
 * the SDK aggregates in delta and otelkit cumulates (see cumulative.ts). This is
 * done in the reader rather than in an exporter wrapper so that a cycle with no
 * new measurement still exports every cumulative series (the SDK skips the
 * export when a collection is empty) and a batch split never sees half a state.
 * With a delta preference only the up-down counters (cumulative under every
 * preference) get this treatment; with lowmemory, the up-down counters and gauges.
 */
export class CumulativePeriodicReader extends PeriodicExportingMetricReader {
  private readonly cumulation: Cumulation;

  constructor(options: PeriodicExportingMetricReaderOptions & { cardinalityLimit: number }) {
    super(options);
    const { exporter } = options;
    const wanted = (type: InstrumentType): AggregationTemporality =>
      exporter.selectAggregationTemporality?.(type) ?? AggregationTemporality.CUMULATIVE;
    this.cumulation = new Cumulation(wanted, options.cardinalityLimit);
  }

  override selectAggregationTemporality(type: InstrumentType): AggregationTemporality {
    return this.cumulation.sdkTemporality(type);
  }

  override selectCardinalityLimit(type: InstrumentType): number {
    return this.cumulation.sdkCardinalityLimit(type);
  }

  /** What this reader hands the exporter per instrument type (for metric producers). */
  outputTemporality(type: InstrumentType): AggregationTemporality {
    return this.cumulation.wanted(type);
  }

  override collect(options?: MetricCollectOptions): Promise<CollectionResult> {
    return this.cumulation.collect(() => super.collect(options));
  }
}

export function periodicReader(exporter: PushMetricExporter, config: OtelkitConfig, metricProducers?: MetricProducer[]): CumulativePeriodicReader {
  return new CumulativePeriodicReader({
    metricProducers,
    exporter,
    exportIntervalMillis: config.exportIntervalMs,
    // resolveConfig already caps the timeout at the interval (the SDK rejects longer).
    exportTimeoutMillis: config.exportTimeoutMs,
    cardinalityLimit: config.cardinalityLimit,
  });
}

export function createConsoleExporter(): PushMetricExporter {
  return new ConsoleMetricExporter();
}
