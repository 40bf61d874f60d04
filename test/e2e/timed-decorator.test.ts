// The @timed decorator as users write it: a TypeScript 5 file with standard (TC39) decorators,
// compiled by tsc, run under the preload, its scrape read back.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, startChild, stopAll } from '../helpers/child.js';
import { findSamples, parsePrometheus } from '../helpers/prom-text.js';

afterEach(() => stopAll());

describe('@timed(name)', () => {
  it('times methods (sync, async, static) of a class compiled by tsc', { timeout: 120_000 }, async () => {
    const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
    const compiled = spawnSync(process.execPath, [tsc, '-p', 'test/fixtures/timed-decorator/tsconfig.json'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(compiled.stdout + compiled.stderr).toBe('');
    expect(compiled.status).toBe(0);

    const child = startChild({
      args: ['--import', 'otelkit/register', '.tmp/timed-decorator/app.mjs'],
      env: { OTEL_EXPORTER_PROMETHEUS_PORT: '0', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1' },
    });
    const out = await child.waitForJson<{ results: unknown[]; methodName: string; lines: string[] }>(undefined, 30_000);
    expect(out.results).toEqual([15, 6, 'synced', 'clean', 'RangeError', 'sync failed']);
    expect(out.methodName).toBe('total');
    const samples = parsePrometheus(out.lines.join('\n'));
    const runs = (task: string) =>
      Object.fromEntries(
        findSamples(samples, 'task_runs_total', { task_name: task }).map((s) => [s.labels.task_outcome, s.value]),
      );
    expect(runs('checkout.total')).toEqual({ success: 2, error: 1 });
    expect(runs('checkout.sync')).toEqual({ success: 1, error: 1 });
    expect(runs('checkout.cleanup')).toEqual({ success: 1, error: 0 });
    const count = (task: string, outcome: string) =>
      findSamples(samples, 'task_duration_seconds_count', { task_name: task, task_outcome: outcome })[0]?.value;
    expect(count('checkout.sync', 'success')).toBe(1);
    expect(count('checkout.total', 'error')).toBe(1);
    expect((await child.exited).code).toBe(0);
  });
});
