// The one policy for bucket boundaries and cardinality limits (src/series-policy.ts),
// and the callers that take their numbers from it.
import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, InstrumentType } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { bucketViews } from '../../src/buckets.js';
import { defaultConfig } from '../../src/config/defaults.js';
import { Cumulation } from '../../src/exporters/cumulative.js';
import { InPlaceHistogram } from '../../src/histograms/in-place-histogram.js';
import {
  BYTES_BUCKETS,
  DEFAULT_CARDINALITY_LIMIT,
  SECONDS_BUCKETS,
  bucketsFor,
  cardinalityLimitFor,
  sdkCycleLimit,
} from '../../src/series-policy.js';

describe('series policy', () => {
  it('boundaries: the configured ones for the name, else the unit default', () => {
    const config = { histogramBuckets: { 'job.duration': [1, 10, 60] } };
    expect(bucketsFor(config, 'job.duration', 's')).toEqual([1, 10, 60]);
    expect(bucketsFor(config, 'other.duration', 's')).toEqual(SECONDS_BUCKETS);
    expect(bucketsFor(config, 'body.size', 'By')).toEqual(BYTES_BUCKETS);
    expect(bucketsFor({ histogramBuckets: { x: [] } }, 'x', 's')).toEqual(SECONDS_BUCKETS);
    expect(bucketsFor(undefined, 'x', '{request}')).toBeUndefined();
  });

  it('cardinality limit: the configured one, else the default (which is also the config default)', () => {
    expect(cardinalityLimitFor({ cardinalityLimit: 7 }, 'a')).toBe(7);
    expect(cardinalityLimitFor(undefined, 'a')).toBe(DEFAULT_CARDINALITY_LIMIT);
    expect(cardinalityLimitFor({ cardinalityLimit: 0 }, 'a')).toBe(DEFAULT_CARDINALITY_LIMIT);
    expect(defaultConfig().cardinalityLimit).toBe(DEFAULT_CARDINALITY_LIMIT);
  });

  it('one per-cycle rule for readers and views: headroom where otelkit cumulates, the bare limit elsewhere', () => {
    expect(sdkCycleLimit(5, true)).toBe(10);
    expect(sdkCycleLimit(1, true)).toBe(2);
    expect(sdkCycleLimit(5, false)).toBe(5);
    const config = { histogramBuckets: { 'viewed.latency': [1, 2, 3] }, cardinalityLimit: 5 };
    const cumulating = new Cumulation(() => AggregationTemporality.CUMULATIVE, 5);
    expect(bucketViews(config, true)[0]!.aggregationCardinalityLimit).toBe(
      cumulating.sdkCardinalityLimit(InstrumentType.HISTOGRAM),
    );
    expect(bucketViews(config, false)[0]!.aggregationCardinalityLimit).toBe(5);
  });

  it('the in-place duration histograms take boundaries and limit from it', () => {
    const meter = metrics.getMeter('series-policy-test');
    const config = { ...defaultConfig(), cardinalityLimit: 9, histogramBuckets: { 'a.duration': [0.5, 1] } };
    const configured = new InPlaceHistogram(meter, config, { name: 'a.duration', description: '', live: () => [] });
    const plain = new InPlaceHistogram(meter, config, { name: 'b.duration', description: '', live: () => [] });
    expect(configured.boundaries).toEqual([0.5, 1]);
    expect(plain.boundaries).toEqual(SECONDS_BUCKETS);
    expect(configured.cardinalityLimit).toBe(9);
  });
});
