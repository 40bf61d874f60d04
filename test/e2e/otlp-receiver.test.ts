/**
 * Proves the OTLP test receiver with the REAL exporters (no otelkit core involved):
 * whatever the SDK's own exporters send over each protocol is decoded with the
 * official OTLP protobuf definitions, and the values come back as recorded.
 */
import { Metadata, status as grpcStatus } from '@grpc/grpc-js';
import { ValueType } from '@opentelemetry/api';
import { loggingErrorHandler, setGlobalErrorHandler } from '@opentelemetry/core';
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { decodeMetrics, ExportMetricsServiceRequest } from '../helpers/otlp/decode.js';
import {
  closeAllReceivers,
  pointsMatching,
  startOtlpReceiver,
  type OtlpProtocol,
  type OtlpReceiver,
} from '../helpers/otlp-receiver.js';
import { startChild, stopAll } from '../helpers/child.js';

afterEach(() => closeAllReceivers());

interface ExporterOptions {
  headers?: Record<string, string>;
  compression?: 'gzip' | 'none';
  timeoutMillis?: number;
}

function makeExporter(protocol: OtlpProtocol, url: string, opts: ExporterOptions = {}): PushMetricExporter {
  // Explicit options for everything the tests check, so OTEL_* env vars of whoever runs this can't interfere.
  const common = { url, timeoutMillis: opts.timeoutMillis ?? 5000, compression: (opts.compression ?? 'none') as never };
  switch (protocol) {
    case 'http/json':
      return new JsonExporter({ ...common, headers: opts.headers ?? {} });
    case 'http/protobuf':
      return new ProtoExporter({ ...common, headers: opts.headers ?? {} });
    case 'grpc': {
      const metadata = new Metadata();
      for (const [k, v] of Object.entries(opts.headers ?? {})) metadata.set(k, v);
      return new GrpcExporter({ ...common, metadata });
    }
  }
}

/** A MeterProvider exporting to `receiver` with the matching real exporter. */
function providerFor(receiver: OtlpReceiver, opts: ExporterOptions = {}) {
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'receiver-test', 'deployment.environment.name': 'test' }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter: makeExporter(receiver.protocol, receiver.endpoint, opts),
        exportIntervalMillis: 60_000,
        exportTimeoutMillis: 10_000,
      }),
    ],
  });
  return provider;
}

function record(provider: MeterProvider) {
  const meter = provider.getMeter('receiver-test-scope', '1.2.3');
  const counter = meter.createCounter('test.requests', { unit: '{request}', description: 'requests served' });
  counter.add(1, { route: '/a' });
  counter.add(1, { route: '/a' });
  counter.add(1, { route: '/a' });
  counter.add(7, { route: '/b' });
  const hist = meter.createHistogram('test.latency', {
    unit: 's',
    advice: { explicitBucketBoundaries: [1, 10, 100] },
  });
  for (const v of [0.5, 5, 50, 500, 5]) hist.record(v, { ok: true });
  const updown = meter.createUpDownCounter('test.inflight');
  updown.add(5);
  updown.add(-2);
  meter.createObservableGauge('test.temperature').addCallback((r) => r.observe(21.5, { room: 'lab' }));
  // Counters default to DOUBLE (asDouble); INT goes through the int64 asInt path.
  meter.createCounter('test.bytes', { valueType: ValueType.INT }).add(2 ** 40, { big: 'yes' });
}

const PROTOCOLS: OtlpProtocol[] = ['http/protobuf', 'http/json', 'grpc'];

describe.each(PROTOCOLS)('OTLP receiver over %s with the real exporter', (protocol) => {
  it('decodes counters, histograms, up-down counters, gauges and resource/scope; records headers', async () => {
    const receiver = await startOtlpReceiver({ protocol });
    expect(receiver.endpoint).toMatch(
      protocol === 'grpc' ? /^http:\/\/127\.0\.0\.1:\d+$/ : /^http:\/\/127\.0\.0\.1:\d+\/v1\/metrics$/,
    );
    const provider = providerFor(receiver, { headers: { 'x-otelkit-test': 'token-123' } });
    record(provider);
    await provider.forceFlush();
    await provider.shutdown();

    const request = await receiver.waitFor((r) => r.metrics.some((m) => m.name === 'test.requests'), 5000);
    expect(receiver.errors).toEqual([]);
    expect(request.protocol).toBe(protocol);
    expect(request.headers['x-otelkit-test']).toBe('token-123');
    if (protocol === 'http/protobuf') expect(request.contentType).toBe('application/x-protobuf');
    if (protocol === 'http/json') expect(request.contentType).toBe('application/json');
    if (protocol === 'grpc') expect(request.contentType).toBe('application/grpc');

    const counter = receiver.metric('test.requests');
    expect(counter).toMatchObject({
      type: 'sum',
      isMonotonic: true,
      temporality: 'cumulative',
      unit: '{request}',
      description: 'requests served',
      scope: { name: 'receiver-test-scope', version: '1.2.3' },
    });
    expect(counter.resource['service.name']).toBe('receiver-test');
    expect(counter.resource['deployment.environment.name']).toBe('test');
    expect(pointsMatching(counter, { route: '/a' })[0]!.value).toBe(3);
    expect(pointsMatching(counter, { route: '/b' })[0]!.value).toBe(7);
    expect(counter.points[0]!.timeUnixNano).toBeGreaterThan(1.6e18);

    const hist = receiver.metric('test.latency');
    expect(hist.type).toBe('histogram');
    expect(hist.temporality).toBe('cumulative');
    expect(hist.unit).toBe('s');
    expect(hist.points).toHaveLength(1);
    expect(hist.points[0]).toMatchObject({
      attributes: { ok: true },
      count: 5,
      sum: 560.5,
      min: 0.5,
      max: 500,
      explicitBounds: [1, 10, 100],
      bucketCounts: [1, 2, 1, 1],
    });

    const updown = receiver.metric('test.inflight');
    expect(updown).toMatchObject({ type: 'sum', isMonotonic: false, temporality: 'cumulative' });
    expect(updown.points[0]!.value).toBe(3);

    const gauge = receiver.metric('test.temperature');
    expect(gauge.type).toBe('gauge');
    expect(gauge.points[0]).toMatchObject({ value: 21.5, attributes: { room: 'lab' } });

    // int64 values (Long in protobufjs, strings in OTLP/JSON) arrive as plain numbers.
    expect(receiver.metric('test.bytes').points[0]).toMatchObject({ value: 2 ** 40, isInt: true });
    expect(counter.points[0]!.isInt).toBe(false);
  });

  it('accepts gzip compression (HTTP bodies, gRPC messages)', async () => {
    const receiver = await startOtlpReceiver({ protocol });
    const provider = providerFor(receiver, { compression: 'gzip' });
    record(provider);
    await provider.forceFlush();
    await provider.shutdown();
    const request = await receiver.waitFor(undefined, 5000);
    expect(request.contentEncoding).toBe('gzip');
    expect(receiver.metric('test.requests').points.find((p) => p.attributes.route === '/a')!.value).toBe(3);
    expect(receiver.metric('test.latency').points[0]!.count).toBe(5);
  });

  it('replies with errors on request, and the exporter reports the failure', async () => {
    // sdk-metrics 3.x: forceFlush() resolves even when the export fails; the failure goes to the global error handler.
    const reported: unknown[] = [];
    setGlobalErrorHandler((e) => reported.push(e));
    onTestFinished(() => setGlobalErrorHandler(loggingErrorHandler()));
    const receiver = await startOtlpReceiver({
      protocol,
      respond: () => ({ httpStatus: 400, grpcCode: grpcStatus.INVALID_ARGUMENT, message: 'rejected by test' }),
    });
    const provider = providerFor(receiver);
    record(provider);
    await provider.forceFlush();
    expect(receiver.requests).toHaveLength(1); // 400 / INVALID_ARGUMENT are not retryable
    expect(reported).toHaveLength(1);
    expect(String(reported[0])).toMatch(/metrics export failed/);
    receiver.respond = undefined;
    await provider.forceFlush();
    expect(receiver.requests).toHaveLength(2);
    expect(reported).toHaveLength(1);
    await provider.shutdown();
  });

  it('a retryable failure (503 / UNAVAILABLE): HTTP exporters retry, the gRPC exporter does not', async () => {
    const reported: unknown[] = [];
    setGlobalErrorHandler((e) => reported.push(e));
    onTestFinished(() => setGlobalErrorHandler(loggingErrorHandler()));
    let calls = 0;
    const receiver = await startOtlpReceiver({
      protocol,
      respond: () => (++calls === 1 ? { httpStatus: 503, grpcCode: grpcStatus.UNAVAILABLE } : undefined),
    });
    const provider = providerFor(receiver);
    record(provider);
    await provider.forceFlush();
    if (protocol === 'grpc') {
      // exporter-metrics-otlp-grpc 0.301.0's transport reports every gRPC error as a plain failure.
      expect(receiver.requests).toHaveLength(1);
      expect(reported).toHaveLength(1);
    } else {
      expect(receiver.requests).toHaveLength(2);
      expect(reported).toHaveLength(0);
      expect(receiver.metric('test.requests').points.find((p) => p.attributes.route === '/a')!.value).toBe(3);
    }
    await provider.shutdown();
  });

  it('waitFor times out with a useful message', async () => {
    const receiver = await startOtlpReceiver({ protocol });
    await expect(receiver.waitForMetric('never.sent', undefined, 100)).rejects.toThrow(/never\.sent.*0 request/);
    expect(() => receiver.metric('never.sent')).toThrow(/not received/);
  });
});

describe('OTLP receiver HTTP edge cases', () => {
  it('records wrong paths and undecodable bodies as errors with 4xx replies', async () => {
    const receiver = await startOtlpReceiver({ protocol: 'http/protobuf' });
    const wrongPath = await fetch(`${receiver.baseUrl}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array(),
    });
    expect(wrongPath.status).toBe(404);
    const garbage = await fetch(receiver.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([0xff, 0xff, 0xff]),
    });
    expect(garbage.status).toBe(400);
    expect(receiver.errors.map((e) => e.message).join('\n')).toMatch(
      /unexpected path \/v1\/traces[\s\S]*cannot decode/,
    );
    expect(receiver.requests).toHaveLength(0);
  });

  it("replies with an empty ExportMetricsServiceResponse in the request's own encoding", async () => {
    const receiver = await startOtlpReceiver({ protocol: 'http/protobuf' });
    const body = ExportMetricsServiceRequest.encode(
      ExportMetricsServiceRequest.fromObject({ resourceMetrics: [] }),
    ).finish();
    const res = await fetch(receiver.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    expect((await res.arrayBuffer()).byteLength).toBe(0); // an empty message is zero bytes

    const jsonRes = await fetch(receiver.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(jsonRes.headers.get('content-type')).toBe('application/json');
    expect(await jsonRes.json()).toEqual({});
    expect(receiver.requests.map((r) => r.protocol)).toEqual(['http/protobuf', 'http/json']);
  });

  it('decodes OTLP/JSON (string int64s, enum names) to the same records as the protobuf encoding', () => {
    const request = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
          scopeMetrics: [
            {
              scope: { name: 's' },
              metrics: [
                {
                  name: 'm',
                  sum: {
                    aggregationTemporality: 'AGGREGATION_TEMPORALITY_DELTA',
                    isMonotonic: true,
                    dataPoints: [
                      {
                        asInt: '9007199254740',
                        timeUnixNano: '1700000000000000000',
                        attributes: [
                          { key: 'n', value: { intValue: '42' } },
                          {
                            key: 'list',
                            value: { arrayValue: { values: [{ boolValue: true }, { doubleValue: 0.5 }] } },
                          },
                        ],
                      },
                    ],
                  },
                },
                // A histogram point that saw nothing: zero fields still read as 0, unset sum/min/max stay absent.
                { name: 'h', histogram: { aggregationTemporality: 2, dataPoints: [{ explicitBounds: [1] }] } },
              ],
            },
          ],
        },
      ],
    };
    const fromJson = decodeMetrics(Buffer.from(JSON.stringify(request)), true);
    const bytes = ExportMetricsServiceRequest.encode(ExportMetricsServiceRequest.fromObject(request)).finish();
    expect(decodeMetrics(bytes, false)).toEqual(fromJson);

    const [m, h] = fromJson;
    expect(m).toMatchObject({
      name: 'm',
      type: 'sum',
      temporality: 'delta',
      isMonotonic: true,
      resource: { 'service.name': 'svc' },
    });
    expect(m!.points[0]).toMatchObject({
      value: 9007199254740,
      isInt: true,
      timeUnixNano: 1.7e18,
      startTimeUnixNano: 0,
    });
    expect(m!.points[0]!.attributes).toEqual({ n: 42, list: [true, 0.5] });
    expect(h).toMatchObject({ type: 'histogram', temporality: 'cumulative' });
    expect(h!.points[0]).toMatchObject({ count: 0, bucketCounts: [], explicitBounds: [1] });
    expect(h!.points[0]).not.toHaveProperty('sum');
    expect(() => decodeMetrics(Buffer.from('{"resourceMetrics": 1}'), true)).toThrow();
  });
});

describe('OTLP receiver with an exporter configured only by OTEL_* env, in a child process', () => {
  afterEach(() => stopAll());

  // The child gets no OTEL_* from this process (startChild passes PATH/HOME only), so what
  // arrives is exactly what these variables asked for.
  const CHILD = `
    import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
    import { detectResources, envDetector } from '@opentelemetry/resources';
    const proto = process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
    const mod = { grpc: 'grpc', 'http/json': 'http' }[proto] ?? 'proto';
    const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-' + mod);
    // sdk-metrics 3.x: MeterProvider's default resource does not read OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES.
    const provider = new MeterProvider({
      resource: detectResources({ detectors: [envDetector] }),
      readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: 60000 })],
    });
    const asked = ['PROTOCOL', 'ENDPOINT', 'HEADERS', 'COMPRESSION'].map((k) => 'OTEL_EXPORTER_OTLP_' + k);
    asked.push('OTEL_SERVICE_NAME');
    const leaked = Object.keys(process.env).filter((k) => k.startsWith('OTEL_') && !asked.includes(k));
    provider.getMeter('child').createCounter('child.count').add(4, { leaked: String(leaked.length) });
    setInterval(() => {}, 1000); // keep alive until signalled (the reader's timer is unref'd)
    process.on('SIGTERM', async () => { await provider.shutdown(); console.log('bye'); process.exit(0); });
    console.log(JSON.stringify({ ready: true, pid: process.pid })); // only once the handler is in place
  `;

  it.each(PROTOCOLS)('%s: endpoint, headers, compression and service name from env arrive', async (protocol) => {
    const receiver = await startOtlpReceiver({ protocol });
    const child = startChild({
      args: ['--input-type=module', '-e', CHILD],
      env: {
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        // The base endpoint: HTTP exporters append /v1/metrics themselves.
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.baseUrl,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%20def,x-tenant=t1',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
        OTEL_SERVICE_NAME: 'child-svc',
      },
      maxLifetimeMs: 20_000,
    });
    expect(await child.waitForJson<{ ready: boolean }>((v) => v.ready, 10_000)).toMatchObject({ ready: true });
    child.kill('SIGTERM'); // shutdown flushes
    await child.waitForLine('bye', 10_000);
    expect(await child.exited).toEqual({ code: 0, signal: null });

    const m = await receiver.waitForMetric('child.count', undefined, 5000);
    expect(m.points[0]).toMatchObject({ value: 4, attributes: { leaked: '0' } });
    expect(m.resource['service.name']).toBe('child-svc');
    expect(m.resource).not.toHaveProperty('leak'); // in case the runner has OTEL_RESOURCE_ATTRIBUTES=leak=…
    expect(receiver.requests[0]!.headers).not.toHaveProperty('leak');
    const req = receiver.requests[0]!;
    expect(req.protocol).toBe(protocol);
    expect(req.headers['x-api-key']).toBe('abc def');
    expect(req.headers['x-tenant']).toBe('t1');
    expect(req.contentEncoding).toBe('gzip');
  });
});
