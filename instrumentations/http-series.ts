/**
 * The series of the HTTP instruments, one entry per distinct attribute combination:
 * its attribute object (built once), its duration series and, once body sizes are
 * on, its request and response size series. Durations and sizes of one request go
 * through the same lookup, the same cardinality limit and the same overflow series.
 *
 * Why not `histogram.record(value, attributes)` per request: the SDK hashes the
 * attribute object on every call. Here a request costs the caller's own lookup plus
 * a bucket increment per histogram; the SDK gets the aggregated series at collection
 * through otelkit's MetricProducer (src/histograms/).
 */
import { diag, type Attributes, type Meter } from '@opentelemetry/api';
import type { OtelkitConfig } from '../src/config/types.js';
import { InPlaceHistogram, type HistogramSeries } from '../src/histograms/in-place-histogram.js';
import { OVERFLOW_ATTRIBUTES } from '../src/overflow.js';

/** One attribute combination and its series. */
export interface HttpSeries {
  readonly attributes: Attributes;
  readonly duration: HistogramSeries;
  /** Created on the first recorded size (sizes on). */
  requestSize?: HistogramSeries;
  responseSize?: HistogramSeries;
}

interface InstrumentName {
  name: string;
  description: string;
}

export interface HttpSeriesOptions {
  duration: InstrumentName;
  /** The body-size histograms, created by `enableSizes()`. */
  sizes?: { request: InstrumentName; response: InstrumentName };
  /** Runs at each collection before the series are read (to record what is due). */
  beforeCollect?: () => void;
}

/**
 * Callers look series up with their own cheap keys and only build attributes on a
 * miss. At most the policy's cardinality limit of distinct series; later
 * combinations share one overflow series, as the SDK's cardinality limit would do.
 */
export class HttpSeriesTable {
  private readonly entries: HttpSeries[] = [];
  private readonly duration: InPlaceHistogram;
  private sizes: { request: InPlaceHistogram; response: InPlaceHistogram } | undefined;
  private overflow: HttpSeries | undefined;
  /** New combinations get their own series below this count; one slot stays for the overflow series. */
  private readonly limit: number;

  constructor(
    private readonly meter: Meter,
    private readonly config: OtelkitConfig,
    private readonly options: HttpSeriesOptions,
  ) {
    const { beforeCollect } = options;
    const entries = this.entries;
    this.duration = this.histogram(options.duration, 's', function* () {
      beforeCollect?.();
      for (const e of entries) yield e.duration;
    });
    this.limit = this.duration.cardinalityLimit - 1;
  }

  /** Starts the body-size histograms (idempotent; a table created without size names ignores it). */
  enableSizes(): void {
    const names = this.options.sizes;
    if (this.sizes !== undefined || names === undefined) return;
    const entries = this.entries;
    this.sizes = {
      request: this.histogram(names.request, 'By', function* () {
        for (const e of entries) yield e.requestSize;
      }),
      response: this.histogram(names.response, 'By', function* () {
        for (const e of entries) yield e.responseSize;
      }),
    };
  }

  get sizesEnabled(): boolean {
    return this.sizes !== undefined;
  }

  /** A new entry for `attributes`, or the overflow entry past the limit. */
  create(attributes: Attributes): HttpSeries {
    if (this.entries.length >= this.limit) {
      if (!this.overflow) {
        diag.warn(
          `otelkit: ${this.duration.name} reached ${this.limit} attribute sets; ` +
            'further ones are reported as otel.metric.overflow=true',
        );
        this.overflow = { attributes: OVERFLOW_ATTRIBUTES, duration: this.duration.series(OVERFLOW_ATTRIBUTES) };
        this.entries.push(this.overflow);
      }
      return this.overflow;
    }
    const frozen = Object.freeze({ ...attributes });
    const entry: HttpSeries = { attributes: frozen, duration: this.duration.series(frozen) };
    this.entries.push(entry);
    return entry;
  }

  /** True once new combinations land in the overflow series (callers then stop caching misses). */
  get full(): boolean {
    return this.overflow !== undefined;
  }

  /** Records body sizes (bytes; undefined when unknown) in `entry`'s size series, if sizes are on. */
  recordSizes(entry: HttpSeries, requestBytes: number | undefined, responseBytes: number | undefined): void {
    const sizes = this.sizes;
    if (sizes === undefined) return;
    if (requestBytes !== undefined) (entry.requestSize ??= sizes.request.series(entry.attributes)).record(requestBytes);
    if (responseBytes !== undefined)
      (entry.responseSize ??= sizes.response.series(entry.attributes)).record(responseBytes);
  }

  private histogram(
    instrument: InstrumentName,
    unit: 's' | 'By',
    live: () => Iterable<HistogramSeries | undefined>,
  ): InPlaceHistogram {
    return new InPlaceHistogram(this.meter, this.config, { ...instrument, unit, live });
  }
}
