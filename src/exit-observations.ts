/**
 * Fresh values of observable instruments for the export at process exit.
 *
 * At 'exit' the push readers collect synchronously (exporters/collect-now.ts), and the SDK
 * only runs observable callbacks in an async collection: its observable storages
 * still hold the previous collection's values, or nothing when there was none. So
 * the counts otelkit keeps in plain fields and reports through observables (caches,
 * rate limiters, circuit breakers, queues, WebSockets, sessions) would arrive a whole
 * interval old, or not at all for a short job. Their owners register an observer
 * here; at exit each one reads its fields synchronously, and the final export's
 * points for those instruments are replaced (or added) with the values read.
 *
 * Only values an observer reads synchronously count; one it reads asynchronously
 * (a queue's counts from Redis) keeps the SDK's last value. Applied only where the
 * export is cumulative: a delta export would need the previous cumulative values.
 */
import type { Attributes, HrTime, ValueType } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  type DataPoint,
  type MetricData,
  type ResourceMetrics,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { processSingleton } from './process-singleton.js';

export type ObservableKind = 'counter' | 'updowncounter' | 'gauge';

export interface ExitInstrument {
  name: string;
  description: string;
  unit: string;
  valueType: ValueType;
  kind: ObservableKind;
}

export interface ExitObservation {
  instrument: ExitInstrument;
  value: number;
  attributes: Attributes;
}

export interface ExitObserver {
  /** The scope the instruments were created in (otelkit's meter). */
  scope: ScopeMetrics['scope'];
  /** When the observer started: the start time of a cumulative point the SDK never saw. */
  startMs: number;
  /** Reads the current values, synchronously. */
  observe(): ExitObservation[];
}

const observers = (): Set<ExitObserver> => processSingleton('otelkit.exitObservers', () => new Set<ExitObserver>());

/** Registers `observer`; returns the function that removes it. */
export function addExitObserver(observer: ExitObserver): () => void {
  observers().add(observer);
  return () => observers().delete(observer);
}

/** `metrics` with every registered observer's fresh values in place of its instruments' points. */
export function withExitObservations(metrics: ResourceMetrics): ResourceMetrics {
  if (observers().size === 0) return metrics;
  const now = millisToHrTime(Date.now());
  const scopeMetrics = metrics.scopeMetrics.map((scope) => ({ ...scope, metrics: [...scope.metrics] }));
  for (const observer of observers()) {
    let observed: ExitObservation[];
    try {
      observed = observer.observe();
    } catch {
      continue; // the export goes out with the last collection's values
    }
    const byName = new Map<string, ExitObservation[]>();
    for (const o of observed) byName.set(o.instrument.name, [...(byName.get(o.instrument.name) ?? []), o]);
    for (const [name, fresh] of byName) {
      const found = findMetric(scopeMetrics, name);
      const start = millisToHrTime(observer.startMs);
      if (found) found.scope.metrics[found.index] = replacePoints(found.metric, fresh, start, now);
      else scopeOf(scopeMetrics, observer.scope).metrics.push(newMetric(fresh, start, now));
    }
  }
  return { resource: metrics.resource, scopeMetrics };
}

type MutableScope = ScopeMetrics & { metrics: MetricData[] };

function findMetric(scopes: MutableScope[], name: string) {
  for (const scope of scopes) {
    const index = scope.metrics.findIndex((m) => m.descriptor.name === name);
    if (index >= 0) return { scope, index, metric: scope.metrics[index]! };
  }
  return undefined;
}

function scopeOf(scopes: MutableScope[], wanted: ScopeMetrics['scope']): MutableScope {
  const found = scopes.find((s) => s.scope.name === wanted.name && s.scope.version === wanted.version);
  if (found) return found;
  const created: MutableScope = { scope: wanted, metrics: [] };
  scopes.push(created);
  return created;
}

const keyOf = (attributes: Attributes): string =>
  JSON.stringify(
    Object.keys(attributes)
      .sort()
      .map((k) => [k, attributes[k]]),
  );

function replacePoints(metric: MetricData, fresh: ExitObservation[], start: HrTime, now: HrTime): MetricData {
  if (metric.dataPointType !== DataPointType.SUM && metric.dataPointType !== DataPointType.GAUGE) return metric;
  const points = new Map<string, DataPoint<number>>();
  for (const p of metric.dataPoints as DataPoint<number>[]) points.set(keyOf(p.attributes), p);
  for (const o of fresh) {
    const key = keyOf(o.attributes);
    const old = points.get(key);
    points.set(key, { startTime: old?.startTime ?? start, endTime: now, attributes: o.attributes, value: o.value });
  }
  return { ...metric, dataPoints: [...points.values()] } as MetricData;
}

function newMetric(fresh: ExitObservation[], start: HrTime, now: HrTime): MetricData {
  const { name, description, unit, valueType, kind } = fresh[0]!.instrument;
  const dataPoints = fresh.map((o) => ({ startTime: start, endTime: now, attributes: o.attributes, value: o.value }));
  const descriptor = { name, description, unit, valueType };
  return kind === 'gauge'
    ? {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.GAUGE,
        dataPoints,
      }
    : {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: kind === 'counter',
        dataPoints,
      };
}
