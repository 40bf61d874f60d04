// The OTLP exporter packages are loaded on first use, only for the configured
// protocol. Until then otelkit answers the SDK's temporality questions itself; these
// tests hold that answer to the exporter packages' own selectors, check that a
// failed load is reported as a failed export (never a throw), and that an app
// without OTLP never loads the packages.
import { execFileSync } from 'node:child_process';
import {
  CumulativeTemporalitySelector,
  DeltaTemporalitySelector,
  LowMemoryTemporalitySelector,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AggregationType, InstrumentType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config/resolve.js';
import { LazyOtlpExporter, preferredTemporality } from '../src/exporters/otlp.js';

const packages = { cumulative: CumulativeTemporalitySelector, delta: DeltaTemporalitySelector, lowmemory: LowMemoryTemporalitySelector } as const;

describe('OTLP exporter loaded on first use', () => {
  it('answers temporality exactly as the exporter packages do, for every preference and instrument type', () => {
    for (const [preference, selector] of Object.entries(packages)) {
      for (const type of Object.values(InstrumentType)) {
        expect([preference, type, preferredTemporality(preference as keyof typeof packages, type)]).toEqual([preference, type, selector(type)]);
      }
    }
  });

  it('exponential histograms: histograms only', () => {
    const { config } = resolveConfig({ OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION: 'base2_exponential_bucket_histogram' }, []);
    const exporter = new LazyOtlpExporter(config, () => new Promise(() => {}));
    expect(exporter.selectAggregation(InstrumentType.HISTOGRAM).type).toBe(AggregationType.EXPONENTIAL_HISTOGRAM);
    expect(exporter.selectAggregation(InstrumentType.COUNTER).type).toBe(AggregationType.DEFAULT);
  });

  it('a package that fails to load: exports fail quietly (diag), flush and shutdown resolve', async () => {
    const { config } = resolveConfig({}, []);
    const exporter = new LazyOtlpExporter(config, () => Promise.reject(new Error('missing')));
    const result = await new Promise<ExportResult>((resolve) => exporter.export({} as ResourceMetrics, resolve));
    expect(result.code).toBe(ExportResultCode.FAILED);
    await expect(exporter.forceFlush()).resolves.toBeUndefined();
    await expect(exporter.shutdown()).resolves.toBeUndefined();
  });

  it('an exporter whose export() throws: a failed result, no unhandled rejection', async () => {
    const { config } = resolveConfig({}, []);
    const throwing = { export: () => { throw new Error('serializer failed'); }, forceFlush: async () => {}, shutdown: async () => {} };
    const exporter = new LazyOtlpExporter(config, async () => throwing);
    const result = await new Promise<ExportResult>((resolve) => exporter.export({} as ResourceMetrics, resolve));
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(result.error?.message).toBe('serializer failed');
  });

  it('the preload without OTLP loads no exporter package; with OTLP only the configured protocol', () => {
    const loaded = (env: Record<string, string>): string[] => {
      const code = `setTimeout(() => { console.log(JSON.stringify([...new Set(Object.keys(require.cache).map((k) => /exporter-metrics-otlp-[a-z]+/.exec(k)?.[0]).filter(Boolean))].sort())); process.exit(0); }, 300);`;
      const out = execFileSync(process.execPath, ['--require', 'otelkit/register', '-e', code], {
        env: { ...process.env, OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: '0', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', ...env },
        encoding: 'utf8',
        timeout: 20_000,
      });
      return JSON.parse(out.trim().split('\n').pop()!);
    };
    expect(loaded({})).toEqual([]);
    expect(loaded({ OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc' })).toEqual(['exporter-metrics-otlp-grpc', 'exporter-metrics-otlp-http']);
    expect(loaded({ OTEL_METRICS_EXPORTER: 'otlp' })).toEqual(['exporter-metrics-otlp-http', 'exporter-metrics-otlp-proto']);
  });
});
