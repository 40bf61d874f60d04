/**
 * Watching an async result without changing what the caller sees.
 *
 * Attaching a rejection handler to the caller's own promise would mark it handled,
 * so a rejection the app never handles would stop surfacing as `unhandledRejection`
 * (on Node >= 15, a crash the app would otherwise have). Instead the caller gets the
 * chained promise: the same value, the same rejection reason, and an unhandled
 * rejection still surfaces. Accounting callbacks never throw into it.
 */
import { tryOrLog } from '../../src/util/errors.js';

const ACCOUNTING_FAILED = 'an instrumentation failed to account for a result';

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Returns `result` itself when it is not a thenable, else the chained promise to hand back. */
export function observeSettled<T>(
  result: T,
  onValue?: (value: unknown) => void,
  onError?: (reason: unknown) => void,
): T {
  if (!isThenable(result)) return result;
  return result.then(
    (value) => {
      if (onValue) tryOrLog(ACCOUNTING_FAILED, onValue, value);
      return value;
    },
    (reason: unknown) => {
      if (onError) tryOrLog(ACCOUNTING_FAILED, onError, reason);
      throw reason;
    },
  ) as T;
}
