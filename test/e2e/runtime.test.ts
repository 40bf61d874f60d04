// Runtime metrics: a real app under the preload reports every group with sane
// values; groups can be started on their own; the names of the instrumentation
// list map onto groups.
import { afterAll, describe, expect, it } from 'vitest';
import { register } from '../../index.js';
import { runtimeGroups } from '../../src/instrumentations.js';
import { instrumentRuntime } from '../../instrumentations/runtime.js';
import { stopAll } from '../helpers/child.js';
import { findSamples, parsePrometheus, sampleValue, scrape } from '../helpers/prom-text.js';
import { families, startFixture } from '../fixtures/http-harness.js';

afterAll(() => stopAll());

const GROUP_FAMILIES = {
  eventloop: [
    'nodejs_eventloop_delay_p99_seconds',
    'nodejs_eventloop_utilization_ratio',
    'nodejs_eventloop_time_seconds_total',
  ],
  gc: ['v8js_gc_duration_seconds'],
  heap: ['v8js_memory_heap_used_bytes', 'v8js_memory_heap_space_size_bytes'],
  process: [
    'process_cpu_time_seconds_total',
    'process_memory_usage_bytes',
    'process_uptime_seconds',
    'v8js_resource_active',
  ],
};

describe('runtime metrics under the preload', () => {
  it('every group reports, with sane values', async () => {
    const t0 = performance.now();
    const app = await startFixture('http-runtime.mjs', { nodeArgs: ['--expose-gc'] });
    const text = await scrape(app.metricsUrl);
    const elapsed = (performance.now() - t0) / 1000; // the app started after t0 and reported before now
    const samples = parsePrometheus(text);
    const one = (name: string, labels: Record<string, string> = {}) => sampleValue(text, name, labels);

    // event loop (values include the 10 ms sampling interval; the app stalled the loop 5 x 25 ms)
    // p95 is otelkit's (runtime-node has none), read from the same monitor and interval as the others
    const [min, p50, p90, p95, p99, max] = ['min', 'p50', 'p90', 'p95', 'p99', 'max'].map((q) =>
      one(`nodejs_eventloop_delay_${q}_seconds`),
    );
    expect(min).toBeGreaterThan(0);
    expect(p50).toBeGreaterThanOrEqual(min!);
    expect(p90).toBeGreaterThanOrEqual(p50!);
    expect(p95).toBeGreaterThanOrEqual(p90!);
    expect(p99).toBeGreaterThanOrEqual(p95!);
    expect(max).toBeGreaterThanOrEqual(p99!);
    expect(max).toBeGreaterThan(0.02);
    expect(one('nodejs_eventloop_delay_mean_seconds')).toBeGreaterThanOrEqual(min!);
    const elu = one('nodejs_eventloop_utilization_ratio');
    expect(elu).toBeGreaterThanOrEqual(0);
    expect(elu).toBeLessThanOrEqual(1);
    expect(one('nodejs_eventloop_time_seconds_total', { nodejs_eventloop_state: 'active' })).toBeGreaterThan(0);

    // gc: the forced collection is a major one
    const gcCounts = findSamples(samples, 'v8js_gc_duration_seconds_count');
    expect(gcCounts.length).toBeGreaterThan(0);
    for (const s of gcCounts) expect(['major', 'minor', 'incremental', 'weakcb']).toContain(s.labels.v8js_gc_type);
    expect(one('v8js_gc_duration_seconds_count', { v8js_gc_type: 'major' })).toBeGreaterThanOrEqual(1);

    // heap, per space
    const used = findSamples(samples, 'v8js_memory_heap_used_bytes');
    expect(used.map((s) => s.labels.v8js_heap_space_name)).toContain('old_space');
    expect(one('v8js_memory_heap_used_bytes', { v8js_heap_space_name: 'old_space' })).toBeGreaterThan(0);
    for (const s of used)
      expect(s.value).toBeLessThanOrEqual(
        one('v8js_memory_heap_space_size_bytes', { v8js_heap_space_name: s.labels.v8js_heap_space_name! })!,
      );

    // process
    expect(one('process_cpu_time_seconds_total', { cpu_mode: 'user' })).toBeGreaterThan(0);
    expect(one('process_cpu_time_seconds_total', { cpu_mode: 'system' })).toBeGreaterThanOrEqual(0);
    for (const mode of ['user', 'system']) {
      const u = one('process_cpu_utilization_ratio', { cpu_mode: mode });
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThanOrEqual(1);
    }
    expect(one('process_memory_usage_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    const uptime = one('process_uptime_seconds');
    expect(uptime).toBeGreaterThan(0.1);
    expect(uptime).toBeLessThanOrEqual(elapsed);
    // the app's server (otelkit's own is unref'd)
    expect(one('v8js_resource_active', { v8js_resource_type: 'TCPServerWrap' })).toBeGreaterThanOrEqual(1);
  });
});

describe('runtime groups', () => {
  it('maps instrumentation names onto groups', () => {
    expect(runtimeGroups(['http-server', 'runtime'])).toEqual(['eventloop', 'gc', 'heap', 'process']);
    expect(runtimeGroups(['runtime-gc', 'runtime-process'])).toEqual(['gc', 'process']);
    expect(runtimeGroups(['http-server', 'http-client'])).toEqual([]);
  });

  it('a group started alone reports its metrics and none of the others', async () => {
    const otel = register({
      prometheus: { host: '127.0.0.1', port: 0 },
      instrumentations: [],
      serviceName: 'runtime-groups',
    });
    const { url } = (await otel.ready)!;
    try {
      const heap = instrumentRuntime({ groups: ['heap'] });
      let names = families(await scrape(url));
      for (const f of GROUP_FAMILIES.heap) expect(names.has(f), f).toBe(true);
      for (const f of [...GROUP_FAMILIES.eventloop, ...GROUP_FAMILIES.process]) expect(names.has(f), f).toBe(false);
      heap.dispose();

      const proc = instrumentRuntime({ groups: ['process'] });
      names = families(await scrape(url));
      for (const f of GROUP_FAMILIES.process) expect(names.has(f), f).toBe(true);
      for (const f of GROUP_FAMILIES.eventloop) expect(names.has(f), f).toBe(false);
      proc.dispose();
      // disposed: the process observables are no longer read (the SDK keeps exporting the last cumulative value)
      const before = sampleValue(await scrape(url), 'process_uptime_seconds');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(sampleValue(await scrape(url), 'process_uptime_seconds')).toBe(before);
    } finally {
      await otel.shutdown();
    }
  });
});
