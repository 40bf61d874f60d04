/**
 * The main thread's side of OTLP export: a PushMetricExporter that hands each
 * export to the export thread (otlp-worker.ts) and, for the process 'exit'
 * event, a synchronous export that blocks, bounded, until that thread is done.
 *
 * The thread starts with the exporter (at register()), unref'd: it never keeps
 * the process alive, and its start-up and the exporter package's loading happen
 * off the app's thread.
 */
import { extname } from 'node:path';
import { Worker, type MessagePort } from 'node:worker_threads';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporality,
  AggregationType,
  InstrumentType,
  type AggregationOption,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { OtelkitConfig, OtlpConfig } from '../config/types.js';
import { ExportFailureLog, exportCause } from './export-failures.js';
import { ExportThread, type SyncExportOutcome } from './export-thread.js';
import { transferable, type ExportReply } from './otlp-messages.js';
import { withHostAttributes, withHostAttributesNow } from '../resource.js';

type Temporality = OtelkitConfig['otlp']['temporality'];

/**
 * What each OTLP temporality preference asks for, per instrument type, as the OTLP
 * exporter specification defines it (and the exporter packages implement: a test
 * compares the two). Answered here because the exporter lives in the export thread.
 */
export function preferredTemporality(preference: Temporality, type: InstrumentType): AggregationTemporality {
  if (preference === 'cumulative') return AggregationTemporality.CUMULATIVE;
  switch (type) {
    case InstrumentType.COUNTER:
    case InstrumentType.HISTOGRAM:
      return AggregationTemporality.DELTA;
    case InstrumentType.OBSERVABLE_COUNTER:
    case InstrumentType.GAUGE:
    case InstrumentType.OBSERVABLE_GAUGE:
      return preference === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
    default:
      return AggregationTemporality.CUMULATIVE;
  }
}

const DEFAULT_AGGREGATION: AggregationOption = Object.freeze({ type: AggregationType.DEFAULT });
const EXPONENTIAL_AGGREGATION: AggregationOption = Object.freeze({ type: AggregationType.EXPONENTIAL_HISTOGRAM });

/** How the export thread is started; tests swap in another worker script. */
export type StartWorker = (otlp: OtlpConfig, port: MessagePort) => Worker;

function startExportWorker(otlp: OtlpConfig, port: MessagePort): Worker {
  // Next to this module, in the same build (ESM .js, CJS .cjs, or .ts from source).
  const url = new URL(`./otlp-worker${extname(new URL(import.meta.url).pathname)}`, import.meta.url);
  // No execArgv: a worker inherits the app's, and `--import otelkit/register` would start otelkit in it.
  return new Worker(url, { workerData: { port, otlp }, transferList: [port], execArgv: [] });
}

/** Delta exports kept while the collector is slower than the export interval. */
const MAX_WAITING_DELTA = 20;

export type { SyncExportOutcome } from './export-thread.js';

export class ThreadedOtlpExporter implements PushMetricExporter {
  private readonly thread: ExportThread;
  private readonly failures: ExportFailureLog;
  private inFlight: Promise<void> | undefined;
  private waiting: ResourceMetrics[] = [];

  constructor(
    private readonly config: OtelkitConfig,
    start: StartWorker = startExportWorker,
    failures?: ExportFailureLog,
  ) {
    const log = (this.failures = failures ?? new ExportFailureLog({ endpoint: config.otlp.endpoint }));
    this.thread = new ExportThread(
      (port) => start(config.otlp, port),
      (message) => log.failed(message),
    );
  }

  private report(reply: ExportReply): void {
    if (reply.ok) this.failures.succeeded();
    else this.failures.failed(exportCause(reply.error));
  }

  /**
   * Hands the export to the export thread and answers the SDK at once: delivery
   * (with the exporter's retries, which can outlast the SDK's export timeout) and
   * its failures are reported here, rate-limited. One export is under way at a
   * time; while the collector is slow, a newer cumulative export replaces the one
   * waiting (it carries everything the older one did), and delta exports wait in
   * a bounded queue.
   */
  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    if (this.config.otlp.temporality === 'cumulative') this.waiting = [metrics];
    else if (this.waiting.push(metrics) > MAX_WAITING_DELTA) {
      this.waiting.shift();
      this.failures.failed(
        `the collector is slower than the export interval; more than ${MAX_WAITING_DELTA} delta exports waited, ` +
          'the oldest was dropped',
      );
    }
    this.sendNext();
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  private sendNext(): void {
    const next = this.inFlight ? undefined : this.waiting.shift();
    if (!next) return;
    this.inFlight = (async () => {
      await next.resource.waitForAsyncAttributes?.();
      const metrics = transferable({ ...next, resource: await withHostAttributes(next.resource) });
      this.report(await this.thread.request({ op: 'export', metrics }));
    })()
      .catch((err: unknown) => this.failures.failed(exportCause({ message: String((err as Error)?.message ?? err) })))
      .finally(() => {
        this.inFlight = undefined;
        this.sendNext();
      });
  }

  /**
   * Exports and waits, blocking this thread, until the export thread answers or
   * `timeoutMs` passes. Only for the process 'exit' event, where nothing async runs.
   */
  exportSync(metrics: ResourceMetrics, timeoutMs: number): SyncExportOutcome {
    // The export thread's own deadline comes a little earlier, so it can still answer with the cause.
    // Not reported to the failure log: the exit prints its own single line.
    return this.thread.requestSync(
      {
        op: 'export',
        metrics: transferable({ ...metrics, resource: withHostAttributesNow(metrics.resource) }),
        timeoutMs: Math.max(1, timeoutMs - 200),
      },
      timeoutMs,
    );
  }

  /** Resolves once the exports handed over so far were delivered or failed. */
  async forceFlush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  async shutdown(): Promise<void> {
    // Exports still under way get the exporter's own timeout to finish; then the thread goes.
    await this.thread.stop(this.config.otlp.timeoutMs);
  }

  selectAggregationTemporality(type: InstrumentType): AggregationTemporality {
    return preferredTemporality(this.config.otlp.temporality, type);
  }

  selectAggregation(type: InstrumentType): AggregationOption {
    return this.config.otlp.histogram === 'exponential' && type === InstrumentType.HISTOGRAM
      ? EXPONENTIAL_AGGREGATION
      : DEFAULT_AGGREGATION;
  }
}
