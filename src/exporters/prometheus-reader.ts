/**
 * A pull MetricReader for Prometheus. Collection and text serialization are the
 * SDK's (MetricReader.collect, exporter-prometheus's PrometheusSerializer, its per-point
 * lines written faster by prometheus-data-points.ts); this
 * class adds unit suffixes and a cardinality limit that holds across scrapes:
 * the SDK aggregates synchronous instruments in delta and otelkit cumulates them
 * (see cumulative.ts for why).
 */
import { diag } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import {
  AggregationTemporality,
  MetricReader,
  type CollectionResult,
  type InstrumentType,
  type MetricCollectOptions,
  type MetricProducer,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { InstrumentationProducer } from '../histograms/producer.js';
import { collectSdkNow } from './collect-now.js';
import { Cumulation } from './cumulative.js';
import { withFastDataPoints } from './prometheus-data-points.js';
import { ResourceLabels } from './resource-labels.js';
import { withHostAttributes } from '../resource.js';
import { withUnitSuffixes } from './unit-suffix.js';

export interface PrometheusReaderOptions {
  unitSuffixes: boolean;
  cardinalityLimit: number;
  /** Extra producers collected with the SDK's (otelkit's own duration histograms). */
  metricProducers?: MetricProducer[];
  /** Prepended to metric names with `_` by the serializer; `target_info` keeps its name. */
  prefix?: string;
  /** Resource attribute keys copied as labels onto every series. */
  resourceLabels?: readonly string[];
  /** false: no `otel_scope_*` labels. Default true. */
  scopeLabels?: boolean;
  /** Merges in the metrics of cluster workers and worker threads (src/peers/). */
  peers?: { mergeInto(own: ResourceMetrics): Promise<ResourceMetrics> };
}

export class PrometheusReader extends MetricReader {
  private readonly serializer: PrometheusSerializer;
  private readonly resourceLabels: ResourceLabels | undefined;
  private readonly cumulation: Cumulation;
  /** The collection that scrapes arriving now join; undefined when none runs. */
  private inFlight: Promise<Buffer> | undefined;

  constructor(private readonly options: PrometheusReaderOptions) {
    const cumulation = new Cumulation(() => AggregationTemporality.CUMULATIVE, options.cardinalityLimit);
    super({
      aggregationTemporalitySelector: (type) => cumulation.sdkTemporality(type),
      cardinalitySelector: (type) => cumulation.sdkCardinalityLimit(type),
      metricProducers: options.metricProducers,
    });
    this.cumulation = cumulation;
    // The exporter's own options: the prefix (it leaves target_info unprefixed) and the
    // scope labels. Resource labels are added before it runs (resource-labels.ts says why).
    const withoutScopeLabels = options.scopeLabels === false;
    this.serializer = withFastDataPoints(
      new PrometheusSerializer(options.prefix || undefined, false, undefined, false, withoutScopeLabels),
    );
    this.resourceLabels = options.resourceLabels?.length ? new ResourceLabels(options.resourceLabels) : undefined;
  }

  /** What this reader hands out: cumulative, whatever the SDK aggregates in (for metric producers). */
  outputTemporality(type: InstrumentType): AggregationTemporality {
    return this.cumulation.wanted(type);
  }

  /**
   * Cumulative metrics, cardinality-capped. Collections run one at a time and are
   * cumulated as soon as the SDK hands them over, so concurrent or failing
   * scrapes never lose or double count a delta.
   */
  override collect(options?: MetricCollectOptions): Promise<CollectionResult> {
    return this.cumulation.collect(() => super.collect(options));
  }

  /**
   * The current metrics in Prometheus text format 0.0.4, UTF-8 encoded. Scrapes that
   * arrive while a collection runs share it, bytes included (single flight), so a
   * burst of N scrapes costs the app one collection, not N in a row on its event
   * loop. A settled result is never reused: the next scrape starts a fresh
   * collection. A failed collection is logged once and rejects every scrape that
   * shared it.
   */
  scrape(): Promise<Buffer> {
    return (this.inFlight ??= this.startCollection());
  }

  private async startCollection(): Promise<Buffer> {
    try {
      // A collection never waits on I/O: started at once, it would finish in the
      // microtasks after this request's callback, before Node reads the next request.
      // Starting it after the I/O phase lets every scrape read in this turn join.
      await new Promise(setImmediate);
      return Buffer.from(await this.collectText(), 'utf8');
    } finally {
      this.inFlight = undefined;
    }
  }

  private async collectText(): Promise<string> {
    try {
      const { resourceMetrics: own, errors } = await this.collect();
      const merged = this.options.peers ? await this.options.peers.mergeInto(own) : own;
      if (errors.length) diag.error('otelkit: errors while collecting metrics for a scrape', ...errors);
      // Detectors settle asynchronously; target_info must not race them.
      await merged.resource.waitForAsyncAttributes?.();
      const resourceMetrics = { ...merged, resource: await withHostAttributes(merged.resource) };
      let metrics = this.options.unitSuffixes ? withUnitSuffixes(resourceMetrics) : resourceMetrics;
      if (this.resourceLabels) metrics = this.resourceLabels.apply(metrics);
      const text = this.serializer.serialize(metrics);
      // With no metrics the serializer ends on its "# no registered metrics" comment
      // without a newline, which Prometheus and promtool reject: every line must end in one.
      return text.endsWith('\n') ? text : `${text}\n`;
    } catch (err) {
      diag.error('otelkit: scrape failed', err);
      throw err;
    }
  }

  /**
   * The cumulative metrics now, synchronously, for a cluster worker's or a thread's
   * final totals at exit (see collect-now.ts); undefined when the SDK cannot do it.
   */
  collectNow(): ResourceMetrics | undefined {
    const sdk = collectSdkNow(this);
    if (!sdk) return undefined;
    const scopeMetrics = [...sdk.scopeMetrics];
    for (const producer of (this.options.metricProducers ?? []) as Partial<InstrumentationProducer>[])
      if (producer.collectNow) scopeMetrics.push(...producer.collectNow().resourceMetrics.scopeMetrics);
    return this.cumulation.cumulateNow({ resource: sdk.resource, scopeMetrics });
  }

  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}
