/**
 * Delta -> cumulative conversion with a cardinality limit that holds across
 * collections.
 *
 * The SDK behaviour this works around: @opentelemetry/sdk-metrics (3.1) applies the
 * cardinality limit of a synchronous instrument only to its per-collection storage
 * (DeltaMetricProcessor, since
 * https://github.com/open-telemetry/opentelemetry-js/pull/5128, which closed
 * https://github.com/open-telemetry/opentelemetry-js/issues/4095); with cumulative
 * temporality its TemporalMetricProcessor then merges every cycle's attribute sets
 * into the reported history without a cap, so a counter that keeps seeing new
 * attribute sets exports ever more series and the SDK's memory grows forever. (No
 * upstream issue for exactly this was found; those two are where the limit came
 * from.) The metrics SDK spec asks for a cap on the cumulative series.
 *
 * So for the readers that export cumulative data (Prometheus; OTLP/console with a
 * cumulative preference), otelkit lets the SDK aggregate synchronous instruments
 * in DELTA (per-cycle storage, reset at every collection: bounded) and cumulates
 * here, per stream, with the cap the spec asks for: attribute sets seen before
 * the stream reached the limit keep their own series; measurements for new ones
 * fold into the single `otel.metric.overflow=true` point; limit N means at most N
 * points, the overflow point included. The SDK's per-cycle cap and the limit
 * itself come from series-policy.ts.
 *
 * Asynchronous instruments stay cumulative in the SDK: their storage is already
 * bounded (the SDK's cumulative memo refuses new attribute sets past the limit)
 * and the SDK handles their counter resets. Metrics that arrive CUMULATIVE
 * (those, and otelkit's own duration histograms, see src/histograms/) pass
 * through untouched.
 *
 * When this file can go: once the SDK caps the cumulative series of synchronous
 * instruments itself (an attribute set seen before the limit keeps its series, new
 * ones go to the overflow point, across collections). Then the readers ask the SDK
 * for what the exporter wants, with the bare limit, and the first two tests of
 * test/e2e/cardinality.test.ts must still pass without this file.
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  type CollectionResult,
  type DataPoint,
  type ExponentialHistogram,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { OVERFLOW_ATTRIBUTES, OVERFLOW_KEY } from '../overflow.js';
import { sdkCycleLimit } from '../series-policy.js';

export type TemporalitySelector = (type: InstrumentType) => AggregationTemporality;

/** The SDK's default maximum number of buckets per side of an exponential histogram. */
const EXPONENTIAL_MAX_SIZE = 160;

const SYNC_TYPES = new Set<InstrumentType>([
  InstrumentType.COUNTER,
  InstrumentType.UP_DOWN_COUNTER,
  InstrumentType.HISTOGRAM,
  InstrumentType.GAUGE,
]);

/**
 * The synchronous instrument type a metric of this shape comes from. A DELTA
 * metric handed to `CumulativeState` always comes from a synchronous instrument:
 * `Cumulation.sdkTemporality` only asks the SDK for delta on those.
 */
export function syncInstrumentType(metric: MetricData): InstrumentType {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return metric.isMonotonic ? InstrumentType.COUNTER : InstrumentType.UP_DOWN_COUNTER;
    case DataPointType.GAUGE:
      return InstrumentType.GAUGE;
    default:
      return InstrumentType.HISTOGRAM;
  }
}

/** A stable key for an attribute set (order-insensitive). */
export function attributesKey(attributes: Attributes): string {
  const keys = Object.keys(attributes);
  if (keys.length === 0) return '';
  keys.sort();
  let key = '';
  for (const k of keys) key += `${JSON.stringify(k)}:${JSON.stringify(attributes[k]) ?? 'u'},`;
  return key;
}

function isOverflow(attributes: Attributes): boolean {
  const keys = Object.keys(attributes);
  return keys.length === 1 && attributes[OVERFLOW_KEY] === true;
}

function later(a: HrTime, b: HrTime): HrTime {
  return a[0] > b[0] || (a[0] === b[0] && a[1] >= b[1]) ? a : b;
}

type Value = number | Histogram | ExponentialHistogram;

interface Point {
  startTime: HrTime;
  attributes: Attributes;
  value: Value;
}

interface Stream {
  scope: ScopeMetrics['scope'];
  /** The latest metric (descriptor, type, monotonicity) with its points replaced. */
  metric: MetricData;
  points: Map<string, Point>;
  overflow: Point | undefined;
}

function copyValue(type: DataPointType, value: Value): Value {
  switch (type) {
    case DataPointType.HISTOGRAM: {
      const h = value as Histogram;
      return { ...h, buckets: { boundaries: [...h.buckets.boundaries], counts: [...h.buckets.counts] } };
    }
    case DataPointType.EXPONENTIAL_HISTOGRAM: {
      const e = value as ExponentialHistogram;
      return {
        ...e,
        positive: { offset: e.positive.offset, bucketCounts: [...e.positive.bucketCounts] },
        negative: { offset: e.negative.offset, bucketCounts: [...e.negative.bucketCounts] },
      };
    }
    default:
      return value;
  }
}

function minOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}
function maxOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

function addHistograms(into: Histogram, delta: Histogram): Histogram {
  const counts = into.buckets.counts;
  const add = delta.buckets.counts;
  // Same stream, same aggregator: same boundaries. Guard anyway rather than corrupt.
  if (add.length !== counts.length) return copyValue(DataPointType.HISTOGRAM, delta) as Histogram;
  for (let i = 0; i < add.length; i++) counts[i]! += add[i]!;
  into.count += delta.count;
  if (into.sum !== undefined || delta.sum !== undefined) into.sum = (into.sum ?? 0) + (delta.sum ?? 0);
  into.min = minOf(into.min, delta.min);
  into.max = maxOf(into.max, delta.max);
  return into;
}

interface Side {
  offset: number;
  bucketCounts: number[];
}

/** floor(index / 2^shift), for indexes beyond the 32-bit range of `>>` too. */
function shiftDown(index: number, shift: number): number {
  return shift === 0 ? index : Math.floor(index / 2 ** shift);
}

/** [low, high] of a side's non-empty bucket range at `scale`, or undefined when empty. */
function rangeAt(side: Side, from: number, to: number): [number, number] | undefined {
  if (side.bucketCounts.length === 0) return undefined;
  return [shiftDown(side.offset, from - to), shiftDown(side.offset + side.bucketCounts.length - 1, from - to)];
}

function hasBuckets(e: ExponentialHistogram): boolean {
  return e.positive.bucketCounts.length > 0 || e.negative.bucketCounts.length > 0;
}

/**
 * Merges two exponential histograms as the SDK's own cumulative merge does: both
 * go to the smaller scale, then lower still until each side's index range fits
 * in the maximum bucket count (the SDK default 160, or more if a point already
 * has more). A point with no buckets (only zeros) does not drag the scale down.
 */
export function addExponential(a: ExponentialHistogram, b: ExponentialHistogram): ExponentialHistogram {
  const maxSize = Math.max(
    EXPONENTIAL_MAX_SIZE,
    a.positive.bucketCounts.length,
    a.negative.bucketCounts.length,
    b.positive.bucketCounts.length,
    b.negative.bucketCounts.length,
  );
  let scale = !hasBuckets(a) ? b.scale : !hasBuckets(b) ? a.scale : Math.min(a.scale, b.scale);
  const fits = (side: 'positive' | 'negative', s: number): boolean => {
    const ra = hasBuckets(a) ? rangeAt(a[side], a.scale, s) : undefined;
    const rb = hasBuckets(b) ? rangeAt(b[side], b.scale, s) : undefined;
    if (!ra && !rb) return true;
    const low = Math.min(ra?.[0] ?? Infinity, rb?.[0] ?? Infinity);
    const high = Math.max(ra?.[1] ?? -Infinity, rb?.[1] ?? -Infinity);
    return high - low < maxSize;
  };
  while (!(fits('positive', scale) && fits('negative', scale))) scale--;
  const mergeSide = (side: 'positive' | 'negative'): Side => {
    const sources: [Side, number][] = [];
    if (hasBuckets(a)) sources.push([a[side], a.scale]);
    if (hasBuckets(b)) sources.push([b[side], b.scale]);
    let low = Infinity;
    let high = -Infinity;
    for (const [s, from] of sources) {
      const r = rangeAt(s, from, scale);
      if (r) {
        low = Math.min(low, r[0]);
        high = Math.max(high, r[1]);
      }
    }
    if (low > high) return { offset: 0, bucketCounts: [] };
    const counts = new Array<number>(high - low + 1).fill(0);
    for (const [s, from] of sources) {
      for (let i = 0; i < s.bucketCounts.length; i++)
        counts[shiftDown(s.offset + i, from - scale) - low]! += s.bucketCounts[i]!;
    }
    return { offset: low, bucketCounts: counts };
  };
  const positive = mergeSide('positive');
  const negative = mergeSide('negative');
  return {
    count: a.count + b.count,
    sum: a.sum === undefined && b.sum === undefined ? undefined : (a.sum ?? 0) + (b.sum ?? 0),
    scale: hasBuckets(a) || hasBuckets(b) ? scale : 0,
    zeroCount: a.zeroCount + b.zeroCount,
    positive,
    negative,
    min: minOf(a.min, b.min),
    max: maxOf(a.max, b.max),
  };
}

function merge(type: DataPointType, into: Value, delta: Value): Value {
  switch (type) {
    case DataPointType.SUM:
      return (into as number) + (delta as number);
    case DataPointType.GAUGE:
      return delta; // last value wins; points of one collection share the end time
    case DataPointType.HISTOGRAM:
      return addHistograms(into as Histogram, delta as Histogram);
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      return addExponential(into as ExponentialHistogram, delta as ExponentialHistogram);
    default:
      return delta;
  }
}

/**
 * Per-reader state: one per reader, fed every collection of that reader, in
 * order. `cumulate` is synchronous and returns fresh objects (never the live
 * state), so a slow serializer cannot see a later collection's values.
 */
export class CumulativeState {
  private readonly streams = new Map<string, Stream>();
  private lastEnd: HrTime | undefined;

  /**
   * @param limit the cardinality limit: at most `limit` points per stream, the overflow one included.
   * @param shouldCumulate which metrics to cumulate; the others pass through. Default: the DELTA ones.
   */
  constructor(
    private readonly limit: number,
    private readonly shouldCumulate: (metric: MetricData) => boolean = (m) =>
      m.aggregationTemporality === AggregationTemporality.DELTA,
  ) {}

  /** The number of streams held (for tests). */
  get size(): number {
    return this.streams.size;
  }

  cumulate(rm: ResourceMetrics): ResourceMetrics {
    let end: HrTime | undefined;
    const passThrough: ScopeMetrics[] = [];
    for (const sm of rm.scopeMetrics) {
      const others: MetricData[] = [];
      for (const metric of sm.metrics) {
        if (!this.shouldCumulate(metric)) {
          others.push(metric);
          continue;
        }
        const stream = this.stream(sm.scope, metric);
        for (const dp of metric.dataPoints as DataPoint<Value>[]) {
          end = end ? later(end, dp.endTime) : dp.endTime;
          this.add(stream, metric.dataPointType, dp);
        }
      }
      if (others.length) passThrough.push({ scope: sm.scope, metrics: others });
    }
    // Streams with nothing new this cycle are still reported, as of this collection.
    end ??= millisToHrTime(Date.now());
    this.lastEnd = end = this.lastEnd ? later(this.lastEnd, end) : end;

    const byScope = new Map<string, ScopeMetrics>();
    for (const stream of this.streams.values()) {
      const scopeKey = scopeId(stream.scope);
      let sm = byScope.get(scopeKey);
      if (!sm) byScope.set(scopeKey, (sm = { scope: stream.scope, metrics: [] }));
      sm.metrics.push(this.output(stream, end));
    }
    return { resource: rm.resource, scopeMetrics: [...byScope.values(), ...passThrough] };
  }

  private stream(scope: ScopeMetrics['scope'], metric: MetricData): Stream {
    const d = metric.descriptor;
    // Everything that makes the SDK keep two streams apart, so they never merge here.
    const key = JSON.stringify([
      scopeId(scope),
      d.name,
      d.unit,
      d.valueType,
      metric.dataPointType,
      metric.dataPointType === DataPointType.SUM ? metric.isMonotonic : null,
      metric.dataPointType === DataPointType.HISTOGRAM
        ? (metric.dataPoints[0]?.value.buckets.boundaries ?? null)
        : null,
    ]);
    let stream = this.streams.get(key);
    if (!stream) this.streams.set(key, (stream = { scope, metric, points: new Map(), overflow: undefined }));
    else stream.metric = metric; // a description update from a view, say
    return stream;
  }

  private add(stream: Stream, type: DataPointType, dp: DataPoint<Value>): void {
    let key: string | undefined;
    let point: Point | undefined;
    if (!isOverflow(dp.attributes)) {
      key = attributesKey(dp.attributes);
      point = stream.points.get(key);
      if (!point && stream.points.size >= this.limit - 1) key = undefined; // past the limit: overflow
    }
    if (key === undefined) point = stream.overflow;
    if (point) {
      point.value = merge(type, point.value, dp.value);
      return;
    }
    const created: Point = {
      startTime: dp.startTime,
      attributes: key === undefined ? OVERFLOW_ATTRIBUTES : dp.attributes,
      value: copyValue(type, dp.value),
    };
    if (key === undefined) stream.overflow = created;
    else stream.points.set(key, created);
  }

  private output(stream: Stream, endTime: HrTime): MetricData {
    const type = stream.metric.dataPointType;
    const dataPoints: DataPoint<Value>[] = [];
    for (const p of stream.points.values())
      dataPoints.push({ startTime: p.startTime, endTime, attributes: p.attributes, value: copyValue(type, p.value) });
    if (stream.overflow) {
      const o = stream.overflow;
      dataPoints.push({ startTime: o.startTime, endTime, attributes: o.attributes, value: copyValue(type, o.value) });
    }
    return { ...stream.metric, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints } as MetricData;
  }
}

function scopeId(scope: ScopeMetrics['scope']): string {
  return JSON.stringify([scope.name, scope.version ?? '', scope.schemaUrl ?? '']);
}

/**
 * What a cumulating reader needs: the temporality and cardinality limit to ask
 * the SDK for, and collections serialized through one `CumulativeState`.
 */
export class Cumulation {
  private readonly state: CumulativeState;
  private chain: Promise<unknown> = Promise.resolve();

  /**
   * @param wanted the temporality the reader's consumer wants per instrument type.
   * @param limit the configured cardinality limit.
   */
  constructor(
    readonly wanted: TemporalitySelector,
    private readonly limit: number,
  ) {
    this.state = new CumulativeState(
      limit,
      (m) =>
        m.aggregationTemporality === AggregationTemporality.DELTA &&
        wanted(syncInstrumentType(m)) === AggregationTemporality.CUMULATIVE,
    );
  }

  private converts(type: InstrumentType): boolean {
    return SYNC_TYPES.has(type) && this.wanted(type) === AggregationTemporality.CUMULATIVE;
  }

  /** DELTA for the synchronous instruments otelkit cumulates, else what the consumer wants. */
  sdkTemporality(type: InstrumentType): AggregationTemporality {
    return this.converts(type) ? AggregationTemporality.DELTA : this.wanted(type);
  }

  /** The SDK's per-cycle cap: the limit, with headroom where otelkit cumulates (series-policy.ts says why). */
  sdkCardinalityLimit(type: InstrumentType): number {
    return sdkCycleLimit(this.limit, this.converts(type));
  }

  /** Runs one collection and cumulates it; collections run one at a time, in order. */
  collect(run: () => Promise<CollectionResult>): Promise<CollectionResult> {
    const result = this.chain.then(async () => {
      const { resourceMetrics, errors } = await run();
      return { resourceMetrics: this.state.cumulate(resourceMetrics), errors };
    });
    this.chain = result.catch(() => undefined);
    return result;
  }

  /** Cumulates a collection made synchronously (the final one, at process exit). */
  cumulateNow(resourceMetrics: ResourceMetrics): ResourceMetrics {
    return this.state.cumulate(resourceMetrics);
  }
}
