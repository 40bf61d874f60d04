/**
 * The OTLP export thread. Every OTLP export runs here, through the official
 * exporter package of the configured protocol, so that
 * - the app's event loop holds no export socket or retry timer: a process whose
 *   work is done exits at once, whatever the collector does;
 * - the final export can be waited for synchronously from the process 'exit'
 *   event (the main thread blocks on an Atomics flag while this thread sends).
 *
 * Protocol (over the MessagePort handed in as workerData.port): the main thread
 * posts `{ id, op, metrics?, done? }`; this thread answers `{ id, ok, error? }`
 * and, when `done` (an Int32Array on a SharedArrayBuffer) is given, sets it and
 * wakes the waiting main thread.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { OtlpConfig } from '../config/types.js';
import type { ExportReply, ExportRequest, TransferredMetrics } from './otlp-messages.js';

const GRPC_UNAVAILABLE = 14;
const { port, otlp } = workerData as { port: MessagePort; otlp: OtlpConfig };

async function loadExporter(timeoutMs = otlp.timeoutMs): Promise<PushMetricExporter> {
  const options = {
    url: otlp.endpoint,
    headers: otlp.headers,
    timeoutMillis: timeoutMs,
    compression: otlp.compression as never,
  };
  switch (otlp.protocol) {
    case 'grpc':
      return new (await import('@opentelemetry/exporter-metrics-otlp-grpc')).OTLPMetricExporter(options);
    case 'http/json':
      return new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter(options);
    default:
      return new (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter(options);
  }
}

let exporter: Promise<PushMetricExporter> = loadExporter();

function rebuild(metrics: TransferredMetrics): ResourceMetrics {
  const { attributes, schemaUrl } = metrics.resource;
  return {
    resource: resourceFromAttributes(attributes, schemaUrl ? { schemaUrl } : undefined),
    scopeMetrics: metrics.scopeMetrics,
  };
}

function describe(error: unknown): ExportReply['error'] {
  if (error === undefined) return { message: 'unknown error' };
  const e = error as { message?: unknown; code?: unknown; name?: unknown };
  return {
    message: String(e.message ?? error),
    ...(typeof e.code === 'number' || typeof e.code === 'string' ? { code: e.code } : {}),
  };
}

/**
 * One export. With `timeoutMs` (the final export at exit, which has a deadline
 * of its own) through a one-off exporter whose retries end within it, so the
 * answer names the cause instead of the main thread giving up without one.
 */
async function exportOnce(metrics: TransferredMetrics, timeoutMs?: number): Promise<ExportReply['error'] | undefined> {
  const current = timeoutMs === undefined ? await exporter : await loadExporter(Math.min(timeoutMs, otlp.timeoutMs));
  const result = await new Promise<{ code: number; error?: unknown }>((resolve) => {
    try {
      current.export(rebuild(metrics), resolve);
    } catch (error) {
      resolve({ code: 1, error });
    }
  });
  if (timeoutMs !== undefined) void current.shutdown().catch(() => {});
  if (result.code === 0) return undefined;
  const error = describe(result.error);
  // A gRPC channel that failed to connect waits out a growing reconnect backoff
  // (up to two minutes) before it tries again, even once the collector is back.
  // A fresh exporter brings a fresh channel that connects on the next export.
  if (timeoutMs === undefined && otlp.protocol === 'grpc' && error?.code === GRPC_UNAVAILABLE) {
    exporter = loadExporter();
    void current.shutdown().catch(() => {});
  }
  return error;
}

async function handle(request: ExportRequest): Promise<ExportReply> {
  try {
    if (request.op === 'export') {
      const error = await exportOnce(request.metrics, request.timeoutMs);
      return error ? { id: request.id, ok: false, error } : { id: request.id, ok: true };
    }
    await (await exporter).shutdown();
    return { id: request.id, ok: true };
  } catch (error) {
    return { id: request.id, ok: false, error: describe(error) };
  }
}

port.on('message', (request: ExportRequest) => {
  void handle(request).then((reply) => {
    port.postMessage(reply);
    if (request.done) {
      Atomics.store(request.done, 0, 1);
      Atomics.notify(request.done, 0);
    }
  });
});
