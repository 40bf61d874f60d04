// worker_threads under the preload: a pool of 4 threads records, and the main
// thread's scrape has exact totals; a thread that ends leaves its counts behind.
import { afterEach, describe, expect, it } from 'vitest';
import { startChild, stopAll } from '../helpers/child.js';
import { closeAllReceivers, startOtlpReceiver } from '../helpers/otlp-receiver.js';
import { findSamples, sampleValue, scrape } from '../helpers/prom-text.js';
import { hasPromtool, promtoolCheckMetrics } from '../helpers/prometheus.js';

afterEach(async () => {
  await stopAll();
  await closeAllReceivers();
});

describe('worker_threads under the preload', () => {
  it('a pool of 4 threads: exact totals in the main thread scrape, gauges per thread, promtool-clean', async () => {
    const child = startChild({
      args: ['--import', 'otelkit/register', 'test/fixtures/thread-pool.mjs'],
      env: { OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: '0' },
    });
    const { metricsUrl, controlUrl } = await child.waitForJson<{ metricsUrl: string; controlUrl: string }>(
      (v) => 'metricsUrl' in v,
      30_000,
    );
    const seen: number[] = [];
    for (let round = 1; round <= 5; round++) {
      await (await fetch(`${controlUrl}/work?n=250`)).text();
      // every thread answered its work request, so each holds its new counts before the scrape asks
      const text = await scrape(metricsUrl);
      seen.push(sampleValue(text, 'thread_items_total'));
      expect(sampleValue(text, 'thread_items_total')).toBe(4 * 250 * round);
      expect(sampleValue(text, 'thread_size_bytes_bucket', { le: '50' })).toBe(4 * 250 * round);
      expect(sampleValue(text, 'thread_size_bytes_bucket', { le: '5' })).toBe(0);
      expect(sampleValue(text, 'thread_size_bytes_sum')).toBe(10 * 4 * 250 * round);
    }
    let text = await scrape(metricsUrl);
    const threads = findSamples(text, 'thread_alive').map((s) => s.labels.thread_id);
    expect(threads).toHaveLength(4);
    // process-wide runtime metrics come from the main thread only: one series per CPU mode
    expect(findSamples(text, 'process_cpu_time_seconds_total')).toHaveLength(2);
    expect(findSamples(text, 'target_info')).toHaveLength(1);
    if (hasPromtool()) expect((await promtoolCheckMetrics(text)).problems).toEqual([]);

    // one thread ends: its counts stay, its gauge goes
    await (await fetch(`${controlUrl}/retire`)).text();
    await (await fetch(`${controlUrl}/work?n=100`)).text();
    text = await scrape(metricsUrl);
    expect(sampleValue(text, 'thread_items_total')).toBe(4 * 250 * 5 + 3 * 100);
    expect(findSamples(text, 'thread_alive')).toHaveLength(3);
    expect(child.stderr).not.toContain('otelkit:');
  });

  it('with OTLP only: the threads join the main thread, whose export has their totals, at exit too', async () => {
    const receiver = await startOtlpReceiver({ protocol: 'http/protobuf' });
    const child = startChild({
      args: ['--import', 'otelkit/register', 'test/fixtures/thread-pool.mjs'],
      env: {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.baseUrl,
        OTEL_METRIC_EXPORT_INTERVAL: '600000',
      },
    });
    const { metricsUrl, controlUrl } = await child.waitForJson<{ metricsUrl: string | null; controlUrl: string }>(
      (v) => 'controlUrl' in v,
      30_000,
    );
    expect(metricsUrl).toBeNull();
    const total = (name: string) => receiver.metric(name).points.reduce((sum, p) => sum + (p.value ?? p.count ?? 0), 0);
    await (await fetch(`${controlUrl}/work?n=250`)).text();
    await (await fetch(`${controlUrl}/flush`)).text();
    await receiver.waitForMetric('thread.items', undefined, 30_000);
    expect(receiver.metric('thread.items').points).toHaveLength(1); // summed over the threads, no thread label
    expect(total('thread.items')).toBe(4 * 250);
    expect(total('thread.size')).toBe(4 * 250);
    expect(new Set(receiver.metric('thread.alive').points.map((p) => p.attributes['thread.id'])).size).toBe(4);
    // one service instance: the threads' metrics come in the main thread's export only
    expect(
      new Set(receiver.requests.flatMap((r) => r.metrics.map((m) => m.resource['service.instance.id']))).size,
    ).toBe(1);

    // a thread ends, the others work on and answer one more export; the process exits: the final
    // export (synchronous, so with each live thread's last answer) has every count, the ended thread's too
    await (await fetch(`${controlUrl}/retire`)).text();
    await (await fetch(`${controlUrl}/work?n=100`)).text();
    await (await fetch(`${controlUrl}/flush`)).text();
    receiver.clear();
    await (await fetch(`${controlUrl}/exit`)).text();
    expect((await child.exited).code).toBe(0);
    await receiver.waitForMetric('thread.items', undefined, 30_000);
    expect(total('thread.items')).toBe(4 * 250 + 3 * 100);
    expect(child.stderr).not.toContain('otelkit:');
  });

  it('a thread whose main thread does not run otelkit serves on its own, as before', async () => {
    const child = startChild({
      args: ['test/fixtures/thread-alone.mjs'],
      env: { OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: '0' },
    });
    const { metricsUrl } = await child.waitForJson<{ metricsUrl: string | null }>((v) => 'metricsUrl' in v, 30_000);
    expect(metricsUrl).not.toBeNull();
    expect(sampleValue(await scrape(metricsUrl!), 'alone_items_total')).toBe(3);
  });
});
