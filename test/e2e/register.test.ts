import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getOtelkit, metricsHandler, register, type OtelkitHandle } from '../../index.js';
import { isNotCounted } from '../../src/own-traffic.js';
import { findSamples, parsePrometheus, sampleValue, scrape } from '../helpers/prom-text.js';

const TOKEN = 's3cret-token';
let otel: OtelkitHandle;
let url: string;
const stderr = vi.spyOn(process.stderr, 'write');

beforeAll(async () => {
  otel = register({
    prometheus: { host: '127.0.0.1', port: 0, token: TOKEN },
    instrumentations: [],
    cardinalityLimit: 5,
    histogramBuckets: { 'custom.latency': [1, 2, 3] },
    serviceName: 'register-test',
  });
  const address = await otel.ready;
  url = address!.url;
});
afterAll(() => otel.shutdown());

const meter = () => metrics.getMeter('test');
const read = () => scrape(url, TOKEN);

describe('register()', () => {
  it('binds an ephemeral port on the configured host and reports it', () => {
    expect(otel.prometheusAddress).toMatchObject({ host: '127.0.0.1' });
    expect(otel.prometheusAddress!.port).toBeGreaterThan(0);
    expect(url).toBe(`http://127.0.0.1:${otel.prometheusAddress!.port}/metrics`);
  });

  it('a counter added 3 times reads 3, with the _total suffix', async () => {
    const counter = meter().createCounter('orders.placed', { unit: '{order}', description: 'Orders placed' });
    counter.add(1, { region: 'eu' });
    counter.add(1, { region: 'eu' });
    counter.add(1, { region: 'eu' });
    expect(sampleValue(await read(), 'orders_placed_total', { region: 'eu' })).toBe(3);
  });

  it('service.name and target_info come from the resource', async () => {
    expect(sampleValue(await read(), 'target_info', { service_name: 'register-test' })).toBe(1);
  });

  it('histograms get unit suffixes and unit-based default buckets', async () => {
    meter().createHistogram('job.duration', { unit: 's' }).record(0.3);
    meter().createHistogram('job.latency', { unit: 'ms' }).record(30);
    meter().createHistogram('payload.size', { unit: 'By' }).record(1000);
    const text = await read();
    const les = (name: string) => findSamples(text, name).map((s) => s.labels.le);
    expect(les('job_duration_seconds_bucket')).toEqual([
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.075',
      '0.1',
      '0.25',
      '0.5',
      '0.75',
      '1',
      '2.5',
      '5',
      '7.5',
      '10',
      '+Inf',
    ]);
    expect(les('job_latency_milliseconds_bucket')).toEqual([
      '5',
      '10',
      '25',
      '50',
      '75',
      '100',
      '250',
      '500',
      '750',
      '1000',
      '2500',
      '5000',
      '7500',
      '10000',
      '+Inf',
    ]);
    expect(les('payload_size_bytes_bucket')).toEqual([
      '64',
      '256',
      '1024',
      '4096',
      '16384',
      '65536',
      '262144',
      '1048576',
      '4194304',
      '16777216',
      '67108864',
      '+Inf',
    ]);
    expect(sampleValue(text, 'job_duration_seconds_bucket', { le: '0.25' })).toBe(0);
    expect(sampleValue(text, 'job_duration_seconds_bucket', { le: '0.5' })).toBe(1);
    expect(sampleValue(text, 'payload_size_bytes_bucket', { le: '1024' })).toBe(1);
  });

  it('explicit advice and per-name configured buckets win over unit defaults', async () => {
    meter().createHistogram('custom.latency', { unit: 's' }).record(2.5);
    meter()
      .createHistogram('advised.duration', { unit: 's', advice: { explicitBucketBoundaries: [0.5, 5] } })
      .record(1);
    const text = await read();
    expect(findSamples(text, 'custom_latency_seconds_bucket').map((s) => [s.labels.le, s.value])).toEqual([
      ['1', 0],
      ['2', 0],
      ['3', 1],
      ['+Inf', 1],
    ]);
    expect(findSamples(text, 'advised_duration_seconds_bucket').map((s) => s.labels.le)).toEqual(['0.5', '5', '+Inf']);
  });

  it('past the cardinality limit, further attribute sets fold into one visible overflow series', async () => {
    const counter = meter().createCounter('tenant.requests');
    for (let i = 0; i < 9; i++) counter.add(1, { tenant: `t${i}` });
    const samples = findSamples(await read(), 'tenant_requests_total');
    expect(samples).toHaveLength(5);
    const overflow = samples.filter((s) => s.labels.otel_metric_overflow === 'true');
    expect(overflow).toHaveLength(1);
    expect(samples.reduce((sum, s) => sum + s.value, 0)).toBe(9);
  });

  it('the cardinality limit also holds for an instrument whose buckets are configured by name', async () => {
    const histogram = meter().createHistogram('custom.latency', { unit: 's' });
    for (let i = 0; i < 9; i++) histogram.record(1.5, { tenant: `t${i}` });
    const counts = findSamples(await read(), 'custom_latency_seconds_count');
    expect(counts.length).toBeLessThanOrEqual(5);
    expect(counts.filter((s) => s.labels.otel_metric_overflow === 'true')).toHaveLength(1);
  });

  it('without the token the scrape is 401, with a wrong one too', async () => {
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('other paths are 404, other methods 405', async () => {
    expect((await fetch(url.replace('/metrics', '/other'))).status).toBe(404);
    expect((await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
  });

  it('a second register() returns the same handle, opens no second port, and warns once', () => {
    stderr.mockClear();
    expect(register({ prometheus: { port: 0 } })).toBe(otel);
    expect(register()).toBe(otel);
    const warnings = stderr.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('already called'));
    expect(warnings).toHaveLength(1);
    expect(getOtelkit()).toBe(otel);
  });

  describe("mounted on the app's own server", () => {
    let server: Server;
    let appUrl: string;
    beforeAll(async () => {
      server = createServer((req, res) => (req.url === '/metrics' ? metricsHandler(req, res) : res.end('app')));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      appUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('answers nothing and throws nothing when another handler already responded', async () => {
      const errors: unknown[] = [];
      const onRejection = (err: unknown) => errors.push(err);
      process.on('unhandledRejection', onRejection);
      const early = createServer((req, res) => {
        res.end('timeout middleware answered first');
        metricsHandler(req, res);
      });
      await new Promise<void>((resolve) => early.listen(0, '127.0.0.1', resolve));
      try {
        const port = (early.address() as AddressInfo).port;
        const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(await res.text()).toBe('timeout middleware answered first');
        await new Promise((r) => setTimeout(r, 100));
        expect(errors).toEqual([]);
      } finally {
        process.off('unhandledRejection', onRejection);
        early.close();
      }
    });

    it('serves the same metrics, honours the token, and marks the request as not-to-be-counted', async () => {
      const seen: object[] = [];
      server.prependListener('request', (req) => seen.push(req));
      expect((await fetch(appUrl)).status).toBe(401);
      const text = await scrape(appUrl, TOKEN);
      expect(sampleValue(text, 'orders_placed_total', { region: 'eu' })).toBe(3);
      expect(seen.length).toBe(2);
      expect(seen.every((req) => isNotCounted(req as IncomingMessage))).toBe(true);
    });
  });

  it('the scrape passes promtool check metrics, but for the deliberate non-base unit', async () => {
    const text = await read();
    parsePrometheus(text);
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(result.error, 'promtool must be installed (.ci/run installs Debian prometheus)').toBeUndefined();
    // The test's own `ms` histogram is the one thing Prometheus conventions object to.
    expect(`${result.stdout}${result.stderr}`.trim()).toBe(
      'job_latency_milliseconds use base unit "seconds" instead of "milliseconds"',
    );
  });

  // Last: it stops otelkit for the rest of this file.
  it('register() after shutdown() says that it starts nothing, and returns the stopped handle', async () => {
    await otel.shutdown();
    stderr.mockClear();
    expect(register()).toBe(otel);
    const lines = stderr.mock.calls.map((c) => String(c[0]));
    expect(lines).toEqual([
      'otelkit: register() after shutdown(): otelkit starts once per process and is stopped; ' +
        'returning the stopped handle\n',
    ]);
  });
});
