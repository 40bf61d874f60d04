// Limiter and breaker metrics through a real OTLP exporter (delta temporality) and the
// Prometheus scrape (cumulative) of one registration: the duration histograms otelkit
// aggregates itself arrive as standard histograms on both, with the right temporality.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentCircuitBreaker, instrumentRateLimiter, type OtelkitHandle } from '../../index.js';
import { registerBothExporters } from '../helpers/both-exporters.js';
import { closeAllReceivers, pointsMatching, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { sampleValue, scrape } from '../helpers/prom-text.js';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
let otel: OtelkitHandle;
let receiver: OtlpReceiver;
let url: string;

beforeAll(async () => {
  ({ otel, receiver, url } = await registerBothExporters('delta', { serviceName: 'limiter-otlp-test' }));
});
afterAll(async () => {
  await otel.shutdown();
  await closeAllReceivers();
});

describe('duration histograms over OTLP (delta) and Prometheus (cumulative) at once', () => {
  it('arrive as explicit-bucket histograms with exact counts; the delta export carries only new calls', async () => {
    const breaker = instrumentCircuitBreaker({}, { name: 'otlp-breaker' });
    const limiter = { acquire: async () => true };
    instrumentRateLimiter(limiter, { name: 'otlp-limiter' });
    breaker.recordCall('success', 0.02);
    breaker.recordCall('failure', 0.6);
    await limiter.acquire();

    await otel.forceFlush();
    let calls = await receiver.waitForMetric('circuit_breaker.call.duration');
    expect(calls).toMatchObject({ type: 'histogram', temporality: 'delta', unit: 's' });
    let point = pointsMatching(calls, { 'circuit_breaker.name': 'otlp-breaker' })[0]!;
    expect(point).toMatchObject({ count: 2, explicitBounds: SECONDS });
    expect(point.sum).toBeCloseTo(0.62, 10);
    expect(point.bucketCounts).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(calls.scope.name).toBe('otelkit');
    const waits = receiver.metric('rate_limiter.wait.duration');
    expect(pointsMatching(waits, { 'rate_limiter.name': 'otlp-limiter' })[0]!.count).toBe(1);
    const outcomes = receiver.metric('circuit_breaker.calls');
    expect(outcomes).toMatchObject({ type: 'sum', isMonotonic: true, temporality: 'delta' });
    expect(
      pointsMatching(outcomes, {
        'circuit_breaker.name': 'otlp-breaker',
        'circuit_breaker.call.outcome': 'failure',
      })[0]!.value,
    ).toBe(1);

    // One more call: the next delta export carries 1, the scrape the total 3.
    breaker.recordCall('success', 3);
    receiver.clear();
    await otel.forceFlush();
    calls = await receiver.waitForMetric('circuit_breaker.call.duration');
    point = pointsMatching(calls, { 'circuit_breaker.name': 'otlp-breaker' })[0]!;
    expect(point).toMatchObject({ count: 1, sum: 3 });
    const text = await scrape(url);
    expect(
      sampleValue(text, 'circuit_breaker_call_duration_seconds_count', { circuit_breaker_name: 'otlp-breaker' }),
    ).toBe(3);
    expect(
      sampleValue(text, 'circuit_breaker_call_duration_seconds_bucket', {
        circuit_breaker_name: 'otlp-breaker',
        le: '0.025',
      }),
    ).toBe(1);
  });
});
