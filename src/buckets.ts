/**
 * Histogram bucket boundaries. Unit-based defaults are given as instrument advice
 * (the API's "default unless a view says otherwise"); per-instrument overrides are
 * views. Using views for both would make the SDK export duplicate streams.
 */
import type { Histogram, Meter, MeterOptions, MeterProvider, MetricOptions } from '@opentelemetry/api';
import { AggregationType, InstrumentType, type ViewOptions } from '@opentelemetry/sdk-metrics';

/** The HTTP semantic-convention buckets, in seconds. */
export const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
export const MILLISECONDS_BUCKETS = SECONDS_BUCKETS.map((b) => Math.round(b * 1000));
/** Powers of 4 from 64 B to 64 MiB. */
export const BYTES_BUCKETS = Array.from({ length: 11 }, (_, i) => 4 ** (i + 3));

const BY_UNIT: Record<string, number[]> = {
  s: SECONDS_BUCKETS,
  ms: MILLISECONDS_BUCKETS,
  By: BYTES_BUCKETS,
};

export function defaultBucketsForUnit(unit: string | undefined): number[] | undefined {
  return unit === undefined ? undefined : BY_UNIT[unit];
}

/**
 * One view per configured instrument name. A view's stream ignores the reader's
 * cardinality limit, so the view carries it; matching histograms only keeps a
 * counter that happens to share the name from becoming a histogram.
 */
export function bucketViews(histogramBuckets: Record<string, number[]>, cardinalityLimit: number): ViewOptions[] {
  return Object.entries(histogramBuckets).map(([instrumentName, boundaries]) => ({
    instrumentName,
    instrumentType: InstrumentType.HISTOGRAM,
    aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries } },
    aggregationCardinalityLimit: cardinalityLimit,
  }));
}

/**
 * The provider otelkit registers globally: the SDK provider itself (instanceof,
 * forceFlush, shutdown all intact) except that histograms created without bucket
 * advice get the default for their unit.
 */
export function withUnitBucketAdvice<P extends MeterProvider>(provider: P): P {
  const advised = new WeakMap<Meter, Meter>();
  const getMeter = (name: string, version?: string, options?: MeterOptions): Meter => {
    const meter = provider.getMeter(name, version, options);
    let wrapped = advised.get(meter);
    if (!wrapped) advised.set(meter, (wrapped = adviseMeter(meter)));
    return wrapped;
  };
  return new Proxy(provider, {
    get(target, prop, receiver) {
      if (prop === 'getMeter') return getMeter;
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function adviseMeter(meter: Meter): Meter {
  const createHistogram = (name: string, options?: MetricOptions): Histogram => {
    const boundaries = options?.advice?.explicitBucketBoundaries ? undefined : defaultBucketsForUnit(options?.unit);
    const advised = boundaries ? { ...options, advice: { ...options?.advice, explicitBucketBoundaries: boundaries } } : options;
    return meter.createHistogram(name, advised);
  };
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(meter, {
    get(target, prop, receiver) {
      if (prop === 'createHistogram') return createHistogram;
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      let fn = bound.get(prop);
      if (!fn) bound.set(prop, (fn = value.bind(target)));
      return fn;
    },
  });
}
