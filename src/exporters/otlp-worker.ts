/**
 * The OTLP export thread. Every OTLP export runs here, through the official
 * exporter package of the configured protocol, so that
 * - the app's event loop holds no export socket or retry timer: a process whose
 *   work is done exits at once, whatever the collector does;
 * - the final export can be waited for synchronously from the process 'exit'
 *   event (the main thread blocks on an Atomics flag while this thread sends).
 *
 * One thread exports one signal: metrics (workerData.otlp, the metrics settings), or
 * the log records of tracked events (workerData.logs: protocol and endpoint; the log
 * exporter reads its headers, timeout and compression from the
 * OTEL_EXPORTER_OTLP_LOGS_* / OTEL_EXPORTER_OTLP_* variables itself).
 *
 * Protocol (over the MessagePort handed in as workerData.port): the main thread
 * posts `{ id, op, metrics? | logs?, done? }`; this thread answers `{ id, ok, error? }`
 * and, when `done` (an Int32Array on a SharedArrayBuffer) is given, sets it and
 * wakes the waiting main thread.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { OtlpConfig, OtlpProtocol } from '../config/types.js';
import type {
  ExportReply,
  ExportRequest,
  TransferredLogs,
  TransferredMetrics,
  TransferredResource,
} from './otlp-messages.js';

const GRPC_UNAVAILABLE = 14;
const { port, otlp, logs } = workerData as {
  port: MessagePort;
  otlp?: OtlpConfig;
  logs?: { protocol: OtlpProtocol; endpoint: string };
};

/** What this thread needs of a metric or log exporter. */
interface Exporter {
  export(data: never, done: (result: { code: number; error?: unknown }) => void): void;
  shutdown(): Promise<void>;
}

async function loadMetricExporter(timeoutMs = otlp!.timeoutMs): Promise<Exporter> {
  const config = otlp!;
  const options = {
    url: config.endpoint,
    headers: config.headers,
    timeoutMillis: timeoutMs,
    compression: config.compression as never,
  };
  switch (config.protocol) {
    case 'grpc':
      return new (await import('@opentelemetry/exporter-metrics-otlp-grpc')).OTLPMetricExporter(options);
    case 'http/json':
      return new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter(options);
    default:
      return new (await import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter(options);
  }
}

async function loadLogExporter(timeoutMs?: number): Promise<Exporter> {
  const options = { url: logs!.endpoint, ...(timeoutMs === undefined ? {} : { timeoutMillis: timeoutMs }) };
  switch (logs!.protocol) {
    case 'grpc':
      return new (await import('@opentelemetry/exporter-logs-otlp-grpc')).OTLPLogExporter(options);
    case 'http/json':
      return new (await import('@opentelemetry/exporter-logs-otlp-http')).OTLPLogExporter(options);
    default:
      return new (await import('@opentelemetry/exporter-logs-otlp-proto')).OTLPLogExporter(options);
  }
}

const load = logs ? loadLogExporter : loadMetricExporter;
const protocol = logs ? logs.protocol : otlp!.protocol;
let exporter: Promise<Exporter> = load();

function resourceOf({ attributes, schemaUrl }: TransferredResource) {
  return resourceFromAttributes(attributes, schemaUrl ? { schemaUrl } : undefined);
}

function rebuild(metrics: TransferredMetrics): ResourceMetrics {
  return { resource: resourceOf(metrics.resource), scopeMetrics: metrics.scopeMetrics };
}

function rebuildLogs(transferred: TransferredLogs): ReadableLogRecord[] {
  const resource = resourceOf(transferred.resource);
  return transferred.records.map(({ scope, ...record }) => ({ ...record, resource, instrumentationScope: scope }));
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
async function exportOnce(
  data: ResourceMetrics | ReadableLogRecord[],
  timeoutMs?: number,
): Promise<ExportReply['error'] | undefined> {
  const current =
    timeoutMs === undefined ? await exporter : await load(Math.min(timeoutMs, otlp?.timeoutMs ?? timeoutMs));
  const result = await new Promise<{ code: number; error?: unknown }>((resolve) => {
    try {
      current.export(data as never, resolve);
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
  if (timeoutMs === undefined && protocol === 'grpc' && error?.code === GRPC_UNAVAILABLE) {
    exporter = load();
    void current.shutdown().catch(() => {});
  }
  return error;
}

async function handle(request: ExportRequest): Promise<ExportReply> {
  try {
    if (request.op === 'export' || request.op === 'export-logs') {
      const data = request.op === 'export' ? rebuild(request.metrics) : rebuildLogs(request.logs);
      const error = await exportOnce(data, request.timeoutMs);
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
