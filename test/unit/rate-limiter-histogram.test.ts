// The duration histograms otelkit aggregates itself (src/histograms/),
// collected through its MetricProducer by a cumulative and a delta reader at once.
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type HistogramMetricData,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/defaults.js';
import { publishMeter } from '../../src/meter-handoff.js';
import { createInstrumentationProducer } from '../../src/histograms/producer.js';
import { instrumentCircuitBreaker, instrumentRateLimiter } from '../../index.js';

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const cumulativeProducer = createInstrumentationProducer();
const deltaProducer = createInstrumentationProducer();
const cumulative = new TestReader({ metricProducers: [cumulativeProducer] });
const delta = new TestReader({
  metricProducers: [deltaProducer],
  aggregationTemporalitySelector: () => AggregationTemporality.DELTA,
});
cumulativeProducer.bind(cumulative);
deltaProducer.bind(delta);
const provider = new MeterProvider({ readers: [cumulative, delta] });
const config = { ...defaultConfig(), histogramBuckets: { 'rate_limiter.wait.duration': [0.1, 1] } };
publishMeter({ meter: provider.getMeter('otelkit'), config });

async function histogram(reader: MetricReader, name: string): Promise<HistogramMetricData | undefined> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  return all.find((m) => m.descriptor.name === name) as HistogramMetricData | undefined;
}

describe('duration histograms through the instrumentation producer', () => {
  it('cumulative and delta readers, configured boundaries, exact buckets, sum, min and max', async () => {
    const limiter = { acquire: () => true };
    const handle = instrumentRateLimiter(limiter, { name: 'h' });
    const breaker = instrumentCircuitBreaker({}, { name: 'b' });
    breaker.recordCall('success', 0.3);
    // Drive waits through the generic wrapper's recorder: acquire() is synchronous, waits ~0.
    limiter.acquire();
    limiter.acquire();

    let c = await histogram(cumulative, 'rate_limiter.wait.duration');
    let d = await histogram(delta, 'rate_limiter.wait.duration');
    expect(c?.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(c?.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
    expect(d?.aggregationTemporality).toBe(AggregationTemporality.DELTA);
    expect(c?.descriptor).toMatchObject({ unit: 's' });
    expect(c?.dataPoints).toHaveLength(1);
    expect(c!.dataPoints[0]!.attributes).toEqual({ 'rate_limiter.name': 'h' });
    expect(c!.dataPoints[0]!.value.buckets).toEqual({ boundaries: [0.1, 1], counts: [2, 0, 0] });
    expect(c!.dataPoints[0]!.value.count).toBe(2);
    expect(d!.dataPoints[0]!.value.count).toBe(2);

    // Nothing new: the delta reader reports no point, the cumulative one the same totals.
    c = await histogram(cumulative, 'rate_limiter.wait.duration');
    d = await histogram(delta, 'rate_limiter.wait.duration');
    expect(c!.dataPoints[0]!.value.count).toBe(2);
    expect(d).toBeUndefined();

    // Default seconds buckets for the breaker; min and max in the cumulative point.
    breaker.recordCall('failure', 2);
    const b = await histogram(cumulative, 'circuit_breaker.call.duration');
    expect(b!.dataPoints[0]!.value).toMatchObject({ count: 2, sum: 2.3, min: 0.3, max: 2 });
    expect(b!.dataPoints[0]!.value.buckets.boundaries).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ]);
    // The delta reader already reported the 0.3 s call in its earlier collections.
    const bd = await histogram(delta, 'circuit_breaker.call.duration');
    expect(bd!.dataPoints[0]!.value.count).toBe(1);
    expect(bd!.dataPoints[0]!.value.sum).toBeCloseTo(2, 10); // a difference of cumulative sums
    expect(bd!.dataPoints[0]!.value.min).toBeUndefined();
    breaker.recordCall('success', 0.01);
    const bd2 = await histogram(delta, 'circuit_breaker.call.duration');
    expect(bd2!.dataPoints[0]!.value.count).toBe(1);
    expect(bd2!.dataPoints[0]!.value.sum).toBeCloseTo(0.01, 10);
    expect(bd2!.dataPoints[0]!.value.buckets.counts[1]).toBe(1); // (0.005, 0.01]

    // dispose(): the series is no longer exported.
    handle.dispose();
    expect(await histogram(cumulative, 'rate_limiter.wait.duration')).toBeUndefined();
  });
});
