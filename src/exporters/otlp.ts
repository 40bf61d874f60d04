/**
 * OTLP push export through the official exporters, one per protocol, driven by a
 * PeriodicExportingMetricReader. Settings come resolved from Config (env already
 * applied), so the exporters' own env fallbacks only fill what otelkit does not set
 * (TLS certificates, gRPC insecure flag).
 *
 * The exporter packages are loaded on first use by `LazyOtlpExporter`, only for the
 * protocol configured: importing all three up front (gRPC brings @grpc/grpc-js,
 * the others protobufjs) cost every app start-up about 0.1 s, OTLP on or not.
 */
import { diag } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
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
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { OtelkitConfig } from '../config/types.js';
import { Cumulation } from './cumulative.js';

type Temporality = OtelkitConfig['otlp']['temporality'];

/**
 * What each OTLP temporality preference asks for, per instrument type, as the OTLP
 * exporter specification defines it (and the exporter packages implement: a test
 * compares the two). Needed before the exporter is loaded: the SDK asks while the
 * first instruments are created.
 */
export function preferredTemporality(preference: Temporality, type: InstrumentType): AggregationTemporality {
  if (preference === 'cumulative') return AggregationTemporality.CUMULATIVE;
  switch (type) {
    case InstrumentType.COUNTER:
    case InstrumentType.HISTOGRAM:
      return AggregationTemporality.DELTA;
    case InstrumentType.OBSERVABLE_COUNTER:
    case InstrumentType.GAUGE:
    case InstrumentType.OBSERVABLE_GAUGE:
      return preference === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
    default:
      return AggregationTemporality.CUMULATIVE;
  }
}

const DEFAULT_AGGREGATION: AggregationOption = Object.freeze({ type: AggregationType.DEFAULT });
const EXPONENTIAL_AGGREGATION: AggregationOption = Object.freeze({ type: AggregationType.EXPONENTIAL_HISTOGRAM });

function exponentialHistograms(type: InstrumentType): AggregationOption {
  return type === InstrumentType.HISTOGRAM ? EXPONENTIAL_AGGREGATION : DEFAULT_AGGREGATION;
}

/** Loads the exporter package of the configured protocol and builds the exporter. */
async function loadOtlpExporter(config: OtelkitConfig): Promise<PushMetricExporter> {
  const { otlp } = config;
  const { AggregationTemporalityPreference } = await import('@opentelemetry/exporter-metrics-otlp-http');
  const preference = {
    cumulative: AggregationTemporalityPreference.CUMULATIVE,
    delta: AggregationTemporalityPreference.DELTA,
    lowmemory: AggregationTemporalityPreference.LOWMEMORY,
  }[otlp.temporality];
  const options = {
    url: otlp.endpoint,
    headers: otlp.headers,
    timeoutMillis: otlp.timeoutMs,
    temporalityPreference: preference,
    compression: otlp.compression as never,
    ...(otlp.histogram === 'exponential' ? { aggregationPreference: exponentialHistograms } : {}),
  };
  switch (otlp.protocol) {
    case 'grpc':
      return new (await import('@opentelemetry/exporter-metrics-otlp-grpc')).OTLPMetricExporter(options);
    case 'http/json':
      return new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter(options);
    default:
      return new (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter(options);
  }
}

/**
 * A PushMetricExporter that answers the SDK's synchronous questions (temporality,
 * aggregation) from the config and hands exports to the official exporter once its
 * package has loaded (loading starts at construction, long before the first export
 * interval ends).
 */
export class LazyOtlpExporter implements PushMetricExporter {
  private readonly exporter: Promise<PushMetricExporter | undefined>;
  private readonly preference: Temporality;
  private readonly exponential: boolean;

  constructor(config: OtelkitConfig, load: (config: OtelkitConfig) => Promise<PushMetricExporter> = loadOtlpExporter) {
    this.preference = config.otlp.temporality;
    this.exponential = config.otlp.histogram === 'exponential';
    this.exporter = load(config).catch((err: unknown) => {
      diag.error(`otelkit: could not load the OTLP exporter for ${config.otlp.protocol}; metrics are not exported over OTLP`, err);
      return undefined;
    });
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    void this.exporter.then((exporter) => {
      if (!exporter) return resultCallback({ code: ExportResultCode.FAILED, error: new Error('otelkit: the OTLP exporter could not be loaded') });
      // The SDK guards a throwing export() when it calls it; here the call runs later,
      // in a promise callback, where a throw would be an unhandled rejection.
      try {
        exporter.export(metrics, resultCallback);
      } catch (error) {
        resultCallback({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
      }
    });
  }

  async forceFlush(): Promise<void> {
    await (await this.exporter)?.forceFlush();
  }

  async shutdown(): Promise<void> {
    await (await this.exporter)?.shutdown();
  }

  selectAggregationTemporality(type: InstrumentType): AggregationTemporality {
    return preferredTemporality(this.preference, type);
  }

  selectAggregation(type: InstrumentType): AggregationOption {
    return this.exponential ? exponentialHistograms(type) : DEFAULT_AGGREGATION;
  }
}

export function createOtlpExporter(config: OtelkitConfig): PushMetricExporter {
  return new LazyOtlpExporter(config);
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
