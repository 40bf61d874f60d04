/**
 * The metrics the `events.metrics` mapping declares, and the feeds from each event
 * to them. A metric is created once (several events may feed it); its series are
 * otelkit's own (series.ts): sums and last values read by observable instruments at
 * collection, histograms aggregated in place (src/histograms/). So a tracked event
 * costs a few property reads and Map lookups, not an OTel `counter.add` (which hashes
 * the attributes on every call).
 */
import { diag, ValueType, type BatchObservableResult, type Meter, type Observable } from '@opentelemetry/api';
import type { OtelkitConfig, ResolvedEventMetric } from '../../src/config/types.js';
import { InPlaceHistogram, type HistogramSeries } from '../../src/histograms/in-place-histogram.js';
import { cardinalityLimitFor } from '../../src/series-policy.js';
import { NumberSeries, SeriesTable, type EventAttributes } from './series.js';

const COUNTER = 0;
const UPDOWNCOUNTER = 1;
const GAUGE = 2;
const HISTOGRAM = 3;
const KINDS = { counter: COUNTER, updowncounter: UPDOWNCOUNTER, gauge: GAUGE, histogram: HISTOGRAM } as const;

type Series = NumberSeries | HistogramSeries;

/** One declared metric and its series, shared by every event that feeds it. */
export class EventMetric {
  readonly kind: number;
  readonly keys: readonly string[];
  readonly table: SeriesTable<Series>;
  readonly observable: Observable | undefined;

  constructor(
    readonly spec: ResolvedEventMetric,
    meter: Meter,
    config: OtelkitConfig,
  ) {
    this.kind = KINDS[spec.type];
    this.keys = spec.attributes.map(([key]) => key);
    const limit = cardinalityLimitFor(config, spec.metric);
    const options = { unit: spec.unit, description: spec.description, valueType: ValueType.DOUBLE };
    if (this.kind === HISTOGRAM) {
      const histogram = new InPlaceHistogram(meter, config, {
        name: spec.metric,
        description: spec.description,
        unit: spec.unit,
        live: () => this.table.series() as Generator<HistogramSeries>,
      });
      this.table = new SeriesTable<Series>(limit, (attributes) => histogram.series(attributes));
      return;
    }
    this.table = new SeriesTable<Series>(limit, (attributes) => new NumberSeries(attributes));
    this.observable =
      this.kind === COUNTER
        ? meter.createObservableCounter(spec.metric, options)
        : this.kind === UPDOWNCOUNTER
          ? meter.createObservableUpDownCounter(spec.metric, options)
          : meter.createObservableGauge(spec.metric, options);
  }

  observe(result: BatchObservableResult): void {
    if (!this.observable) return;
    for (const series of this.table.series() as Generator<NumberSeries>)
      if (this.kind !== GAUGE || series.set) result.observe(this.observable, series.value, series.attributes);
  }
}

/**
 * What one event does to one metric: which attribute defaults and value it uses.
 * Counters and up-down counters count 1 per event unless the mapping names a value
 * attribute; histograms and gauges always take a value. A value comes from the named
 * attribute, else from the value given to track() (or to a bound event's record()).
 */
export class Feed {
  private readonly kind: number;
  private readonly fallbacks: readonly string[];
  private readonly valueKey: string | undefined;
  private readonly takesValue: boolean;
  private warned = false;

  constructor(
    private readonly event: string,
    readonly metric: EventMetric,
    spec: ResolvedEventMetric,
  ) {
    this.kind = metric.kind;
    this.fallbacks = spec.attributes.map(([, fallback]) => fallback);
    this.valueKey = spec.value;
    this.takesValue = spec.value !== undefined || this.kind === HISTOGRAM || this.kind === GAUGE;
  }

  /** One tracked event. */
  track(attributes: EventAttributes | undefined, value: number | undefined): void {
    const n = this.valueOf(attributes, value);
    if (n !== undefined) this.apply(this.seriesFor(attributes), n);
  }

  seriesFor(attributes: EventAttributes | undefined): Series {
    return this.metric.table.lookup(attributes, this.metric.keys, this.fallbacks);
  }

  /** The number to record, or undefined (with one diagnostic per feed) when there is none usable. */
  valueOf(attributes: EventAttributes | undefined, value: number | undefined): number | undefined {
    if (!this.takesValue) return 1;
    const named = this.valueKey === undefined ? undefined : attributes?.[this.valueKey];
    const v = named ?? value;
    if (typeof v === 'number' && Number.isFinite(v) && (v >= 0 || this.kind === UPDOWNCOUNTER || this.kind === GAUGE))
      return v;
    if (!this.warned) {
      this.warned = true;
      const from = this.valueKey === undefined ? '' : `attribute "${this.valueKey}" or `;
      diag.warn(
        `otelkit: event "${this.event}" feeds ${this.metric.spec.type} ${this.metric.spec.metric} with ` +
          `${from}the value given to track(), which was ${v === undefined ? 'missing' : String(v)}; ` +
          'such events are not recorded there (reported once)',
      );
    }
    return undefined;
  }

  apply(series: Series, n: number): void {
    switch (this.kind) {
      case GAUGE:
        (series as NumberSeries).set = true;
        (series as NumberSeries).value = n;
        return;
      case HISTOGRAM:
        (series as HistogramSeries).record(n);
        return;
      default:
        (series as NumberSeries).value += n;
    }
  }
}

export interface EventMetrics {
  /** Event name → its feeds (an empty list for an event declared with no metric). */
  feeds: Map<string, Feed[]>;
  metrics: EventMetric[];
}

/** Creates every declared metric once and the feeds of each event. */
export function createEventMetrics(meter: Meter, config: OtelkitConfig): EventMetrics {
  const byName = new Map<string, EventMetric>();
  const feeds = new Map<string, Feed[]>();
  for (const [event, specs] of Object.entries(config.events.metrics)) {
    const list: Feed[] = [];
    for (const spec of specs) {
      try {
        let metric = byName.get(spec.metric);
        if (!metric) byName.set(spec.metric, (metric = new EventMetric(spec, meter, config)));
        list.push(new Feed(event, metric, spec));
      } catch (err) {
        diag.error(`otelkit: could not create metric ${spec.metric} for event "${event}"`, err);
      }
    }
    feeds.set(event, list);
  }
  return { feeds, metrics: [...byName.values()] };
}
