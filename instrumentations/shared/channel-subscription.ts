/**
 * diagnostics_channel subscriptions shared by the whole process: one subscription
 * however many handles ask for it, and subscribers that never throw into the app.
 */
import { disposeOnce, type Instrumentation } from '../../src/instrumentation.js';
import { tryOrLog } from '../../src/util/errors.js';

/** A subscriber (or any callback) that never throws into the app: a throw goes to diag as `<what> failed`. */
// biome-ignore lint/suspicious/noExplicitAny: each channel publishes its own message shape; the subscriber declares it.
export function guard(what: string, fn: (message: any) => void): (message?: unknown) => void {
  const failure = `${what} failed`;
  return (message) => tryOrLog(failure, fn, message);
}

/** The refcount behind a process-wide subscription (kept in a processSingleton). */
export interface SharedSubscription {
  users: number;
  stop?: () => void;
}

/**
 * One subscription for every handle: `start` runs for the first handle and returns
 * what undoes it, which runs when the last handle is disposed.
 */
export function shareSubscription(shared: SharedSubscription, start: () => () => void): Instrumentation {
  if (shared.users++ === 0) shared.stop = start();
  return disposeOnce(() => {
    if (--shared.users > 0) return;
    const stop = shared.stop;
    shared.stop = undefined;
    stop?.();
  });
}
