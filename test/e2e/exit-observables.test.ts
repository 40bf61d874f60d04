// The export at exit is synchronous, and the SDK runs observable callbacks only in an
// async collection: a short job's cache and breaker counts (observable instruments over
// plain fields) must still arrive, read by otelkit itself at exit (src/exit-observations.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { startChild, stopAll } from '../helpers/child.js';
import { closeAllReceivers, pointsMatching, startOtlpReceiver } from '../helpers/otlp-receiver.js';

afterEach(async () => {
  await stopAll();
  await closeAllReceivers();
});

describe('observable counts in the export at exit', () => {
  it('a job that exits before any export: its cache and breaker counts and gauges arrive', async () => {
    const receiver = await startOtlpReceiver({ protocol: 'http/protobuf' });
    const child = startChild({
      args: ['test/fixtures/exit-counts-app.cjs'],
      env: {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.baseUrl,
        OTEL_METRIC_EXPORT_INTERVAL: '600000',
        OTELKIT_SHUTDOWN_TIMEOUT: '20000',
      },
    });
    expect((await child.exited).code).toBe(0);
    const gets = await receiver.waitForMetric('cache.gets', undefined, 30_000);
    const value = (record: typeof gets, match: Record<string, string>) =>
      pointsMatching(record, match).map((p) => p.value);
    expect(value(gets, { 'cache.name': 'job-cache', 'cache.result': 'hit' })).toEqual([2]);
    expect(value(gets, { 'cache.name': 'job-cache', 'cache.result': 'miss' })).toEqual([3]);
    expect(gets.isMonotonic).toBe(true);
    expect(gets.temporality).toBe('cumulative');
    expect(value(receiver.metric('cache.size'), { 'cache.name': 'job-cache' })).toEqual([1]);
    const calls = receiver.metric('circuit_breaker.calls');
    expect(pointsMatching(calls, { 'circuit_breaker.name': 'job-breaker' }).reduce((n, p) => n + p.value!, 0)).toBe(4);
    expect(value(receiver.metric('circuit_breaker.state'), { 'circuit_breaker.name': 'job-breaker' })).toEqual([1]);
    expect(child.stderr).not.toContain('otelkit:');
  });
});
