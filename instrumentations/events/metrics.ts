/**
 * The metrics the `events.metrics` mapping declares, and the feeds from each event
 * to them. A metric is created once (several events may feed it); its series are
 * otelkit's own (series.ts), aggregated in place and read at collection
 * (src/histograms/). So a tracked event costs a few property reads and Map lookups,
 * not an OTel `counter.add` (which hashes the attributes on every call).
 */
import { diag, type Meter } from '@opentelemetry/api';
import type { OtelkitConfig, ResolvedEventMetric } from '../../src/config/types.js';
import { InPlaceHistogram, type HistogramSeries } from '../../src/histograms/in-place-histogram.js';
import { InPlaceNumbers } from '../../src/histograms/in-place-numbers.js';
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

  constructor(
    readonly spec: ResolvedEventMetric,
    meter: Meter,
    config: OtelkitConfig,
  ) {
    this.kind = KINDS[spec.type];
    this.keys = spec.attributes.map(([key]) => key);
    const limit = cardinalityLimitFor(config, spec.metric);
    const options = { name: spec.metric, description: spec.description, unit: spec.unit };
    if (this.kind === HISTOGRAM) {
      const histogram = new InPlaceHistogram(meter, config, {
        ...options,
        live: () => this.table.series() as Generator<HistogramSeries>,
      });
      this.table = new SeriesTable<Series>(limit, (attributes) => histogram.series(attributes));
    } else {
      this.table = new SeriesTable<Series>(limit, (attributes) => new NumberSeries(attributes));
      new InPlaceNumbers(meter, {
        ...options,
        kind: spec.type as 'counter' | 'updowncounter' | 'gauge',
        live: () => this.table.series() as Generator<NumberSeries>,
      });
    }
  }
}

/**
 * What one event does to one metric: which attribute defaults and value it uses.
 * The value is the mapping's constant when it gives a number; else the attribute it
 * names, else the value given to track() (or to a bound event's record()). A counter
 * whose mapping names no value counts 1 per event; an up-down counter counts 1 when
 * there is no value; histograms and gauges need one.
 */
export class Feed {
  private readonly kind: number;
  private readonly fallbacks: readonly string[];
  private readonly valueKey: string | undefined;
  private readonly constant: number | undefined;
  private readonly takesValue: boolean;
  private warned = false;

  constructor(
    private readonly event: string,
    readonly metric: EventMetric,
    spec: ResolvedEventMetric,
  ) {
    this.kind = metric.kind;
    this.fallbacks = spec.attributes.map(([, fallback]) => fallback);
    this.valueKey = typeof spec.value === 'string' ? spec.value : undefined;
    this.constant = typeof spec.value === 'number' ? spec.value : undefined;
    this.takesValue = this.valueKey !== undefined || this.kind !== COUNTER;
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
    if (this.constant !== undefined) return this.constant;
    if (!this.takesValue) return 1;
    const named = this.valueKey === undefined ? undefined : attributes?.[this.valueKey];
    const v = named ?? value;
    if (typeof v === 'number' && Number.isFinite(v) && (v >= 0 || this.kind === UPDOWNCOUNTER || this.kind === GAUGE))
      return v;
    if (v == null && this.kind === UPDOWNCOUNTER && this.valueKey === undefined) return 1;
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

/** Creates every declared metric once and the feeds of each event (an empty list: an event with no metric). */
export function createEventMetrics(meter: Meter, config: OtelkitConfig): Map<string, Feed[]> {
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
  return feeds;
}
