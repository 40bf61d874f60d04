/**
 * Histogram bucket boundaries. Unit-based defaults are given as instrument advice
 * (the API's "default unless a view says otherwise"); per-instrument overrides are
 * views. Using views for both would make the SDK export duplicate streams.
 */
import type { Histogram, Meter, MeterOptions, MeterProvider, MetricOptions } from '@opentelemetry/api';
import { AggregationType, type ViewOptions } from '@opentelemetry/sdk-metrics';

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

/** One view per configured instrument name. */
export function bucketViews(histogramBuckets: Record<string, number[]>): ViewOptions[] {
  return Object.entries(histogramBuckets).map(([instrumentName, boundaries]) => ({
    instrumentName,
    aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries } },
  }));
}

/**
 * Wraps a MeterProvider so histograms created without bucket advice get the
 * default for their unit. Everything else is passed through untouched.
 */
export function withUnitBucketAdvice(provider: MeterProvider): MeterProvider {
  return {
    getMeter(name: string, version?: string, options?: MeterOptions): Meter {
      return adviseMeter(provider.getMeter(name, version, options));
    },
  };
}

function adviseMeter(meter: Meter): Meter {
  return new Proxy(meter, {
    get(target, prop, receiver) {
      if (prop === 'createHistogram') return createHistogram;
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

  function createHistogram(name: string, options?: MetricOptions): Histogram {
    const boundaries = options?.advice?.explicitBucketBoundaries ? undefined : defaultBucketsForUnit(options?.unit);
    const advised = boundaries ? { ...options, advice: { ...options?.advice, explicitBucketBoundaries: boundaries } } : options;
    return meter.createHistogram(name, advised);
  }
}
