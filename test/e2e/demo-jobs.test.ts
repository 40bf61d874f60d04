// `npm run demo:jobs` (examples/jobs/worker.mjs) as a child process: it must exit cleanly and print
// the queue, task and event metric lines with the counts its scripted jobs produce.
import { afterEach, describe, expect, it } from 'vitest';
import { startChild, stopAll } from '../helpers/child.js';
import { hasRedis } from '../helpers/redis.js';

afterEach(() => stopAll());

/** The value of the printed line `name{labels…} value` whose labels include every `labels` pair. */
function value(lines: string[], name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of lines) {
    const m = /^([a-zA-Z_:][\w:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) return Number(m[3]);
  }
  return undefined;
}

describe('demo:jobs', () => {
  it('runs the jobs, prints non-zero queue, task and event metrics, and exits 0', async () => {
    const child = startChild({ args: ['examples/jobs/worker.mjs'], maxLifetimeMs: 90_000 });
    const exit = await child.exited;
    expect(exit, child.describe()).toEqual({ code: 0, signal: null });
    const lines = child.stdoutLines;
    const system = hasRedis() ? 'bullmq' : 'p-queue';
    if (!hasRedis()) expect(lines[0]).toContain('redis-server is needed for the BullMQ part');
    const queue = { messaging_system: system, messaging_destination_name: 'invoices' };

    // Six jobs, every second one failing its first attempt: BullMQ retries it, the p-queue path adds it again.
    const completed = value(lines, 'queue_job_attempts_total', { ...queue, queue_job_outcome: 'completed' });
    const failedOnce = value(lines, 'queue_job_attempts_total', {
      ...queue,
      queue_job_outcome: hasRedis() ? 'retried' : 'failed',
      error_type: 'Error',
    });
    expect([completed, failedOnce], child.describe()).toEqual([6, 3]);
    expect(value(lines, 'messaging_client_consumed_messages_total', queue)).toBe(9);
    expect(value(lines, 'task_runs_total', { task_name: 'reports.hourly', task_outcome: 'success' })).toBeGreaterThan(
      0,
    );
    expect(value(lines, 'jobs_accepted_total', { queue: 'invoices' })).toBe(6);
    expect(value(lines, 'invoices_amount_count')).toBe(6);
    expect(value(lines, 'invoices_amount_sum')).toBe(270); // 20 + 30 + … + 70
  }, 120_000);
});
