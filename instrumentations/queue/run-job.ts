/**
 * Runs a function as one job of an in-process queue (p-queue's tasks, the generic
 * adapter's `wrap()`): counts its start, its wait when known, then its outcome and
 * duration. The function gets the same `this` and arguments; its value, throw or
 * rejection reach the caller untouched (a promise is chained, see shared/settle.ts).
 */
import { clock, secondsSince } from '../../src/util/clock.js';
import { isThenable, observeSettled } from '../shared/settle.js';
import type { QueueRecord } from './record.js';

type Fn = (this: unknown, ...args: unknown[]) => unknown;

export function runJob(r: QueueRecord, task: Fn, self: unknown, args: ArrayLike<unknown>, waitSeconds?: number) {
  r.started(waitSeconds);
  r.inFlight++;
  const start = clock();
  let result: unknown;
  try {
    result = task.apply(self, args as unknown[]);
  } catch (err) {
    r.inFlight--;
    r.ended('failed', secondsSince(start), err);
    throw err;
  }
  if (!isThenable(result)) {
    r.inFlight--;
    r.ended('completed', secondsSince(start));
    return result;
  }
  return observeSettled(
    result,
    () => {
      r.inFlight--;
      r.ended('completed', secondsSince(start));
    },
    (err) => {
      r.inFlight--;
      r.ended('failed', secondsSince(start), err);
    },
  );
}
