/**
 * The MetricProducer that hands the in-place histograms (in-place-histogram.ts)
 * to a reader at collection, as standard explicit-bucket histograms, and the
 * in-place sums and gauges (in-place-numbers.ts) as SUM and GAUGE data.
 */
import { ValueType } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  type CollectionResult,
  type DataPoint,
  type Histogram as HistogramValue,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { OTELKIT_VERSION } from '../version.js';
import { numbersMetric } from './in-place-numbers.js';
import type { LocalSeries } from './local-series.js';
import { histogramRegistry } from './registry.js';

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
  const reg = histogramRegistry();
  reg.producers++;
  let temporality = (_type: InstrumentType): AggregationTemporality => AggregationTemporality.CUMULATIVE;
  const last = new WeakMap<LocalSeries, Snapshot>();
  const lastNumbers = new WeakMap<object, { value: number; atMs: number }>();

  function point(series: LocalSeries, nowMs: number, delta: boolean): DataPoint<HistogramValue> | undefined {
    const boundaries = [...series.boundaries];
    if (!delta) {
      if (series.count === 0) return undefined;
      return {
        startTime: millisToHrTime(series.startMs),
        endTime: millisToHrTime(nowMs),
        attributes: series.attributes,
        value: {
          buckets: { boundaries, counts: Array.from(series.counts) },
          sum: series.sum,
          count: series.count,
          min: series.min,
          max: series.max,
        },
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
      temporality = (type) => reader.selectAggregationTemporality(type);
    },
    async collect(): Promise<CollectionResult> {
      return this.collectNow();
    },
    collectNow(): CollectionResult {
      const errors: unknown[] = [];
      const metrics: MetricData[] = [];
      let delta = false;
      try {
        delta = temporality(InstrumentType.HISTOGRAM) === AggregationTemporality.DELTA;
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
            descriptor: {
              name: histogram.name,
              description: histogram.description,
              unit: histogram.unit ?? 's',
              valueType: histogram.unit === 'By' ? ValueType.INT : ValueType.DOUBLE,
            },
            aggregationTemporality: delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.HISTOGRAM,
            dataPoints,
          });
        } catch (err) {
          errors.push(err);
        }
      }
      for (const numbers of reg.numbers ?? []) {
        try {
          const metric = numbersMetric(numbers, nowMs, temporality, lastNumbers);
          if (metric) metrics.push(metric);
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
