/**
 * p-queue: `add()` is wrapped on the instance (its `addAll()` goes through it) so
 * that each task is timed as one job: its wait from `add()` to its start, then its
 * duration and outcome. p-queue's events (`active`, `completed`, `error`) say that
 * some task started or ended, not which one, so they cannot time a task.
 * `add()` still returns p-queue's own promise (`clear()` marks it handled, which a
 * chained promise would not be); only the task function p-queue runs is wrapped,
 * and p-queue awaits what it returns. Jobs by state: `size` waiting, `pending` active.
 */
import { clock, secondsSince } from '../../src/util/clock.js';
import { safeRead, wrapMethod, type Unhook } from '../shared/targets.js';
import type { JobCountsReader } from './job-counts.js';
import type { QueueRecord } from './record.js';
import { runJob } from './run-job.js';

type Fn = (this: unknown, ...args: unknown[]) => unknown;
type Target = Record<string, unknown>;

export function isPQueue(t: Target): boolean {
  const fn = (key: string) => typeof t[key] === 'function';
  return fn('add') && fn('addAll') && fn('onIdle') && fn('onEmpty') && typeof t.size === 'number' && 'pending' in t;
}

export function pQueueCounts(queue: Target): JobCountsReader {
  return () =>
    safeRead(() => {
      const { size, pending } = queue;
      return typeof size === 'number' && typeof pending === 'number' ? { waiting: size, active: pending } : undefined;
    });
}

export function hookPQueue(queue: Target, r: QueueRecord, unhooks: Unhook[]): void {
  const unhook = wrapMethod(
    queue,
    'add',
    (add) =>
      function (this: unknown, task: unknown): unknown {
        if (typeof task !== 'function') return add.apply(this, arguments as unknown as unknown[]);
        const added = clock();
        const args = Array.prototype.slice.call(arguments) as unknown[];
        args[0] = function (this: unknown) {
          return runJob(r, task as Fn, this, arguments, secondsSince(added));
        };
        return add.apply(this, args);
      },
  );
  if (!unhook) throw new Error('cannot wrap add()');
  unhooks.push(unhook);
}
