// The main thread's side of OTLP export. The SDK's temporality and aggregation
// questions are answered here (the exporter lives in the export thread): these
// are held to the exporter packages' own selectors. An export thread that cannot
// start, crashes or never answers must give failed exports and a bounded
// synchronous export, never a throw or a hang. (That the app's thread loads no
// exporter package is checked with real processes in test/e2e/otlp-export.test.ts.)
import { Worker } from 'node:worker_threads';
import {
  CumulativeTemporalitySelector,
  DeltaTemporalitySelector,
  LowMemoryTemporalitySelector,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, InstrumentType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { ExportFailureLog } from '../../src/exporters/export-failures.js';
import { ThreadedOtlpExporter, preferredTemporality, type StartWorker } from '../../src/exporters/otlp-thread.js';

const packages = {
  cumulative: CumulativeTemporalitySelector,
  delta: DeltaTemporalitySelector,
  lowmemory: LowMemoryTemporalitySelector,
} as const;
const metrics: ResourceMetrics = { resource: resourceFromAttributes({ 'service.name': 't' }), scopeMetrics: [] };

/** An export thread from inline code, given `port` like the real one. */
function inlineWorker(code: string): StartWorker {
  return (_otlp, port) =>
    new Worker(`const { workerData } = require('node:worker_threads'); const port = workerData.port; ${code}`, {
      eval: true,
      workerData: { port },
      transferList: [port],
    });
}

function recordingLog(): { log: ExportFailureLog; lines: string[] } {
  const lines: string[] = [];
  const log = new ExportFailureLog({
    endpoint: 'http://collector:4318/v1/metrics',
    error: (l) => lines.push(l),
    warn: (l) => lines.push(l),
  });
  return { log, lines };
}

const exportOnce = (exporter: ThreadedOtlpExporter) =>
  new Promise<ExportResult>((resolve) => exporter.export(metrics, resolve));

describe('OTLP export thread, main side', () => {
  it('answers temporality exactly as the exporter packages do, for every preference and instrument type', () => {
    for (const [preference, selector] of Object.entries(packages)) {
      for (const type of Object.values(InstrumentType)) {
        expect([preference, type, preferredTemporality(preference as keyof typeof packages, type)]).toEqual([
          preference,
          type,
          selector(type),
        ]);
      }
    }
  });

  it('exponential histograms: histograms only', async () => {
    const { config } = resolveConfig(
      { OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram' },
      [],
    );
    const exporter = new ThreadedOtlpExporter(config, inlineWorker(''));
    expect(exporter.selectAggregation(InstrumentType.HISTOGRAM).type).toBe(AggregationType.EXPONENTIAL_HISTOGRAM);
    expect(exporter.selectAggregation(InstrumentType.COUNTER).type).toBe(AggregationType.DEFAULT);
    await exporter.shutdown();
  });

  it('thread cannot start: exports logged as failed, SDK not told twice, flush and shutdown resolve', async () => {
    const { config } = resolveConfig({}, []);
    const { log, lines } = recordingLog();
    const exporter = new ThreadedOtlpExporter(
      config,
      () => {
        throw new Error('no threads here');
      },
      log,
    );
    expect((await exportOnce(exporter)).code).toBe(ExportResultCode.SUCCESS);
    expect((await exportOnce(exporter)).code).toBe(ExportResultCode.SUCCESS);
    await exporter.forceFlush();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('could not start the OTLP export thread: no threads here');
    expect(exporter.exportSync(metrics, 100)).toEqual({ ok: false, reason: 'the OTLP export thread is not running' });
    await expect(exporter.forceFlush()).resolves.toBeUndefined();
    await expect(exporter.shutdown()).resolves.toBeUndefined();
  });

  it('a thread that crashes: the export under way fails, the next one starts a new thread', async () => {
    const { config } = resolveConfig({}, []);
    const { log, lines } = recordingLog();
    let started = 0;
    const crashing = inlineWorker(`port.on('message', (m) => { throw new Error('boom ' + m.id); });`);
    const exporter = new ThreadedOtlpExporter(
      config,
      (otlp, port) => {
        started++;
        return crashing(otlp, port);
      },
      log,
    );
    await exportOnce(exporter);
    await exporter.forceFlush();
    expect(lines[0]).toMatch(/failed \(.*(boom 1|stopped)/);
    await exportOnce(exporter);
    await exporter.forceFlush();
    expect(started).toBe(2);
    await exporter.shutdown();
  });

  it('a synchronous export to a thread that never answers gives up after its timeout', async () => {
    const { config } = resolveConfig({}, []);
    const exporter = new ThreadedOtlpExporter(
      { ...config, otlp: { ...config.otlp, timeoutMs: 100 } },
      inlineWorker(`port.on('message', () => {});`),
    );
    const t0 = performance.now();
    expect(exporter.exportSync(metrics, 50)).toEqual({ ok: false, reason: 'no answer within 50 ms' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    await exporter.shutdown();
  });

  it('a synchronous export returns the answer of the thread, cause included', async () => {
    const { config } = resolveConfig({}, []);
    const answering = `port.on('message', (m) => {
      port.postMessage({ id: m.id, ok: false, error: { message: 'connect ECONNREFUSED 127.0.0.1:4318' } });
      Atomics.store(m.done, 0, 1); Atomics.notify(m.done, 0);
    });`;
    const exporter = new ThreadedOtlpExporter(config, inlineWorker(answering));
    expect(exporter.exportSync(metrics, 10_000)).toEqual({ ok: false, reason: 'ECONNREFUSED 127.0.0.1:4318' });
    await exporter.shutdown();
  });
});
