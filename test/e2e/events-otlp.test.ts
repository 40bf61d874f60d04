// Tracked events as OTLP log records (OTEL_LOGS_EXPORTER=otlp) and metrics (events', a timed task's)
// at a real OTLP receiver, from a child app that ends right after, per protocol; the logs packages
// load only when asked for; OTELKIT_EVENTS from the environment; and a collector that never answers
// does not hold the app's exit.
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startChild, stopAll, type Child } from '../helpers/child.js';
import {
  closeAllReceivers,
  pointsMatching,
  startOtlpReceiver,
  type LogEntry,
  type OtlpProtocol,
} from '../helpers/otlp-receiver.js';

afterEach(async () => {
  await stopAll();
  await closeAllReceivers();
});

function runApp(env: Record<string, string>): Child {
  return startChild({
    args: ['test/fixtures/events-app.cjs'],
    env: {
      OTEL_SERVICE_NAME: 'events-app',
      OTELKIT_EVENTS: '-debug',
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
      // The app ends right after start, while its export threads may still be loading the exporter
      // packages (seconds on a loaded machine): what is under test here is what arrives.
      OTELKIT_SHUTDOWN_TIMEOUT: '20000',
      ...env,
    },
  });
}

describe.each(['http/protobuf', 'http/json', 'grpc'] as OtlpProtocol[])('over %s', (protocol) => {
  it('each event that is on is one log record; its metrics arrive too; the app exits on its own', async () => {
    const receiver = await startOtlpReceiver({ protocol });
    const child = runApp({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_LOGS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.baseUrl,
    });
    const printed = await child.waitForJson<{ loaded: string[]; debug: boolean }>(undefined, 30_000);
    // The exporter packages load in the export threads, the logs SDK on the app's thread.
    expect(printed).toEqual({ loaded: ['@opentelemetry/sdk-logs'], debug: false });
    expect((await child.exited).code).toBe(0);

    const logs: LogEntry[] = await receiver
      .waitForLogs((l) => l.length >= 2)
      .catch((e: Error) => {
        throw new Error(`${e.message}\n${child.describe()}`);
      });
    expect(logs).toHaveLength(2); // debug.ping is switched off by OTELKIT_EVENTS=-debug
    const [first, second] = logs;
    expect(first).toMatchObject({
      body: 'order.placed',
      severityNumber: 'SEVERITY_NUMBER_INFO',
      severityText: 'INFO',
      scope: { name: 'otelkit' },
      attributes: { market: 'eu', 'user.id': 'u-1', amount: 12.5 },
    });
    expect(second!.attributes).toEqual({ market: 'us', 'event.value': 3 });
    expect(first!.resource['service.name']).toBe('events-app');
    expect(first!.timeUnixNano).toBeGreaterThan(0);
    if (protocol === 'http/json') expect(first!.eventName).toBe('order.placed');

    const placed = await receiver.waitForMetric('orders.placed');
    expect(pointsMatching(placed, { market: 'eu' })[0]!.value).toBe(1);
    expect(pointsMatching(placed, { market: 'us' })[0]!.value).toBe(1);
    expect(receiver.requests.flatMap((r) => r.metrics).some((m) => m.name === 'debug.pings')).toBe(false);
    // A job that ran a task and ended exports it in the final export.
    const runs = receiver.metric('task.runs');
    expect(pointsMatching(runs, { 'task.name': 'nightly', 'task.outcome': 'success' })[0]!.value).toBe(1);
    expect(receiver.metric('task.last_success.timestamp').points[0]!.value).toBeGreaterThan(1.7e9);
  });
});

describe('without OTEL_LOGS_EXPORTER', () => {
  it('no logs package is loaded and no log record is sent', async () => {
    const receiver = await startOtlpReceiver({ protocol: 'http/protobuf' });
    const child = runApp({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.baseUrl,
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
    });
    expect(await child.waitForJson(undefined, 30_000)).toEqual({ loaded: [], debug: false });
    expect((await child.exited).code).toBe(0);
    // Event counters follow the temporality preference.
    const placed = await receiver.waitForMetric('orders.placed');
    expect(placed.temporality).toBe('delta');
    expect(pointsMatching(placed, { market: 'eu' })[0]!.value).toBe(1);
    expect(receiver.requests.filter((r) => r.signal === 'logs')).toEqual([]);
  });
});

describe('with OTEL_LOGS_EXPORTER=otlp and no event tracked', () => {
  it('nothing of the log export is loaded', async () => {
    const child = runApp({ OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'otlp', NO_EVENTS: '1' });
    expect(await child.waitForJson(undefined, 30_000)).toEqual({ loaded: [], debug: false });
    expect((await child.exited).code).toBe(0);
  });
});

describe('a collector that never answers', () => {
  it('the app still exits within OTELKIT_SHUTDOWN_TIMEOUT, saying the records were not delivered', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as { port: number };
      const child = runApp({
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `http://127.0.0.1:${port}/v1/logs`,
        OTELKIT_SHUTDOWN_TIMEOUT: '1000',
        EXIT_STYLE: 'exit-now',
      });
      await child.waitForJson(undefined, 30_000);
      const t0 = performance.now();
      expect((await child.exited).code).toBe(0);
      expect(performance.now() - t0).toBeLessThan(6000);
      expect(child.stderrLines.filter((l) => l.startsWith('otelkit:'))).toEqual([
        expect.stringMatching(
          new RegExp(
            /^otelkit: the final OTLP log export to http:\/\/127\.0\.0\.1:\d+\/v1\/logs /.source +
              // The exporter's own timeout and otelkit's bound race; either cause is the truth.
              /did not go through \((no answer within \d+ ms|Request timed out)\)/.source,
          ),
        ),
      ]);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
