/**
 * Session instrumentation: active sessions, sessions started and ended (by
 * reason), refreshes (by reason), session age at end, and store errors, for
 * express-session stores (store.ts) and anything else through the generic
 * tracker (tracker.ts).
 */
import type { Instrumentation } from '../../src/instrumentation.js';
import { sessionFamily } from './record.js';
import { buildStore } from './store.js';

export interface SessionStoreInstrumentationOptions {
  /** Reported as `session.source.name`. */
  name: string;
}

export { sessions, trackSessions, type SessionTracker, type SessionTrackerOptions } from './tracker.js';
export { sessionSnapshot, type SessionSourceSnapshot } from './record.js';

/**
 * Reports the sessions of an express-session store as `session.*` metrics with
 * `session.source.name = options.name`: created, saved, touched, destroyed,
 * store errors, and active sessions when the store has `length()`.
 *
 * The same store instrumented twice returns the first handle. `dispose()`
 * restores its methods and stops reporting. A no-op when otelkit is disabled.
 */
export function instrumentSessionStore(store: object, options: SessionStoreInstrumentationOptions): Instrumentation {
  return sessionFamily.instrument(
    store,
    options?.name,
    (target, name, previous, unhooks) => buildStore(target as Record<string, unknown>, name, previous, unhooks),
    (base) => base,
  );
}
