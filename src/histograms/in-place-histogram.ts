/**
 * Histograms that cost the hot path a few nanoseconds instead of an OTel
 * `histogram.record` (whose attribute hashing alone costs about as much as a
 * prom-client labelled observe): the limiter wait, the breaker call, and the HTTP
 * durations and body sizes.
 *
 * Each instrumented target owns a series: plain bucket counts, sum, count, min and
 * max, updated in place (local-series.ts). A MetricProducer, attached to every
 * reader by the core (producer.ts, see src/provider.ts), turns the live series into
 * standard explicit-bucket HistogramMetricData at collection: cumulative or delta,
 * whichever the reader selects for histograms. Bucket boundaries and the cardinality
 * limit come from series-policy.ts (`histogramBuckets[name]` in the config, else the
 * defaults for the unit); the series tables that create series per attribute set
 * cap them at `cardinalityLimit`.
 *
 * When no producer is attached (a core without that hook), the series fall back
 * to a regular OTel histogram recorded with a pre-built attribute set.
 */
import { ValueType, type Attributes, type Histogram, type Meter } from '@opentelemetry/api';
import { DEFAULT_BUCKETS, bucketsFor, cardinalityLimitFor } from '../series-policy.js';
import type { OtelkitConfig } from '../config/types.js';
import { LocalSeries, type HistogramSeries } from './local-series.js';
import { histogramRegistry } from './registry.js';

export type { HistogramSeries } from './local-series.js';

/** The fallback: a regular OTel histogram with a pre-built attribute set. */
class SdkSeries implements HistogramSeries {
  constructor(
    private readonly histogram: Histogram,
    private readonly attributes: Attributes,
  ) {}

  record(value: number): void {
    this.histogram.record(value, this.attributes);
  }
}

export interface InPlaceHistogramOptions {
  name: string;
  description: string;
  /** UCUM unit, as OpenTelemetry names it: `s` (the default), `By`, or any other. Picks the default buckets too. */
  unit?: string;
  /** Boundaries when the configuration names none, instead of the default for the unit. */
  boundaries?: readonly number[];
  /** The series of the live targets, read at collection. */
  live: () => Iterable<HistogramSeries | undefined>;
}

/** One per instrument; created when otelkit's meter exists. */
export class InPlaceHistogram {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly boundaries: readonly number[];
  /** At most this many series, the overflow one included, for callers that create series per attribute set. */
  readonly cardinalityLimit: number;
  readonly live: () => Iterable<HistogramSeries | undefined>;
  private readonly sdk: Histogram | undefined;

  constructor(meter: Meter, config: OtelkitConfig | undefined, options: InPlaceHistogramOptions) {
    this.name = options.name;
    this.description = options.description;
    this.unit = options.unit ?? 's';
    this.live = options.live;
    this.boundaries = Object.freeze([
      ...(bucketsFor(config, options.name, this.unit, options.boundaries) ?? DEFAULT_BUCKETS),
    ]);
    this.cardinalityLimit = cardinalityLimitFor(config, options.name);
    const reg = histogramRegistry();
    if (reg.producers > 0) {
      reg.histograms.add(this);
    } else {
      this.sdk = meter.createHistogram(options.name, {
        unit: this.unit,
        description: options.description,
        valueType: this.unit === 'By' ? ValueType.INT : ValueType.DOUBLE,
        advice: { explicitBucketBoundaries: [...this.boundaries] },
      });
    }
  }

  /** A new series for one target, with its attribute set built once. */
  series(attributes: Attributes): HistogramSeries {
    return this.sdk ? new SdkSeries(this.sdk, attributes) : new LocalSeries(this.boundaries, attributes);
  }
}
