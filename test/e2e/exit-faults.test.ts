// The fault suite for the way out and for collector outages: real child apps
// under the preload, a real OTLP receiver (or none, or one that never answers).
// - the final export arrives, per protocol and per way the app ends;
// - a process whose work is done exits within OTELKIT_SHUTDOWN_TIMEOUT whatever
//   the collector does, and says once what was not delivered;
// - while the collector is down: one line, not one per export; one when it is back;
// - gRPC export resumes soon after the collector comes back.
// The figures are printed at the end (the closing note and README quote them).
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startChild, stopAll, type Child } from '../helpers/child.js';
import { closeAllReceivers, pointsMatching, startOtlpReceiver, type OtlpProtocol } from '../helpers/otlp-receiver.js';
import { freePort } from '../helpers/free-port.js';

const fixture = join(import.meta.dirname, '../fixtures/exit');
const PROTOCOLS: OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];
const STYLES = ['signal', 'handler-exit', 'exit-now', 'natural'] as const;
const figures: string[] = [];

afterEach(async () => {
  await stopAll();
  await closeAllReceivers();
});
afterAll(() => console.log(`\nexit and outage figures:\n${figures.join('\n')}\n`));

function endpointEnv(protocol: OtlpProtocol, baseUrl: string): Record<string, string> {
  return { OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_EXPORTER_OTLP_ENDPOINT: baseUrl };
}

function runApp(style: string, env: Record<string, string>): Child {
  return startChild({
    args: ['--import', 'otelkit/register', 'app.mjs'],
    cwd: fixture,
    env: {
      OTEL_METRICS_EXPORTER: 'otlp',
      OTELKIT_INSTRUMENTATIONS: 'none',
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
      EXIT_STYLE: style,
      ...env,
    },
  });
}

/** Milliseconds from the app's "recorded" line to its exit. */
async function exitTime(child: Child): Promise<number> {
  await child.waitForLine('recorded', 15_000);
  const t0 = performance.now();
  await child.exited;
  return performance.now() - t0;
}

/** Accepts connections and never answers. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createNetServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const otelkitLines = (child: Child) => child.stderrLines.filter((line) => line.startsWith('otelkit:'));

describe.each(PROTOCOLS)('final export over %s', (protocol) => {
  it.each(STYLES)('arrives when the app ends by %s', async (style) => {
    const receiver = await startOtlpReceiver({ protocol });
    // Delivery is the point here, not the bound (tested below): a generous budget, so that
    // a machine busy enough to slow the export thread's start does not fail it.
    const child = runApp(style, { ...endpointEnv(protocol, receiver.baseUrl), OTELKIT_SHUTDOWN_TIMEOUT: '15000' });
    await child.waitForLine('recorded', 15_000);
    if (style === 'signal' || style === 'handler-exit') child.kill('SIGTERM');
    const exit = await child.exited;
    expect(exit).toEqual(style === 'signal' ? { code: null, signal: 'SIGTERM' } : { code: 0, signal: null });
    expect(pointsMatching(receiver.metric('exit.events'), { step: 'recorded' })[0]!.value).toBe(7);
    expect(child.stderr).toBe('');
    figures.push(`final export ${protocol} / ${style}: delivered`);
  });
});

describe('a process whose work is done exits within OTELKIT_SHUTDOWN_TIMEOUT, whatever the collector does', () => {
  // OTEL_EXPORTER_OTLP_TIMEOUT is long, so an exit that waited for the exporter
  // (its request or its retries) would take far longer than the bound.
  const slowExporter = { OTEL_EXPORTER_OTLP_TIMEOUT: '30000', OTELKIT_SHUTDOWN_TIMEOUT: '1000' };

  it.each(['http/protobuf', 'grpc'] as const)(
    'refused (%s): exits within the bound and says once what was not delivered',
    async (protocol) => {
      const child = runApp('natural', {
        ...slowExporter,
        ...endpointEnv(protocol, `http://127.0.0.1:${await freePort()}`),
      });
      const ms = await exitTime(child);
      figures.push(`exit with the collector refusing (${protocol}, bound 1000 ms): ${ms.toFixed(0)} ms`);
      expect(ms).toBeLessThan(8000);
      expect(await child.exited).toEqual({ code: 0, signal: null });
      // The cause, or no answer at all when the thread was still loading the exporter.
      expect(otelkitLines(child)).toEqual([
        expect.stringMatching(
          new RegExp(
            /final OTLP export to .* did not go through /.source +
              /\((ECONNREFUSED 127\.0\.0\.1:\d+|no answer within \d+ ms)\).*not delivered/.source,
          ),
        ),
      ]);
    },
  );

  it.each(['http/protobuf', 'grpc'] as const)('silent (%s): accepts and never answers', async (protocol) => {
    const silent = await silentServer();
    try {
      const child = runApp('natural', { ...slowExporter, ...endpointEnv(protocol, `http://127.0.0.1:${silent.port}`) });
      const ms = await exitTime(child);
      figures.push(`exit with a silent collector (${protocol}, bound 1000 ms): ${ms.toFixed(0)} ms`);
      expect(ms).toBeLessThan(8000);
      expect(otelkitLines(child)).toHaveLength(1);
      expect(otelkitLines(child)[0]).toContain('did not go through');
    } finally {
      await silent.close();
    }
  });

  it('slow (answers after 20 s): the same bound, the handler exit included', async () => {
    const receiver = await startOtlpReceiver({ protocol: 'http/protobuf', respond: () => ({ delayMs: 20_000 }) });
    const child = runApp('handler-exit', { ...slowExporter, ...endpointEnv('http/protobuf', receiver.baseUrl) });
    await child.waitForLine('recorded', 15_000);
    const t0 = performance.now();
    child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    const ms = performance.now() - t0;
    figures.push(`exit with a collector answering after 20 s (http/protobuf, bound 1000 ms): ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(8000);
    // Whether the request reached the receiver within the 1 s bound depends on how busy the machine is;
    // the line does not.
    expect(otelkitLines(child)).toEqual([expect.stringContaining('did not go through')]);
  });

  it('with the defaults and nothing on the port (the short-script case)', async () => {
    const child = runApp('natural', endpointEnv('http/protobuf', `http://127.0.0.1:${await freePort()}`));
    const ms = await exitTime(child);
    figures.push(
      `exit with the defaults and the collector refusing (http/protobuf, bound 3000 ms): ${ms.toFixed(0)} ms`,
    );
    expect(ms).toBeLessThan(6500);
    expect(otelkitLines(child)).toHaveLength(1);
  });
});

describe('while the collector is down', () => {
  it.each(['http/protobuf', 'grpc'] as const)(
    '%s: one line for the outage, one when it is back, none per export',
    async (protocol) => {
      const port = await freePort();
      // A short OTLP timeout, so each export's retries end (and count as a failure) quickly.
      const env = {
        ...endpointEnv(protocol, `http://127.0.0.1:${port}`),
        OTEL_METRIC_EXPORT_INTERVAL: '100',
        OTEL_EXPORTER_OTLP_TIMEOUT: '300',
      };
      const child = runApp('serve', env);
      await child.waitForLine(/OTLP export to .* failed/, 15_000, { stream: 'stderr' });
      // Many more failed exports than lines.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const whileDown = otelkitLines(child);
      const receiver = await startOtlpReceiver({ protocol, port });
      await receiver.waitFor(() => true, 20_000);
      await child.waitForLine(/works again, after \d+ failed exports/, 10_000, { stream: 'stderr' });
      const failedExports = Number(/after (\d+) failed/.exec(child.stderr)![1]);
      figures.push(
        `stderr lines while down (${protocol}): ${whileDown.length} ` +
          `for ${failedExports} failed exports, then 1 when back`,
      );
      expect(whileDown).toHaveLength(1);
      expect(whileDown[0]).toMatch(new RegExp(`failed \\(ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)`));
      expect(failedExports).toBeGreaterThanOrEqual(4);
      expect(otelkitLines(child)).toHaveLength(2);
      expect(child.stderr.split('\n').filter(Boolean)).toHaveLength(2);
    },
  );

  it('gRPC export resumes within a few seconds of the collector coming back after 30 s down', {
    timeout: 90_000,
  }, async () => {
    let receiver = await startOtlpReceiver({ protocol: 'grpc' });
    const port = receiver.port;
    runApp('serve', { ...endpointEnv('grpc', receiver.baseUrl), OTEL_METRIC_EXPORT_INTERVAL: '1000' });
    await receiver.waitFor(() => true, 15_000);
    await receiver.close();
    // Long enough for grpc-js's reconnect backoff to grow past ten seconds.
    await new Promise((resolve) => setTimeout(resolve, 30_000));
    receiver = await startOtlpReceiver({ protocol: 'grpc', port });
    const t0 = performance.now();
    await receiver.waitFor(() => true, 60_000);
    const ms = performance.now() - t0;
    figures.push(`gRPC export resumed ${ms.toFixed(0)} ms after the collector came back (30 s down, 1 s interval)`);
    expect(ms).toBeLessThan(4000);
  });
});
