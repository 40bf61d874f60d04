/**
 * Log records for tracked events, when OTEL_LOGS_EXPORTER (config.events.logExporters)
 * asks for them: a LoggerProvider of the official logs SDK, loaded only then, with
 * - `otlp`: a processor that batches records (at most BATCH, or after DELAY_MS) and
 *   hands each batch to an export thread of its own (otlp-worker.ts, which runs the
 *   official OTLP log exporter of the configured protocol). As for metrics, no export
 *   socket or retry timer lives on the app's event loop, so the app exits when its work
 *   is done, and what is still batched at exit is sent synchronously, bounded;
 * - `console`: the SDK's console exporter, record by record.
 * Nothing loads before the first record; the logger queues records (bounded) until
 * the SDK has.
 */
import { extname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { diag, type LogRecord, type Logger } from '@opentelemetry/api';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import type { OtelkitConfig } from '../config/types.js';
import { configWarning } from '../log.js';
import { buildResource, withHostAttributesNow } from '../resource.js';
import { firstLine } from '../util/errors.js';
import { OTELKIT_VERSION } from '../version.js';
import { ExportFailureLog, exportCause } from './export-failures.js';
import { ExportThread, type SyncExportOutcome } from './export-thread.js';
import { transferableResource, type TransferredLog, type TransferredResource } from './otlp-messages.js';

const BATCH = 512;
const DELAY_MS = 1000;
/** Records kept while the collector is slow (and before the SDK has loaded); later ones are dropped. */
const MAX_QUEUE = 2048;

export interface LogExport {
  /** Emits to the configured log exporters. */
  readonly logger: Logger;
  forceFlush(): Promise<void>;
  shutdown(timeoutMs: number): Promise<void>;
  /**
   * For the process 'exit' event: sends what is still batched, and returns what waits
   * (blocking) for the answer; undefined when nothing was batched. `timeoutMs` is the
   * export thread's deadline.
   */
  beginExportAtExit(timeoutMs: number): ((timeoutMs: number) => SyncExportOutcome) | undefined;
}

function startLogThread(config: OtelkitConfig, log: ExportFailureLog): ExportThread {
  return new ExportThread(
    (port) => {
      const url = new URL(`./otlp-worker${extname(new URL(import.meta.url).pathname)}`, import.meta.url);
      const logs = { protocol: config.events.logProtocol, endpoint: config.events.logEndpoint };
      // No execArgv: a worker inherits the app's, and `--import otelkit/register` would start otelkit in it.
      return new Worker(url, { workerData: { port, logs }, transferList: [port], execArgv: [] });
    },
    (message) => log.failed(message),
  );
}

/** The `otlp` log exporter's processor: batches on this thread, exports on the export thread. */
class ThreadedLogProcessor implements LogRecordProcessor {
  private batch: TransferredLog[] = [];
  private resource: TransferredResource | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private dropped = 0;
  private stopped = false;

  constructor(
    private readonly thread: ExportThread,
    private readonly failures: ExportFailureLog,
  ) {}

  onEmit(record: ReadWriteLogRecord): void {
    if (this.stopped) return;
    if (this.batch.length + this.inFlight.size * BATCH >= MAX_QUEUE) {
      if (this.dropped++ === 0) diag.warn('otelkit: the log export queue is full; log records are being dropped');
      return;
    }
    this.resource ??= transferableResource(withHostAttributesNow(record.resource));
    const scope = record.instrumentationScope;
    this.batch.push({
      hrTime: record.hrTime,
      hrTimeObserved: record.hrTimeObserved,
      severityNumber: record.severityNumber,
      severityText: record.severityText,
      body: record.body,
      eventName: record.eventName,
      attributes: record.attributes,
      droppedAttributesCount: record.droppedAttributesCount,
      scope: { name: scope.name, ...(scope.version ? { version: scope.version } : {}) },
    });
    if (this.batch.length >= BATCH) this.send();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.send(), DELAY_MS);
      this.timer.unref();
    }
  }

  private take(): TransferredLog[] {
    clearTimeout(this.timer);
    this.timer = undefined;
    const records = this.batch;
    this.batch = [];
    return records;
  }

  private send(): void {
    const records = this.take();
    if (records.length === 0 || !this.resource) return;
    const sent = this.thread
      .request({ op: 'export-logs', logs: { resource: this.resource, records } })
      .then((reply) => (reply.ok ? this.failures.succeeded() : this.failures.failed(exportCause(reply.error))))
      .finally(() => this.inFlight.delete(sent));
    this.inFlight.add(sent);
  }

  async forceFlush(): Promise<void> {
    this.send();
    await Promise.all(this.inFlight);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.stopped = true;
  }

  beginExportAtExit(timeoutMs: number): ((timeoutMs: number) => SyncExportOutcome) | undefined {
    const records = this.take();
    if (this.stopped || records.length === 0 || !this.resource) return undefined;
    const logs = { resource: this.resource, records };
    // The export thread's own deadline comes a little earlier, so it can still answer with the cause.
    return this.thread.post({ op: 'export-logs', logs, timeoutMs: Math.max(1, timeoutMs - 200) });
  }
}

/**
 * The log export for config.events.logExporters. Nothing is loaded or started until
 * the first record: an app with OTEL_LOGS_EXPORTER set that tracks no event pays nothing.
 */
export function createLogExport(config: OtelkitConfig): LogExport {
  const queue: LogRecord[] = [];
  let real: Logger | undefined;
  let provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> } | undefined;
  let started: { thread?: ExportThread; processor?: ThreadedLogProcessor; loaded: Promise<void> } | undefined;

  const start = (): NonNullable<typeof started> => {
    const exporters = config.events.logExporters;
    const failures = new ExportFailureLog({ endpoint: config.events.logEndpoint });
    const thread = exporters.includes('otlp') ? startLogThread(config, failures) : undefined;
    const processor = thread ? new ThreadedLogProcessor(thread, failures) : undefined;
    const loaded = import('@opentelemetry/sdk-logs')
      .then((sdk) => {
        const processors: LogRecordProcessor[] = processor ? [processor] : [];
        if (exporters.includes('console'))
          processors.push(new sdk.SimpleLogRecordProcessor({ exporter: new sdk.ConsoleLogRecordExporter() }));
        const p = new sdk.LoggerProvider({ resource: buildResource(config.resourceAttributes), processors });
        provider = p;
        real = p.getLogger('otelkit', OTELKIT_VERSION);
        for (const record of queue.splice(0)) real.emit(record);
      })
      .catch((err: unknown) =>
        configWarning(`log export could not start (${firstLine(err)}); tracked events are not sent as log records`),
      );
    return { thread, processor, loaded };
  };

  return {
    logger: {
      emit(record) {
        if (real) return real.emit(record);
        started ??= start();
        if (queue.length < MAX_QUEUE) queue.push(record);
      },
      enabled: () => true,
    },
    async forceFlush() {
      if (!started) return;
      await started.loaded;
      await provider?.forceFlush();
    },
    async shutdown(timeoutMs) {
      if (!started) return;
      await started.loaded;
      await provider?.shutdown();
      await started.thread?.stop(timeoutMs);
    },
    beginExportAtExit: (timeoutMs) => started?.processor?.beginExportAtExit(timeoutMs),
  };
}
