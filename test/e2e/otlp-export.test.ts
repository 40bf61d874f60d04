// OTLP export through register(), checked by decoding what arrives at a local
// receiver with the official OTLP protobuf definitions, and the shutdown flush:
// the final export arrives and the process ends as it would without otelkit.
// The exporter packages load in the export thread only, never on the app's thread.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startChild, stopAll } from '../helpers/child.js';
import { closeAllReceivers, pointsMatching, startOtlpReceiver, type OtlpProtocol } from '../helpers/otlp-receiver.js';
import { sampleValue, scrape } from '../helpers/prom-text.js';

const fixture = join(import.meta.dirname, '../fixtures/core-app');
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

afterEach(async () => {
  stopAll();
  await closeAllReceivers();
});

async function runApp(env: Record<string, string>, preload = true) {
  const child = startChild({
    args: [...(preload ? ['--import', 'otelkit/register'] : []), 'app.mjs'],
    env: {
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: '0',
      OTELKIT_INSTRUMENTATIONS: 'none',
      // These tests check what the final export carries, not its bound (exit-faults.test.ts does):
      // a generous budget, so that a busy machine slowing the export thread's start does not fail them.
      OTELKIT_SHUTDOWN_TIMEOUT: '15000',
      ...env,
    },
    cwd: fixture,
  });
  const info = JSON.parse(await child.waitForLine(/^\{.*"module"/, 15_000)) as { metricsUrl: string | null };
  return { child, info };
}

describe.each<OtlpProtocol>(['http/protobuf', 'http/json', 'grpc'])('OTLP over %s', (protocol) => {
  it('the final export at SIGTERM carries the values, resource and headers; the exit is unchanged', async () => {
    const receiver = await startOtlpReceiver({ protocol });
    const { child } = await runApp({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.baseUrl,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%20123',
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
      OTEL_SERVICE_NAME: 'shop-otlp',
    });
    expect(receiver.requests).toHaveLength(0);
    child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: null, signal: 'SIGTERM' });

    const events = receiver.metric('fixture.events');
    expect(events).toMatchObject({ type: 'sum', isMonotonic: true, temporality: 'cumulative', unit: '{event}' });
    expect(pointsMatching(events, { kind: 'esm' })[0]!.value).toBe(3);
    expect(events.resource['service.name']).toBe('shop-otlp');
    const duration = receiver.metric('fixture.duration');
    expect(duration.type).toBe('histogram');
    expect(duration.points[0]).toMatchObject({ count: 2, sum: 3.2, explicitBounds: SECONDS });
    expect(receiver.requests[0]!.headers['x-api-key']).toBe('abc 123');
  });
});

describe('OTLP and the process lifecycle', () => {
  it('without otelkit the same app dies of SIGTERM too (the baseline the tests compare to)', async () => {
    const { child } = await runApp({}, false);
    child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('Prometheus and OTLP at once', async () => {
    const receiver = await startOtlpReceiver({ protocol: 'http/protobuf' });
    const { child, info } = await runApp({
      OTEL_METRICS_EXPORTER: 'prometheus,otlp',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.endpoint,
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
    });
    expect(sampleValue(await scrape(info.metricsUrl!), 'fixture_events_total', { kind: 'esm' })).toBe(3);
    child.kill('SIGTERM');
    await child.exited;
    expect(pointsMatching(receiver.metric('fixture.events'), { kind: 'esm' })[0]!.value).toBe(3);
  });

  it('an app with its own SIGTERM handler keeps its exit code, and the final export still arrives', async () => {
    const receiver = await startOtlpReceiver({ protocol: 'http/protobuf' });
    const { child } = await runApp({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.endpoint,
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
      APP_SIGTERM: 'exit-code:3',
    });
    child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 3, signal: null });
    expect(pointsMatching(receiver.metric('fixture.events'), { kind: 'esm' })[0]!.value).toBe(3);
  });

  it('an app whose graceful shutdown is a process.once handler finishes it (otelkit does not re-raise)', async () => {
    const receiver = await startOtlpReceiver({ protocol: 'http/protobuf' });
    const { child } = await runApp({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.endpoint,
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
      APP_SIGTERM: 'once-graceful:4',
    });
    child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 4, signal: null });
    expect(child.stdout).toContain('app done');
    expect(pointsMatching(receiver.metric('fixture.events'), { kind: 'esm' })[0]!.value).toBe(3);
  });

  it('SIGINT without app handlers: the final export arrives and the process dies of SIGINT', async () => {
    const receiver = await startOtlpReceiver({ protocol: 'grpc' });
    const { child } = await runApp({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.baseUrl,
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
    });
    child.kill('SIGINT');
    expect(await child.exited).toEqual({ code: null, signal: 'SIGINT' });
    expect(pointsMatching(receiver.metric('fixture.events'), { kind: 'esm' })[0]!.value).toBe(3);
  });

  it('a process that ends on its own flushes at beforeExit and keeps its exit code', async () => {
    const receiver = await startOtlpReceiver({ protocol: 'http/json' });
    const { child } = await runApp({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.endpoint,
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
      SHORT_LIVED: '1',
      EXIT_CODE: '5',
    });
    expect(await child.exited).toEqual({ code: 5, signal: null });
    expect(pointsMatching(receiver.metric('fixture.events'), { kind: 'esm' })[0]!.value).toBe(3);
  });

  it('periodic export with delta temporality, exponential histograms and gzip', async () => {
    const receiver = await startOtlpReceiver({ protocol: 'http/protobuf' });
    const { child } = await runApp({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.endpoint,
      OTEL_METRIC_EXPORT_INTERVAL: '300',
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
      OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    });
    const first = await receiver.waitForMetric('fixture.duration', undefined, 10_000);
    expect(first.type).toBe('exponentialHistogram');
    expect(first.temporality).toBe('delta');
    expect(first.points[0]).toMatchObject({ count: 2, sum: 3.2 });
    const events = await receiver.waitForMetric('fixture.events', undefined, 10_000);
    expect(events.temporality).toBe('delta');
    expect(receiver.requests[0]!.contentEncoding).toBe('gzip');
    child.kill('SIGTERM');
    await child.exited;
  });

  it('a histogram in OTELKIT_HISTOGRAM_BUCKETS stays explicit under exponential OTLP (bounds are a view)', async () => {
    const receiver = await startOtlpReceiver({ protocol: 'http/protobuf' });
    const { child } = await runApp({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: receiver.endpoint,
      OTEL_METRIC_EXPORT_INTERVAL: '300',
      OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram',
      OTELKIT_HISTOGRAM_BUCKETS: 'fixture.duration=1,2,3',
    });
    const first = await receiver.waitForMetric('fixture.duration', undefined, 10_000);
    expect(first.type).toBe('histogram');
    expect(first.points[0]).toMatchObject({ count: 2, sum: 3.2, explicitBounds: [1, 2, 3] });
    child.kill('SIGTERM');
    await child.exited;
  });
});

describe('OTLP exporter packages', () => {
  it('the app thread loads no exporter package, with or without OTLP (they load in the export thread)', () => {
    const loaded = (env: Record<string, string>): string[] => {
      const code = [
        'setTimeout(() => {',
        '  const packages = Object.keys(require.cache).map((k) => /exporter-metrics-otlp-[a-z]+/.exec(k)?.[0]);',
        '  console.log(JSON.stringify([...new Set(packages.filter(Boolean))].sort()));',
        '  process.exit(0);',
        '}, 300);',
      ].join('\n');
      const out = execFileSync(process.execPath, ['--require', 'otelkit/register', '-e', code], {
        env: {
          ...process.env,
          OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
          OTEL_EXPORTER_PROMETHEUS_PORT: '0',
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
          OTELKIT_SHUTDOWN_TIMEOUT: '200',
          ...env,
        },
        encoding: 'utf8',
        timeout: 20_000,
      });
      return JSON.parse(out.trim().split('\n').pop()!);
    };
    expect(loaded({})).toEqual([]);
    expect(loaded({ OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc' })).toEqual([]);
    expect(loaded({ OTEL_METRICS_EXPORTER: 'otlp' })).toEqual([]);
  });
});
