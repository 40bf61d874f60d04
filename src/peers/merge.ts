/**
 * Merges cumulative metrics of several processes (cluster workers) or threads into
 * one set, for one scrape. docs/multi-process.md gives the rules and why:
 * - counters (monotonic sums) and up-down counters: summed per attribute set;
 * - explicit-bucket histograms: summed bucket by bucket when the boundaries are the
 *   same; a peer's point with other boundaries is kept as its own series, with the
 *   peer's label (summing would put counts in the wrong buckets);
 * - exponential histograms: merged as the SDK merges them (to the smaller scale);
 * - gauges: one series per peer, with the peer's label (`worker`, `thread.id`); the
 *   serving process's own gauges keep their attributes as they are.
 * Inputs are never modified (answers are kept and merged again at the next scrape).
 */
import { diag, type Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  type DataPoint,
  type ExponentialHistogram,
  type Histogram,
  type MetricData,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { addExponential, attributesKey } from '../exporters/cumulative.js';

type Value = number | Histogram | ExponentialHistogram;

/** A data point this merger owns and updates. */
interface Point {
  startTime: DataPoint<Value>['startTime'];
  endTime: DataPoint<Value>['endTime'];
  attributes: Attributes;
  value: Value;
}

interface Entry {
  metric: MetricData;
  points: Map<string, Point>;
}

/** True for what a departed peer leaves behind: counters and histograms (totals that must not go backwards). */
export function isTotal(metric: MetricData): boolean {
  return metric.dataPointType === DataPointType.SUM ? metric.isMonotonic : metric.dataPointType !== DataPointType.GAUGE;
}

function copy(value: Value): Value {
  if (typeof value === 'number') return value;
  if ('buckets' in value)
    return { ...value, buckets: { boundaries: value.buckets.boundaries, counts: [...value.buckets.counts] } };
  return value; // exponential: addExponential returns fresh objects and never modifies its inputs
}

function sameBoundaries(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Adds `add` into `into` (a copy this merger owns); false when the boundaries differ. */
function addHistogram(into: Histogram, add: Histogram): boolean {
  if (!sameBoundaries(into.buckets.boundaries, add.buckets.boundaries)) return false;
  const counts = into.buckets.counts;
  for (let i = 0; i < counts.length; i++) counts[i]! += add.buckets.counts[i] ?? 0;
  into.count += add.count;
  if (into.sum !== undefined || add.sum !== undefined) into.sum = (into.sum ?? 0) + (add.sum ?? 0);
  if (add.min !== undefined && (into.min === undefined || add.min < into.min)) into.min = add.min;
  if (add.max !== undefined && (into.max === undefined || add.max > into.max)) into.max = add.max;
  return true;
}

function earlier(a: Point['startTime'], b: Point['startTime']): Point['startTime'] {
  return a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]) ? a : b;
}

export class MetricsMerger {
  private readonly scopes = new Map<string, { scope: ScopeMetrics['scope']; metrics: Map<string, Entry> }>();

  /**
   * @param label the peer's attribute for its gauges (and histograms of other boundaries); none for the server's own.
   * @param only which metrics to take (all by default).
   */
  add(scopeMetrics: readonly ScopeMetrics[], label?: Attributes, only?: (metric: MetricData) => boolean): this {
    for (const sm of scopeMetrics) {
      const scopeKey = JSON.stringify([sm.scope.name, sm.scope.version ?? '', sm.scope.schemaUrl ?? '']);
      let scope = this.scopes.get(scopeKey);
      if (!scope) this.scopes.set(scopeKey, (scope = { scope: sm.scope, metrics: new Map() }));
      for (const metric of sm.metrics) {
        if (only && !only(metric)) continue;
        let entry = scope.metrics.get(metric.descriptor.name);
        if (!entry) scope.metrics.set(metric.descriptor.name, (entry = { metric, points: new Map() }));
        else if (!sameKind(entry.metric, metric)) {
          diag.warn(`otelkit: ${metric.descriptor.name} has another type in another process or thread; left out`);
          continue;
        }
        for (const dp of metric.dataPoints as DataPoint<Value>[]) this.addPoint(entry, metric.dataPointType, dp, label);
      }
    }
    return this;
  }

  private addPoint(entry: Entry, type: DataPointType, dp: DataPoint<Value>, label: Attributes | undefined): void {
    const perPeer = type === DataPointType.GAUGE && label !== undefined;
    const attributes = perPeer ? { ...dp.attributes, ...label } : dp.attributes;
    const key = attributesKey(attributes);
    const existing = entry.points.get(key);
    if (!existing || type === DataPointType.GAUGE) {
      entry.points.set(key, { startTime: dp.startTime, endTime: dp.endTime, attributes, value: copy(dp.value) });
      return;
    }
    if (type === DataPointType.SUM) existing.value = (existing.value as number) + (dp.value as number);
    else if (type === DataPointType.EXPONENTIAL_HISTOGRAM)
      existing.value = addExponential(existing.value as ExponentialHistogram, dp.value as ExponentialHistogram);
    else if (!addHistogram(existing.value as Histogram, dp.value as Histogram)) {
      diag.warn(`otelkit: ${entry.metric.descriptor.name} has other bucket boundaries in another process or thread`);
      if (label) {
        const own = { ...dp.attributes, ...label };
        entry.points.set(attributesKey(own), { ...dp, attributes: own, value: copy(dp.value) });
      }
      return;
    }
    existing.startTime = earlier(existing.startTime, dp.startTime);
    if (earlier(existing.endTime, dp.endTime) === existing.endTime) existing.endTime = dp.endTime;
  }

  result(): ScopeMetrics[] {
    const out: ScopeMetrics[] = [];
    for (const { scope, metrics } of this.scopes.values()) {
      const list: MetricData[] = [];
      for (const { metric, points } of metrics.values()) {
        if (points.size === 0) continue;
        list.push({
          ...metric,
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPoints: [...points.values()],
        } as MetricData);
      }
      if (list.length) out.push({ scope, metrics: list });
    }
    return out;
  }
}

function sameKind(a: MetricData, b: MetricData): boolean {
  if (a.dataPointType !== b.dataPointType) return false;
  return a.dataPointType !== DataPointType.SUM || a.isMonotonic === (b as typeof a).isMonotonic;
}
