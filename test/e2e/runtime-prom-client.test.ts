// OTELKIT_RUNTIME_NAMES=prom-client: the list of prom-client 15's default metrics is
// taken from prom-client itself (collectDefaultMetrics() into a fresh Registry, in a
// child process), and a real scrape of an app in this mode has each of them with the
// same type and label names, instead of the OpenTelemetry runtime metrics, and no
// promtool finding that prom-client's own exposition does not have.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { register } from '../../index.js';
import { instrumentRuntime } from '../../instrumentations/runtime.js';
import { startChild, stopAll } from '../helpers/child.js';
import { hasPromtool, promtoolCheckMetrics } from '../helpers/prometheus.js';
import { findSamples, parsePrometheus, sampleValue, scrape, type Sample } from '../helpers/prom-text.js';
import { families, startFixture } from '../fixtures/http-harness.js';

afterAll(() => stopAll());

interface PromClientMetric {
  name: string;
  type: string;
  labelNames: string[];
}

/** prom-client's default metrics as this Node on this platform gets them, and their exposition. */
async function promClientDefaults(): Promise<{ metrics: PromClientMetric[]; text: string }> {
  const script = `
    const { Registry, collectDefaultMetrics } = require('prom-client');
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    setTimeout(async () => {
      const metrics = [];
      for (const m of registry.getMetricsAsArray()) {
        const { name, type } = await m.get();
        metrics.push({ name, type, labelNames: [...m.labelNames] });
      }
      console.log(JSON.stringify({ metrics, text: await registry.metrics() }));
      process.exit(0);
    }, 50);`;
  const child = startChild({ args: ['--input-type=commonjs', '-e', script], maxLifetimeMs: 20_000 });
  return child.waitForJson<{ metrics: PromClientMetric[]; text: string }>((v) => Array.isArray(v.metrics), 15_000);
}

/** The samples of a family: for a histogram its _count and _sum (whose labels are the family's). */
function familySamples(samples: Sample[], name: string, type: string): Sample[] {
  const names = type === 'histogram' ? [`${name}_count`, `${name}_sum`] : [name];
  return samples.filter((s) => names.includes(s.name));
}

const sorted = (names: Iterable<string>) => [...names].sort();

describe('OTELKIT_RUNTIME_NAMES=prom-client', () => {
  it("emits prom-client 15's default metrics with the same names, types and labels, and no others", async () => {
    const promClient = await promClientDefaults();
    const expected = promClient.metrics;
    // The list is prom-client's own; a sanity floor so an empty list cannot pass.
    expect(expected.map((m) => m.name)).toEqual(
      expect.arrayContaining(['process_cpu_seconds_total', 'nodejs_gc_duration_seconds', 'nodejs_version_info']),
    );
    expect(expected.length).toBeGreaterThanOrEqual(30);

    const t0 = Date.now();
    const app = await startFixture('runtime-prom-client.mjs', {
      nodeArgs: ['--expose-gc'],
      env: {
        OTELKIT_RUNTIME_NAMES: 'prom-client',
        OTELKIT_PROMETHEUS_SCOPE_LABELS: 'false',
        OTELKIT_INSTRUMENTATIONS: 'runtime',
      },
    });
    const { dir } = await app.child.waitForJson<{ dir: string }>((v) => typeof v.dir === 'string');
    try {
      const text = await scrape(app.metricsUrl);
      const samples = parsePrometheus(text);
      const types = families(text);

      // Replaced, not duplicated: the runtime families are prom-client's, and only those.
      expect(sorted([...types.keys()].filter((n) => n !== 'target_info'))).toEqual(sorted(expected.map((m) => m.name)));
      for (const { name, type, labelNames } of expected) {
        expect(types.get(name), name).toBe(type);
        const found = familySamples(samples, name, type);
        expect(found.length, `${name} has samples`).toBeGreaterThan(0);
        for (const s of found) expect(sorted(Object.keys(s.labels)), name).toEqual(sorted(labelNames));
      }
      for (const s of findSamples(samples, 'nodejs_gc_duration_seconds_bucket'))
        expect(sorted(Object.keys(s.labels))).toEqual(['kind', 'le']);
      const le = findSamples(samples, 'nodejs_gc_duration_seconds_bucket', { kind: 'major' }).map((s) => s.labels.le);
      expect(le).toEqual(['0.001', '0.01', '0.1', '1', '2', '5', '+Inf']);

      // Values.
      const one = (name: string, labels: Record<string, string> = {}) => sampleValue(samples, name, labels);
      expect(one('nodejs_gc_duration_seconds_count', { kind: 'major' })).toBeGreaterThanOrEqual(1);
      const [user, system, total] = ['user_', 'system_', ''].map((m) => one(`process_cpu_${m}seconds_total`));
      expect(user).toBeGreaterThan(0);
      expect(total).toBeCloseTo(user! + system!, 5);
      const start = one('process_start_time_seconds');
      expect(start).toBeGreaterThanOrEqual(Math.floor(t0 / 1000) - 1);
      expect(start).toBeLessThanOrEqual(Date.now() / 1000 + 1);
      expect(one('process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
      expect(one('process_virtual_memory_bytes')).toBeGreaterThan(one('process_resident_memory_bytes'));
      expect(one('process_open_fds')).toBeGreaterThan(0);
      expect(one('process_open_fds')).toBeLessThanOrEqual(one('process_max_fds'));
      expect(one('nodejs_heap_size_used_bytes')).toBeLessThanOrEqual(one('nodejs_heap_size_total_bytes'));
      expect(one('nodejs_heap_space_size_used_bytes', { space: 'old' })).toBeGreaterThan(0);
      expect(one('nodejs_heap_space_size_used_bytes', { space: 'old' })).toBeLessThanOrEqual(
        one('nodejs_heap_space_size_total_bytes', { space: 'old' }),
      );
      const [major, minor, patch] = process.version.slice(1).split('.');
      expect(
        one('nodejs_version_info', { version: process.version, major: major!, minor: minor!, patch: patch! }),
      ).toBe(1);
      const [min, p50, p90, p99, max] = ['min', 'p50', 'p90', 'p99', 'max'].map((q) =>
        one(`nodejs_eventloop_lag_${q}_seconds`),
      );
      expect(min).toBeGreaterThan(0);
      for (const [a, b] of [
        [min, p50],
        [p50, p90],
        [p90, p99],
        [p99, max],
      ])
        expect(b).toBeGreaterThanOrEqual(a!);
      expect(one('nodejs_eventloop_lag_seconds')).toBeGreaterThan(0);
      expect(one('nodejs_active_handles', { type: 'Server' })).toBeGreaterThanOrEqual(1);
      expect(one('nodejs_active_requests', { type: 'FSReqCallback' })).toBe(1);
      expect(one('nodejs_active_requests_total')).toBe(1);
      expect(one('nodejs_active_resources', { type: 'FSReqCallback' })).toBe(1);

      // The same promtool findings as prom-client's own exposition (its three *_total gauges), no more.
      if (hasPromtool()) {
        const theirs = await promtoolCheckMetrics(promClient.text);
        const ours = await promtoolCheckMetrics(text);
        expect(theirs.problems.length).toBeGreaterThan(0);
        expect(sorted(ours.problems)).toEqual(sorted(theirs.problems));
        expect(ours.code).toBe(theirs.code);
      }

      // A request type that is gone reads 0 (prom-client drops the series; the SDK would repeat the last count).
      expect(await (await fetch(`${app.appUrl}/release`)).text()).toBe('ok');
      let after = await scrape(app.metricsUrl);
      for (let i = 0; i < 50 && sampleValue(after, 'nodejs_active_requests_total') !== 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        after = await scrape(app.metricsUrl);
      }
      expect(sampleValue(after, 'nodejs_active_requests_total')).toBe(0);
      expect(sampleValue(after, 'nodejs_active_requests', { type: 'FSReqCallback' })).toBe(0);
    } finally {
      await app.child.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the runtime groups: a group started alone reports only its metrics', async () => {
    const otel = register({ prometheus: { host: '127.0.0.1', port: 0 }, instrumentations: [] });
    const { url } = (await otel.ready)!;
    try {
      const heap = instrumentRuntime({ names: 'prom-client', groups: ['heap'] });
      const names = [...families(await scrape(url)).keys()].filter((n) => n !== 'target_info');
      expect(sorted(names)).toEqual([
        'nodejs_external_memory_bytes',
        'nodejs_heap_size_total_bytes',
        'nodejs_heap_size_used_bytes',
        'nodejs_heap_space_size_available_bytes',
        'nodejs_heap_space_size_total_bytes',
        'nodejs_heap_space_size_used_bytes',
      ]);
      heap.dispose();
    } finally {
      await otel.shutdown();
    }
  });
});
