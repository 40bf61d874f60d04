// The otelkit/register preload in real child processes: ESM and CJS apps, the
// package.json service name, disabled mode, a busy port, bad settings.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startChild, stopAll } from '../helpers/child.js';
import { findSamples, sampleValue, scrape } from '../helpers/prom-text.js';

const root = join(import.meta.dirname, '../..');
const fixture = join(root, 'test/fixtures/core-app');
const baseEnv = {
  OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
  OTEL_EXPORTER_PROMETHEUS_PORT: '0',
  OTELKIT_INSTRUMENTATIONS: 'none',
};

afterEach(() => stopAll());

async function startApp(args: string[], env: Record<string, string> = {}, cwd = fixture) {
  const child = startChild({ args, env: { ...baseEnv, ...env }, cwd });
  const line = await child.waitForLine(/^\{.*"module"/, 15_000);
  return { child, info: JSON.parse(line) as { metricsUrl: string | null; appUrl?: string } };
}

/** A port that something else holds, for the in-use case. */
async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe('otelkit/register preload', () => {
  it('ESM app with --import: the scrape reads the app counter', async () => {
    const { info } = await startApp(['--import', 'otelkit/register', 'app.mjs'], { OTEL_SERVICE_NAME: 'shop-esm' });
    const text = await scrape(info.metricsUrl!);
    expect(sampleValue(text, 'fixture_events_total', { kind: 'esm' })).toBe(3);
    expect(sampleValue(text, 'fixture_duration_seconds_count', { kind: 'esm' })).toBe(2);
    expect(sampleValue(text, 'fixture_duration_seconds_bucket', { kind: 'esm', le: '2.5' })).toBe(1);
    expect(sampleValue(text, 'target_info', { service_name: 'shop-esm' })).toBe(1);
    // argv can carry secrets: the command line is not published.
    expect(findSamples(text, 'target_info')[0]!.labels).not.toHaveProperty('process_command_args');
    expect(findSamples(text, 'target_info')[0]!.labels).toHaveProperty('process_pid');
    // the host detector's attributes, detected at the first scrape rather than at start-up
    expect(findSamples(text, 'target_info')[0]!.labels).toMatchObject({ host_name: hostname() });
    if (existsSync('/etc/machine-id')) {
      expect(findSamples(text, 'target_info')[0]!.labels.host_id).toBe(readFileSync('/etc/machine-id', 'utf8').trim());
    }
  });

  it('CJS app with --require: the same', async () => {
    const { info } = await startApp(['--require', 'otelkit/register', 'app.cjs'], { COUNT: '5' });
    expect(sampleValue(await scrape(info.metricsUrl!), 'fixture_events_total', { kind: 'cjs' })).toBe(5);
  });

  it('CJS app with --import works too (no other flags needed)', async () => {
    const { info } = await startApp(['--import', 'otelkit/register', 'app.cjs']);
    expect(sampleValue(await scrape(info.metricsUrl!), 'fixture_events_total', { kind: 'cjs' })).toBe(3);
  });

  it('service.name and service.version come from the app package.json when OTEL_SERVICE_NAME is unset', async () => {
    const app = mkdtempSync(join(tmpdir(), 'otelkit-app-'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'billing-api', version: '4.5.6', type: 'module' }));
    mkdirSync(join(app, 'node_modules/@opentelemetry'), { recursive: true });
    symlinkSync(root, join(app, 'node_modules/otelkit'));
    symlinkSync(join(root, 'node_modules/@opentelemetry/api'), join(app, 'node_modules/@opentelemetry/api'));
    writeFileSync(
      join(app, 'app.mjs'),
      `
      import { getOtelkit } from 'otelkit';
      const a = await getOtelkit().ready;
      console.log(JSON.stringify({ metricsUrl: a.url, module: 'esm' }));
      setInterval(() => {}, 1000);
    `,
    );
    const { info } = await startApp(['--import', 'otelkit/register', 'app.mjs'], {}, app);
    expect(
      sampleValue(await scrape(info.metricsUrl!), 'target_info', {
        service_name: 'billing-api',
        service_version: '4.5.6',
      }),
    ).toBe(1);
  });

  it("neither the scrape server nor a scraper's keep-alive connection keeps the process alive", async () => {
    const child = startChild({
      args: [
        '--import',
        'otelkit/register',
        '--input-type=module',
        '-e',
        `
        import { getOtelkit } from 'otelkit';
        const { url } = await getOtelkit().ready;
        await (await fetch(url, { headers: { connection: 'keep-alive' } })).text();
        process.exitCode = 7;
        // Fires only if something still holds the event loop 2 s after the work is done (an exit
        // that follows at once never runs it); timed on the child's clock, not a busy parent's.
        setTimeout(() => console.log('still running: ' + process.getActiveResourcesInfo().join(',')), 2_000).unref();
      `,
      ],
      env: baseEnv,
      cwd: fixture,
    });
    expect(await child.exited).toEqual({ code: 7, signal: null });
    // With otelkit's server-side socket left ref'd, the keep-alive connection held the process ~3 s more.
    expect(child.stdout).toBe('');
  });

  it('another global MeterProvider first: one line, otelkit does not start, no port', async () => {
    const child = startChild({
      args: [
        '--input-type=module',
        '-e',
        `
        import { metrics } from '@opentelemetry/api';
        import { MeterProvider } from '@opentelemetry/sdk-metrics';
        metrics.setGlobalMeterProvider(new MeterProvider());
        const { register } = await import('otelkit');
        const otel = register({ prometheus: { host: '127.0.0.1', port: 0 }, instrumentations: [] });
        console.log(JSON.stringify({ disabled: otel.disabled, address: (await otel.ready) ?? null }));
      `,
      ],
      cwd: fixture,
    });
    expect(await child.waitForJson()).toEqual({ disabled: true, address: null });
    await child.exited;
    expect(child.stderr.trim().split('\n')).toEqual([
      'otelkit: another MeterProvider is already registered globally, so otelkit did not start; ' +
        'use the otelkit/register preload, or call register() before any other OpenTelemetry metrics setup',
    ]);
  });

  it('shutdown() right after register() leaves no port open, even before the bind finished', async () => {
    const { port, server } = await occupiedPort();
    await new Promise((resolve) => server.close(resolve));
    const child = startChild({
      args: [
        '--input-type=module',
        '-e',
        `
        import { register } from 'otelkit';
        const otel = register({ instrumentations: [] });
        await otel.shutdown();
        await new Promise((r) => setTimeout(r, 300));
        const open = await fetch('http://127.0.0.1:${port}/metrics').then(() => true, () => false);
        console.log(JSON.stringify({ open }));
      `,
      ],
      env: { ...baseEnv, OTEL_EXPORTER_PROMETHEUS_PORT: String(port) },
      cwd: fixture,
    });
    expect(await child.waitForJson()).toEqual({ open: false });
  });

  it('OTEL_SDK_DISABLED=true opens no port and the app runs', async () => {
    const { port, server } = await occupiedPort();
    server.close();
    const { child, info } = await startApp(['--import', 'otelkit/register', 'app.mjs'], {
      OTEL_SDK_DISABLED: 'true',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
    });
    expect(info.metricsUrl).toBeNull();
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
    expect(await (await fetch(info.appUrl!)).text()).toBe('ok');
    expect(child.stderr).toBe('');
  });

  it('a port already in use gives one clear line and the app keeps serving', async () => {
    const { port, server } = await occupiedPort();
    try {
      const { child, info } = await startApp(['--import', 'otelkit/register', 'app.mjs'], {
        OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
      });
      expect(info.metricsUrl).toBeNull();
      expect(await (await fetch(info.appUrl!)).text()).toBe('ok');
      const lines = child.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^otelkit: the Prometheus endpoint could not listen on 127\\.0\\.0\\.1:${port} ` +
            '\\(the address is already in use\\)',
        ),
      );
    } finally {
      server.close();
    }
  });

  it('bad settings give one line each and the app runs with defaults for them', async () => {
    const { child, info } = await startApp(['--import', 'otelkit/register', 'app.mjs'], {
      OTEL_METRICS_EXPORTER: 'prometheus,zipkin',
      OTELKIT_HISTOGRAM_BUCKETS: 'fixture.duration=5,1',
      OTEL_RESOURCE_ATTRIBUTES: 'oops',
    });
    const lines = child.stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.startsWith('otelkit: '))).toBe(true);
    expect(lines.join('\n')).toMatch(/OTEL_METRICS_EXPORTER="prometheus,zipkin" is invalid/);
    expect(sampleValue(await scrape(info.metricsUrl!), 'fixture_events_total', { kind: 'esm' })).toBe(3);
  });

  it('a broken config file gives one line and the app runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otelkit-badcfg-'));
    writeFileSync(join(dir, 'otel.config.mjs'), 'export default { cardinalityLimit: -1 };');
    const { child, info } = await startApp(['--import', 'otelkit/register', join(fixture, 'app.mjs')], {
      OTELKIT_CONFIG: join(dir, 'otel.config.mjs'),
    });
    expect(child.stderr.trim()).toBe(
      'otelkit: otel.config.mjs: cardinalityLimit=-1 is invalid: expected a whole number greater than 0; using 2000',
    );
    expect(sampleValue(await scrape(info.metricsUrl!), 'fixture_events_total', { kind: 'esm' })).toBe(3);
  });
});

afterAll(() => stopAll());
