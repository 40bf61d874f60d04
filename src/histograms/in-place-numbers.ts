/**
 * Sums and gauges aggregated in place, the counterpart of the in-place histograms
 * (in-place-histogram.ts) for counts: each series is a plain object whose `value` the
 * hot path updates, and otelkit's MetricProducer (producer.ts) hands the live series
 * to every reader at collection, as SUM or GAUGE metric data.
 *
 * Why not observable instruments: the SDK runs their callbacks only in an async
 * collection, so the final OTLP export at process exit (a synchronous collection,
 * exporters/collect-now.ts) would carry their values as of the last export. A job
 * that tracks events or runs a task and then exits would export nothing. The
 * producer is collected synchronously there.
 *
 * Without a producer (a core without that hook), an observable instrument reads
 * the same series.
 */
import { ValueType, type Meter } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  type DataPoint,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import {
  histogramRegistry,
  type InPlaceNumberKind,
  type NumberSeriesState,
  type RegisteredNumbers,
} from './registry.js';

export type { InPlaceNumberKind, NumberSeriesState } from './registry.js';

export interface InPlaceNumbersOptions {
  name: string;
  description: string;
  unit?: string;
  kind: InPlaceNumberKind;
  /** The series of the live targets, read at collection. */
  live: () => Iterable<NumberSeriesState>;
}

/** One per instrument; created when otelkit's meter exists. */
export class InPlaceNumbers implements RegisteredNumbers {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly kind: InPlaceNumberKind;
  readonly live: () => Iterable<NumberSeriesState>;

  constructor(meter: Meter, options: InPlaceNumbersOptions) {
    this.name = options.name;
    this.description = options.description;
    this.unit = options.unit ?? '';
    this.kind = options.kind;
    this.live = options.live;
    const reg = histogramRegistry();
    if (reg.producers > 0) {
      (reg.numbers ??= new Set()).add(this);
      return;
    }
    const metricOptions = { description: this.description, unit: this.unit, valueType: ValueType.DOUBLE };
    const observable =
      this.kind === 'counter'
        ? meter.createObservableCounter(this.name, metricOptions)
        : this.kind === 'updowncounter'
          ? meter.createObservableUpDownCounter(this.name, metricOptions)
          : meter.createObservableGauge(this.name, metricOptions);
    observable.addCallback((result) => {
      for (const s of this.live()) if (this.kind !== 'gauge' || s.set) result.observe(s.value, s.attributes);
    });
  }
}

const OBSERVABLE_TYPE = {
  counter: InstrumentType.OBSERVABLE_COUNTER,
  updowncounter: InstrumentType.OBSERVABLE_UP_DOWN_COUNTER,
  gauge: InstrumentType.OBSERVABLE_GAUGE,
} as const;

/**
 * The metric data of `numbers` now, with the temporality the reader hands out for the
 * observable instrument of that kind. A delta point is the difference to the value
 * `last` remembers for the series. Undefined when there is no point.
 */
export function numbersMetric(
  numbers: RegisteredNumbers,
  nowMs: number,
  temporality: (type: InstrumentType) => AggregationTemporality,
  last: WeakMap<object, { value: number; atMs: number }>,
): MetricData | undefined {
  const descriptor = {
    name: numbers.name,
    description: numbers.description,
    unit: numbers.unit,
    valueType: ValueType.DOUBLE,
  };
  const endTime = millisToHrTime(nowMs);
  const dataPoints: DataPoint<number>[] = [];
  if (numbers.kind === 'gauge') {
    for (const s of numbers.live())
      if (s.set) dataPoints.push({ startTime: endTime, endTime, attributes: s.attributes, value: s.value });
    if (dataPoints.length === 0) return undefined;
    // A gauge's points mean the same whatever the temporality: passed through as they are.
    const aggregationTemporality = AggregationTemporality.CUMULATIVE;
    return { descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE, dataPoints };
  }
  const delta = temporality(OBSERVABLE_TYPE[numbers.kind]) === AggregationTemporality.DELTA;
  for (const s of numbers.live()) {
    if (!delta) {
      dataPoints.push({ startTime: millisToHrTime(s.startMs), endTime, attributes: s.attributes, value: s.value });
      continue;
    }
    const previous = last.get(s);
    last.set(s, { value: s.value, atMs: nowMs });
    const startTime = millisToHrTime(previous?.atMs ?? s.startMs);
    dataPoints.push({ startTime, endTime, attributes: s.attributes, value: s.value - (previous?.value ?? 0) });
  }
  if (dataPoints.length === 0) return undefined;
  return {
    descriptor,
    aggregationTemporality: delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: numbers.kind === 'counter',
    dataPoints,
  };
}
