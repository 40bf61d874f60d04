/**
 * Push export (OTLP, console) through a PeriodicExportingMetricReader. OTLP
 * exports run in the export thread (otlp-thread.ts, otlp-worker.ts) through the
 * official exporter package of the configured protocol, loaded there only for
 * that protocol. Settings come resolved from Config (env already applied), so
 * the exporters' own env fallbacks only fill what otelkit does not set (TLS
 * certificates, gRPC insecure flag).
 */
import {
  AggregationTemporality,
  ConsoleMetricExporter,
  InstrumentType,
  PeriodicExportingMetricReader,
  type CollectionResult,
  type MetricCollectOptions,
  type MetricProducer,
  type PeriodicExportingMetricReaderOptions,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { OtelkitConfig } from '../config/types.js';
import { collectSdkNow } from './collect-now.js';
import { withExitObservations } from '../exit-observations.js';
import { Cumulation } from './cumulative.js';
import { ThreadedOtlpExporter, type SyncExportOutcome } from './otlp-thread.js';

/** An exporter that can also export synchronously, for the final export at process exit. */
export interface ExitCapableExporter extends PushMetricExporter {
  exportSync(metrics: ResourceMetrics, timeoutMs: number): SyncExportOutcome;
}

/**
 * The worker threads that joined this process (src/peers/hub.ts): their cumulative
 * metrics are merged into each export, so a thread's measurements reach OTLP too.
 */
export interface ThreadPeers {
  mergeInto(own: ResourceMetrics, kinds: readonly 'thread'[]): Promise<ResourceMetrics>;
  /** With the threads' last answers, no request: for the synchronous export at exit. */
  mergeLast(own: ResourceMetrics, kinds: readonly 'thread'[]): ResourceMetrics;
}
const THREADS = ['thread'] as const;

/** A producer that can also collect synchronously. */
export interface SyncMetricProducer extends MetricProducer {
  collectNow(): CollectionResult;
}

export function createOtlpExporter(config: OtelkitConfig): ExitCapableExporter {
  return new ThreadedOtlpExporter(config);
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
  private readonly exporter: ExitCapableExporter;
  private readonly producers: SyncMetricProducer[];
  private readonly threads: ThreadPeers | undefined;
  private finished = false;

  constructor(
    options: PeriodicExportingMetricReaderOptions & {
      exporter: ExitCapableExporter;
      cardinalityLimit: number;
      metricProducers?: SyncMetricProducer[];
      /** Only with cumulative output: the threads answer with cumulative metrics. */
      threads?: ThreadPeers;
    },
  ) {
    super(options);
    const { exporter } = options;
    const wanted = (type: InstrumentType): AggregationTemporality =>
      exporter.selectAggregationTemporality?.(type) ?? AggregationTemporality.CUMULATIVE;
    this.cumulation = new Cumulation(wanted, options.cardinalityLimit);
    this.exporter = exporter;
    this.producers = options.metricProducers ?? [];
    this.threads = options.threads;
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

  override async collect(options?: MetricCollectOptions): Promise<CollectionResult> {
    const result = await this.cumulation.collect(() => super.collect(options));
    if (!this.threads) return result;
    return { ...result, resourceMetrics: await this.threads.mergeInto(result.resourceMetrics, THREADS) };
  }

  protected override async onShutdown(): Promise<void> {
    await super.onShutdown();
    this.finished = true;
  }

  /**
   * The final export, collected and sent synchronously within `timeoutMs`, for
   * the process 'exit' event. Undefined when there was nothing to do: the reader
   * was shut down (its final export went out then) or has no data.
   */
  exportAtExit(timeoutMs: number): SyncExportOutcome | undefined {
    if (this.finished) return undefined;
    const sdk = collectSdkNow(this);
    if (!sdk) return { ok: false, reason: 'this @opentelemetry/sdk-metrics version cannot be collected synchronously' };
    const scopeMetrics = [...sdk.scopeMetrics];
    for (const producer of this.producers) scopeMetrics.push(...producer.collectNow().resourceMetrics.scopeMetrics);
    let own = this.cumulation.cumulateNow({ resource: sdk.resource, scopeMetrics });
    // Observable instruments hold the last collection's values here; fresh ones where the output is cumulative.
    if (this.cumulation.wanted(InstrumentType.OBSERVABLE_COUNTER) === AggregationTemporality.CUMULATIVE)
      own = withExitObservations(own);
    const metrics = this.threads ? this.threads.mergeLast(own, THREADS) : own;
    if (!metrics.scopeMetrics.some((scope) => scope.metrics.some((metric) => metric.dataPoints.length > 0)))
      return undefined;
    return this.exporter.exportSync(metrics, timeoutMs);
  }
}

export function periodicReader(
  exporter: ExitCapableExporter,
  config: OtelkitConfig,
  metricProducers?: SyncMetricProducer[],
  threads?: ThreadPeers,
): CumulativePeriodicReader {
  return new CumulativePeriodicReader({
    metricProducers,
    threads,
    exporter,
    exportIntervalMillis: config.exportIntervalMs,
    // resolveConfig already caps the timeout at the interval (the SDK rejects longer).
    exportTimeoutMillis: config.exportTimeoutMs,
    cardinalityLimit: config.cardinalityLimit,
  });
}

/** The SDK's console exporter, which prints synchronously, so it can export at exit too. */
export function createConsoleExporter(): ExitCapableExporter {
  const exporter = new ConsoleMetricExporter();
  return Object.assign(exporter, {
    exportSync(metrics: ResourceMetrics): SyncExportOutcome {
      exporter.export(metrics, () => {});
      return { ok: true };
    },
  });
}
