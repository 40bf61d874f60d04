// Timed tasks: timed(), measure(), instrumentTask() through a real registration and scrape.
// Values are exact counts; durations are bounded by what the test itself measured.
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentTask, measure, register, timed, type OtelkitHandle } from '../../index.js';
import { hasPrometheus, promtoolCheckMetrics, startPrometheus, stopAllPrometheus } from '../helpers/prometheus.js';
import { findSamples, parsePrometheus, sampleValue, scrape, type Sample } from '../helpers/prom-text.js';
import { REPO_ROOT } from '../helpers/child.js';

let otel: OtelkitHandle;
let url: string;
const read = async (): Promise<Sample[]> => parsePrometheus(await scrape(url));

const runs = (s: Sample[], task: string) =>
  Object.fromEntries(
    findSamples(s, 'task_runs_total', { task_name: task }).map((x) => [x.labels.task_outcome, x.value]),
  );
const durationCount = (s: Sample[], task: string, outcome: string) =>
  findSamples(s, 'task_duration_seconds_count', { task_name: task, task_outcome: outcome })[0]?.value ?? 0;
const durationSum = (s: Sample[], task: string, outcome: string) =>
  sampleValue(s, 'task_duration_seconds_sum', { task_name: task, task_outcome: outcome });
const active = (s: Sample[], task: string) => sampleValue(s, 'task_active', { task_name: task });
const lastSuccess = (s: Sample[], task: string) =>
  sampleValue(s, 'task_last_success_timestamp_seconds', { task_name: task });

// Before register(): runs are counted at once; durations are kept from registration on.
const early = timed('early', (x: number) => x * 2);
early(21);

beforeAll(async () => {
  otel = register({
    prometheus: { host: '127.0.0.1', port: 0 },
    instrumentations: [],
    serviceName: 'tasks-test',
    cardinalityLimit: 40,
  });
  url = (await otel.ready)!.url;
});
afterAll(async () => {
  await stopAllPrometheus();
  await otel.shutdown();
});

describe('timed()', () => {
  it('counts a run made before register(), without its duration', async () => {
    expect(early(2)).toBe(4);
    const s = await read();
    expect(runs(s, 'early')).toEqual({ success: 2, error: 0 });
    expect(durationCount(s, 'early', 'success')).toBe(1);
  });

  it('sync: same this, arguments, return value and throw; runs and durations by outcome', async () => {
    const boom = new Error('boom');
    const target = {
      factor: 3,
      scale(this: { factor: number }, a: number, b: number) {
        if (a < 0) throw boom;
        return this.factor * (a + b);
      },
    };
    target.scale = timed('scale', target.scale);
    expect(target.scale.name).toBe('scale');
    expect(target.scale.length).toBe(2);
    const t0 = performance.now();
    expect(target.scale(1, 2)).toBe(9);
    expect(target.scale(2, 2)).toBe(12);
    expect(() => target.scale(-1, 0)).toThrow(boom);
    const elapsed = (performance.now() - t0) / 1000;
    const s = await read();
    expect(runs(s, 'scale')).toEqual({ success: 2, error: 1 });
    expect(durationCount(s, 'scale', 'success')).toBe(2);
    expect(durationCount(s, 'scale', 'error')).toBe(1);
    expect(durationSum(s, 'scale', 'success') + durationSum(s, 'scale', 'error')).toBeLessThanOrEqual(elapsed);
    expect(active(s, 'scale')).toBe(0);
  });

  it('async: in flight until it settles; same value and rejection reason', async () => {
    let release!: (v: string) => void;
    const gate = new Promise<string>((r) => (release = r));
    const job = timed('import', async (fail: boolean) => {
      const v = await gate;
      if (fail) throw new Error(`failed after ${v}`);
      return v;
    });
    const ok = job(false);
    const bad = job(true);
    await sleep(100);
    let s = await read();
    expect(active(s, 'import')).toBe(2);
    expect(runs(s, 'import')).toEqual({ success: 0, error: 0 });
    release('go');
    await expect(ok).resolves.toBe('go');
    await expect(bad).rejects.toThrow('failed after go');
    s = await read();
    expect(active(s, 'import')).toBe(0);
    expect(runs(s, 'import')).toEqual({ success: 1, error: 1 });
    // Both waited at least the 100 ms the test slept before releasing them.
    expect(durationSum(s, 'import', 'success')).toBeGreaterThanOrEqual(0.09);
    expect(durationSum(s, 'import', 'error')).toBeGreaterThanOrEqual(0.09);
  });

  it('wrapping a timed function again for the same task counts each call once', async () => {
    const once = timed('once', () => 'x');
    const twice = timed('once', once);
    expect(twice).toBe(once);
    expect(instrumentTask('once')).toBe(instrumentTask('once'));
    twice();
    expect(runs(await read(), 'once')).toEqual({ success: 1, error: 0 });
  });
});

describe('measure()', () => {
  it('a function now, a promise until it settles, anything else unchanged', async () => {
    expect(measure('report', () => 'sync')).toBe('sync');
    await expect(measure('report', async () => 'async')).resolves.toBe('async');
    const reason = new Error('nope');
    await expect(measure('report', Promise.reject(reason))).rejects.toBe(reason);
    await expect(
      measure(
        'report',
        sleep(50).then(() => 7),
      ),
    ).resolves.toBe(7);
    expect(measure('report', 42 as never)).toBe(42);
    const s = await read();
    expect(runs(s, 'report')).toEqual({ success: 3, error: 1 });
    expect(durationSum(s, 'report', 'success')).toBeGreaterThanOrEqual(0.045);
  });

  it('record() reports runs timed elsewhere', async () => {
    const task = instrumentTask('external');
    task.record(2.5);
    task.record(0.5, 'error');
    task.record(-1);
    const s = await read();
    expect(runs(s, 'external')).toEqual({ success: 1, error: 1 });
    expect(durationSum(s, 'external', 'success')).toBe(2.5);
    expect(durationSum(s, 'external', 'error')).toBe(0.5);
    // The task buckets reach an hour.
    expect(findSamples(s, 'task_duration_seconds_bucket', { task_name: 'external', le: '3600' })).toHaveLength(2);
  });
});

describe('last success', () => {
  it('is when otelkit started watching until the first success, then the time of the last success', async () => {
    const t0 = Date.now();
    const nightly = timed('nightly', (ok: boolean) => {
      if (!ok) throw new Error('failed');
    });
    const t1 = Date.now();
    const watched = lastSuccess(await read(), 'nightly');
    expect(watched).toBeGreaterThanOrEqual(t0 / 1000);
    expect(watched).toBeLessThanOrEqual(t1 / 1000);
    await sleep(300);
    expect(() => nightly(false)).toThrow('failed');
    expect(lastSuccess(await read(), 'nightly')).toBe(watched);
    const t2 = Date.now();
    nightly(true);
    const t3 = Date.now();
    const succeeded = lastSuccess(await read(), 'nightly');
    // Wall-clock time derived from the monotonic clock: within a few ms of Date.now() around the call.
    expect(succeeded).toBeGreaterThanOrEqual(t2 / 1000 - 0.05);
    expect(succeeded).toBeLessThanOrEqual(t3 / 1000 + 0.05);
    expect(succeeded - watched).toBeGreaterThanOrEqual(0.2);
  });

  it.skipIf(!hasPrometheus())('"has not succeeded for 2 h" is one query on a real Prometheus', async () => {
    timed('hourly', () => {})();
    const { host, port } = otel.prometheusAddress!;
    const prom = await startPrometheus({ scrapeTargets: [`${host}:${port}`] });
    const [age] = await prom.waitForQuery('time() - task_last_success_timestamp_seconds{task_name="hourly"}');
    expect(age!.value).toBeGreaterThanOrEqual(-1);
    expect(age!.value).toBeLessThan(120);
    expect(await prom.query('time() - task_last_success_timestamp_seconds{task_name="hourly"} > 7200')).toEqual([]);
  });
});

describe('dispose()', () => {
  it('stops reporting and passes calls through; instrumenting again continues the counts', async () => {
    const handle = instrumentTask('sweep');
    const sweep = handle.timed(() => 'swept');
    sweep();
    expect(runs(await read(), 'sweep')).toEqual({ success: 1, error: 0 });
    handle.dispose();
    handle.dispose();
    expect(sweep()).toBe('swept');
    let s = await read();
    expect(findSamples(s, 'task_runs_total', { task_name: 'sweep' })).toEqual([]);
    expect(findSamples(s, 'task_duration_seconds_count', { task_name: 'sweep' })).toEqual([]);
    const again = instrumentTask('sweep');
    expect(again).not.toBe(handle);
    again.timed(() => {})();
    s = await read();
    expect(runs(s, 'sweep')).toEqual({ success: 2, error: 0 });
    expect(durationCount(s, 'sweep', 'success')).toBe(2);
  });
});

describe('cardinality', () => {
  it('task names past the limit share one overflow series; totals stay exact', async () => {
    for (let i = 0; i < 30; i++) measure(`bulk-${i}`, () => {});
    const s = await read();
    const named = findSamples(s, 'task_runs_total', { task_outcome: 'success' }).filter((x) =>
      x.labels.task_name?.startsWith('bulk-'),
    );
    const overflow = sampleValue(s, 'task_runs_total', { otel_metric_overflow: 'true', task_outcome: 'success' });
    expect(overflow).toBeGreaterThan(0);
    expect(named.reduce((n, x) => n + x.value, 0) + overflow).toBe(30);
    expect(findSamples(s, 'task_duration_seconds_count').length).toBeLessThanOrEqual(40);
  });

  it('the scrape passes promtool check metrics', async () => {
    const result = await promtoolCheckMetrics(await scrape(url));
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
  });
});

describe('disabled', () => {
  it('with OTEL_SDK_DISABLED=true timed() returns the function itself and measure() just runs it', () => {
    const script = [
      "import { timed, measure, instrumentTask } from 'otelkit';",
      'const f = () => 1;',
      "const same = timed('x', f) === f && measure('x', f) === 1;",
      "const noop = instrumentTask('x').timed(f) === f;",
      'console.log(JSON.stringify({ same, noop }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, OTEL_SDK_DISABLED: 'true' },
    });
    expect(JSON.parse(out)).toEqual({ same: true, noop: true });
  });
});
