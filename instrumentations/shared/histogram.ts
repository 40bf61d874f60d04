/**
 * Duration histograms (limiter wait, breaker call) that cost the hot path a few
 * nanoseconds instead of an OTel `histogram.record` (whose attribute hashing alone
 * costs about as much as a prom-client labelled observe).
 *
 * Each instrumented target owns a series: plain bucket counts, sum, count, min and
 * max, updated in place. A MetricProducer, attached to every reader by the core
 * (`createInstrumentationProducer`, see src/provider.ts), turns the live series
 * into standard explicit-bucket HistogramMetricData at collection: cumulative or
 * delta, whichever the reader selects for histograms. Bucket boundaries come from
 * `histogramBuckets[name]` in the config, else the seconds defaults.
 *
 * When no producer is attached (a core without that hook), the series fall back
 * to a regular OTel histogram recorded with a pre-built attribute set.
 * The registry lives on globalThis so the ESM and CJS builds share it.
 */
import { ValueType, type Attributes, type Histogram, type Meter } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  type CollectionResult,
  type DataPoint,
  type Histogram as HistogramValue,
  type HistogramMetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { SECONDS_BUCKETS } from '../../src/buckets.js';
import type { OtelkitConfig } from '../../src/config/types.js';
import { OTELKIT_VERSION } from '../../src/version.js';
import { processSingleton } from '../../src/process-singleton.js';

/** What a record holds to record its durations. */
export interface DurationSeries {
  /** `seconds` must be a finite number >= 0 (callers check). */
  record(seconds: number): void;
}

/**
 * Where LocalSeries keeps what: [sum, count, min, max, then per bucket i its upper
 * bound and its count], the last bucket's bound being +Infinity.
 */
const SUM = 0;
const COUNT = 1;
const MIN = 2;
const MAX = 3;
const BUCKETS = 4;

/**
 * A series aggregated in place (the fast path). Everything a record touches sits in
 * one Float64Array, instead of a counts array, a bounds array and three boxed numbers:
 * on a hot path the rest of a request's work evicts these between two records, so
 * each cache line touched is a likely miss (`BENCH_CACHE_SIM=1 npm run
 * bench:http-instructions` counts them). A bucket's bound sits next to its count, so a
 * duration in the first buckets touches one line; the +Infinity bound ends the scan
 * without a length check.
 */
class LocalSeries implements DurationSeries {
  private readonly data: Float64Array;
  readonly startMs = Date.now();

  constructor(
    readonly boundaries: readonly number[],
    readonly attributes: Attributes,
  ) {
    const n = boundaries.length;
    this.data = new Float64Array(BUCKETS + 2 * (n + 1));
    for (let i = 0; i < n; i++) this.data[BUCKETS + 2 * i] = boundaries[i]!;
    this.data[BUCKETS + 2 * n] = Infinity;
    this.data[MIN] = Infinity;
    this.data[MAX] = -Infinity;
  }

  record(seconds: number): void {
    const d = this.data;
    let i = BUCKETS;
    while (seconds > d[i]!) i += 2; // upper bounds are inclusive, as in the SDK; stops at +Infinity at the latest
    d[i + 1]!++;
    d[SUM] = d[SUM]! + seconds;
    d[COUNT]!++;
    if (seconds < d[MIN]!) d[MIN] = seconds;
    if (seconds > d[MAX]!) d[MAX] = seconds;
  }

  /** A copy of the bucket counts. */
  get counts(): Float64Array {
    const counts = new Float64Array(this.boundaries.length + 1);
    for (let i = 0; i < counts.length; i++) counts[i] = this.data[BUCKETS + 2 * i + 1]!;
    return counts;
  }
  get sum(): number {
    return this.data[SUM]!;
  }
  get count(): number {
    return this.data[COUNT]!;
  }
  get min(): number {
    return this.data[MIN]!;
  }
  get max(): number {
    return this.data[MAX]!;
  }
}

/** The fallback: a regular OTel histogram with a pre-built attribute set. */
class SdkSeries implements DurationSeries {
  constructor(
    private readonly histogram: Histogram,
    private readonly attributes: Attributes,
  ) {}

  record(seconds: number): void {
    this.histogram.record(seconds, this.attributes);
  }
}

interface Registry {
  histograms: Set<DurationHistogram>;
  producers: number;
}

function registry(): Registry {
  return processSingleton<Registry>('otelkit.durationHistograms', () => ({ histograms: new Set(), producers: 0 }));
}

export interface DurationHistogramOptions {
  name: string;
  description: string;
  /** The series of the live targets, read at collection. */
  live: () => Iterable<DurationSeries | undefined>;
}

/** One per instrument family; created when otelkit's meter exists. */
export class DurationHistogram {
  readonly name: string;
  readonly description: string;
  readonly boundaries: readonly number[];
  readonly live: () => Iterable<DurationSeries | undefined>;
  private readonly sdk: Histogram | undefined;

  constructor(meter: Meter, config: OtelkitConfig | undefined, options: DurationHistogramOptions) {
    this.name = options.name;
    this.description = options.description;
    this.live = options.live;
    const configured = config?.histogramBuckets?.[options.name];
    this.boundaries = Object.freeze([...(Array.isArray(configured) && configured.length ? configured : SECONDS_BUCKETS)]);
    const reg = registry();
    if (reg.producers > 0) {
      reg.histograms.add(this);
    } else {
      this.sdk = meter.createHistogram(options.name, { unit: 's', description: options.description, advice: { explicitBucketBoundaries: [...this.boundaries] } });
    }
  }

  /** A new series for one target, with its attribute set built once. */
  series(attributes: Attributes): DurationSeries {
    return this.sdk ? new SdkSeries(this.sdk, attributes) : new LocalSeries(this.boundaries, attributes);
  }
}

export interface InstrumentationProducer extends MetricProducer {
  /** Lets the producer follow the reader's temporality for histograms (cumulative when unbound). */
  bind(reader: { selectAggregationTemporality(type: InstrumentType): AggregationTemporality }): void;
  /** The same as collect(), synchronously (for the final export at process exit). */
  collectNow(): CollectionResult;
}

interface Snapshot {
  counts: Float64Array;
  sum: number;
  count: number;
  atMs: number;
}

/**
 * For the core: one per MetricReader, passed as `metricProducers: [producer]` and
 * then bound with `producer.bind(reader)`. Must be created before register()
 * publishes the meter, so the families know to aggregate locally.
 */
export function createInstrumentationProducer(): InstrumentationProducer {
  const reg = registry();
  reg.producers++;
  let temporality = (): AggregationTemporality => AggregationTemporality.CUMULATIVE;
  const last = new WeakMap<LocalSeries, Snapshot>();

  function point(series: LocalSeries, nowMs: number, delta: boolean): DataPoint<HistogramValue> | undefined {
    const boundaries = [...series.boundaries];
    if (!delta) {
      if (series.count === 0) return undefined;
      return {
        startTime: millisToHrTime(series.startMs),
        endTime: millisToHrTime(nowMs),
        attributes: series.attributes,
        value: { buckets: { boundaries, counts: Array.from(series.counts) }, sum: series.sum, count: series.count, min: series.min, max: series.max },
      };
    }
    const previous = last.get(series);
    // copied: a LocalSeries of another otelkit version sharing this registry may return a live view
    const snapshot: Snapshot = { counts: series.counts.slice(), sum: series.sum, count: series.count, atMs: nowMs };
    last.set(series, snapshot);
    const count = snapshot.count - (previous?.count ?? 0);
    if (count <= 0) return undefined;
    const counts = Array.from(snapshot.counts, (c, i) => c - (previous?.counts[i] ?? 0));
    return {
      startTime: millisToHrTime(previous?.atMs ?? series.startMs),
      endTime: millisToHrTime(nowMs),
      attributes: series.attributes,
      // min/max are since the series started, so they are left out of a delta point.
      value: { buckets: { boundaries, counts }, sum: snapshot.sum - (previous?.sum ?? 0), count },
    };
  }

  return {
    bind(reader) {
      temporality = () => reader.selectAggregationTemporality(InstrumentType.HISTOGRAM);
    },
    async collect(): Promise<CollectionResult> {
      return this.collectNow();
    },
    collectNow(): CollectionResult {
      const errors: unknown[] = [];
      const metrics: HistogramMetricData[] = [];
      let delta = false;
      try {
        delta = temporality() === AggregationTemporality.DELTA;
      } catch (err) {
        errors.push(err);
      }
      const nowMs = Date.now();
      for (const histogram of reg.histograms) {
        try {
          const dataPoints: DataPoint<HistogramValue>[] = [];
          for (const series of histogram.live()) {
            // duck-typed, not instanceof: the ESM and CJS builds share this registry, each with its own class
            if (!series || !('counts' in series)) continue;
            const p = point(series as LocalSeries, nowMs, delta);
            if (p) dataPoints.push(p);
          }
          if (dataPoints.length === 0) continue;
          metrics.push({
            descriptor: { name: histogram.name, description: histogram.description, unit: 's', valueType: ValueType.DOUBLE },
            aggregationTemporality: delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.HISTOGRAM,
            dataPoints,
          });
        } catch (err) {
          errors.push(err);
        }
      }
      return {
        resourceMetrics: {
          resource: emptyResource(),
          scopeMetrics: metrics.length ? [{ scope: { name: 'otelkit', version: OTELKIT_VERSION }, metrics }] : [],
        },
        errors,
      };
    },
  };
}
