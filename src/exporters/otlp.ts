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
  AggregationType,
  ConsoleMetricExporter,
  InstrumentType,
  PeriodicExportingMetricReader,
  type AggregationOption,
  type MetricProducer,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import type { OtelkitConfig } from '../config/types.js';

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

export function periodicReader(exporter: PushMetricExporter, config: OtelkitConfig, metricProducers?: MetricProducer[]): PeriodicExportingMetricReader {
  return new PeriodicExportingMetricReader({
    metricProducers,
    exporter,
    exportIntervalMillis: config.exportIntervalMs,
    // The SDK rejects a timeout longer than the interval.
    exportTimeoutMillis: Math.min(config.exportTimeoutMs, config.exportIntervalMs),
    cardinalityLimits: { default: config.cardinalityLimit },
  });
}

export function createConsoleExporter(): PushMetricExporter {
  return new ConsoleMetricExporter();
}
