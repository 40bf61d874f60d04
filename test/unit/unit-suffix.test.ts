import {
  AggregationTemporality,
  DataPointType,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, it } from 'vitest';
import { unitSuffix, withUnitSuffixes } from '../../src/exporters/unit-suffix.js';

describe('unitSuffix (OpenTelemetry -> Prometheus unit words)', () => {
  it.each([
    ['s', false, 'seconds'],
    ['ms', false, 'milliseconds'],
    ['By', false, 'bytes'],
    ['MiBy', false, 'mebibytes'],
    ['{request}', false, ''],
    ['1', true, 'ratio'],
    ['1', false, ''],
    ['%', true, 'percent'],
    ['By/s', false, 'bytes_per_second'],
    ['{packet}/s', false, 'per_second'],
    ['1/s', false, 'per_second'],
    ['µs', false, ''],
    ['requests', false, 'requests'],
  ])('%s (gauge: %s) -> %s', (unit, gauge, suffix) => {
    expect(unitSuffix(unit, gauge)).toBe(suffix);
  });
});

function sum(name: string, unit: string, isMonotonic = true): MetricData {
  return {
    descriptor: { name, unit, description: '', type: 'COUNTER', valueType: 1 } as MetricData['descriptor'],
    dataPointType: DataPointType.SUM,
    isMonotonic,
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPoints: [],
  } as MetricData;
}

function names(metrics: MetricData[]): string[] {
  const rm: ResourceMetrics = {
    resource: resourceFromAttributes({}),
    scopeMetrics: [{ scope: { name: 's' }, metrics }],
  };
  return withUnitSuffixes(rm).scopeMetrics[0]!.metrics.map((m) => m.descriptor.name);
}

describe('withUnitSuffixes', () => {
  it('appends the unit, keeps _total last, and leaves names that already say their unit', () => {
    expect(
      names([
        sum('cpu.time', 's'),
        sum('requests_total', 's'),
        sum('wait_seconds', 's'),
        sum('queue.depth', '{item}', false),
      ]),
    ).toEqual(['cpu.time_seconds', 'requests_seconds', 'wait_seconds', 'queue.depth']);
  });

  it("never renames into another metric's name (that would duplicate series)", () => {
    expect(names([sum('dup', 's'), sum('dup_seconds', 's')])).toEqual(['dup', 'dup_seconds']);
  });
});
