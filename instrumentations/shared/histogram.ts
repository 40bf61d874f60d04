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

/** What a record holds to record its durations. */
export interface DurationSeries {
  /** `seconds` must be a finite number >= 0 (callers check). */
  record(seconds: number): void;
}

/** Where LocalSeries keeps what: [sum, count, min, max, upper bounds (n), bucket counts (n + 1)]. */
const SUM = 0;
const COUNT = 1;
const MIN = 2;
const MAX = 3;
const BOUNDS = 4;

/**
 * A series aggregated in place (the fast path). Everything a record touches sits in
 * one Float64Array, the totals next to the first bounds, instead of a counts array,
 * a bounds array and three boxed numbers: on a hot path the rest of a request's work
 * evicts these objects between two records, so each one touched is a likely cache
 * miss (`BENCH_CACHE_SIM=1 npm run bench:http-instructions` counts them; this layout
 * saved 3-4 per HTTP request).
 */
class LocalSeries implements DurationSeries {
  private readonly data: Float64Array;
  private readonly n: number;
  readonly startMs = Date.now();

  constructor(
    readonly boundaries: readonly number[],
    readonly attributes: Attributes,
  ) {
    const n = boundaries.length;
    this.n = n;
    this.data = new Float64Array(BOUNDS + 2 * n + 1);
    this.data.set(boundaries, BOUNDS);
    this.data[MIN] = Infinity;
    this.data[MAX] = -Infinity;
  }

  record(seconds: number): void {
    const d = this.data;
    const n = this.n;
    let i = BOUNDS;
    while (i < BOUNDS + n && seconds > d[i]!) i++; // upper bounds are inclusive, as in the SDK
    d[i + n]!++; // bucket i - BOUNDS, stored at BOUNDS + n + (i - BOUNDS) (see `counts`)
    d[SUM] = d[SUM]! + seconds;
    d[COUNT]!++;
    if (seconds < d[MIN]!) d[MIN] = seconds;
    if (seconds > d[MAX]!) d[MAX] = seconds;
  }

  /** The bucket counts (a view: copy before keeping). */
  get counts(): Float64Array {
    return this.data.subarray(BOUNDS + this.n, BOUNDS + 2 * this.n + 1);
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

const KEY = Symbol.for('otelkit.durationHistograms');

function registry(): Registry {
  const holder = globalThis as unknown as Record<symbol, Registry | undefined>;
  return (holder[KEY] ??= { histograms: new Set(), producers: 0 });
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
