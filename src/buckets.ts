/**
 * Histogram bucket boundaries handed to the SDK (series-policy.ts decides them).
 * Unit-based defaults are given as instrument advice (the API's "default unless a
 * view says otherwise"); per-instrument overrides are views. Using views for both
 * would make the SDK export duplicate streams.
 */
import type { Histogram, Meter, MeterOptions, MeterProvider, MetricOptions } from '@opentelemetry/api';
import { AggregationType, InstrumentType, type ViewOptions } from '@opentelemetry/sdk-metrics';
import type { OtelkitConfig } from './config/types.js';
import { cardinalityLimitFor, defaultBucketsForUnit, sdkCycleLimit } from './series-policy.js';

/**
 * One view per configured instrument name. A view's stream is one storage shared by
 * every reader and ignores the readers' cardinality selectors, so the view carries
 * the SDK's per-cycle cap itself, by the same rule as the readers
 * (`sdkCycleLimit`): with headroom when some reader cumulates histograms. Matching
 * histograms only keeps a counter that happens to share the name from becoming a
 * histogram. The view's aggregation also replaces the readers' own, so these
 * histograms stay explicit-bucket in OTLP with exponential histograms asked for.
 *
 * @param cumulated whether some reader cumulates histograms (exporters/cumulative.ts).
 */
export function bucketViews(
  config: Pick<OtelkitConfig, 'histogramBuckets' | 'cardinalityLimit'>,
  cumulated: boolean,
): ViewOptions[] {
  return Object.entries(config.histogramBuckets).map(([instrumentName, boundaries]) => ({
    instrumentName,
    instrumentType: InstrumentType.HISTOGRAM,
    aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries } },
    aggregationCardinalityLimit: sdkCycleLimit(cardinalityLimitFor(config, instrumentName), cumulated),
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
    const advised = boundaries
      ? { ...options, advice: { ...options?.advice, explicitBucketBoundaries: boundaries } }
      : options;
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
