/**
 * Jobs by state, for the dashboard and the backlog rule. BullMQ's counts come from
 * Redis: every instance with the queue instrumented reports the same numbers, so
 * they are taken once (max); an in-process queue (p-queue, generic) has its own
 * jobs in each instance, so they add up.
 */
import { LABEL, PROM } from './prometheus-names.js';
import { eq, maxBy, sel, sumBy } from './promql.js';

export const SHARED_SYSTEM = 'bullmq';

/** `select(metric, ...matchers)` builds the selector (the dashboards add their job/instance scope). */
export function jobsByState(
  labels: string[],
  select: (metric: string, ...m: string[]) => string = sel,
  ...matchers: string[]
): string {
  const by = [LABEL.queueSystem, LABEL.queueName, ...labels];
  const shared = maxBy(by, select(PROM.queue.jobs, eq(LABEL.queueSystem, SHARED_SYSTEM), ...matchers));
  const local = sumBy(by, select(PROM.queue.jobs, `${LABEL.queueSystem}!="${SHARED_SYSTEM}"`, ...matchers));
  return `${shared} or ${local}`;
}
