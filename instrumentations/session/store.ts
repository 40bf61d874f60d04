/**
 * express-session stores (MemoryStore, connect-redis, connect-pg-simple, ...:
 * anything with express-session's Store methods). Wrapped on the instance:
 * - `set(sid, session)`: a session that was not loaded in this request is new
 *   (started); one that was loaded (`createSession`, which express-session calls
 *   for every session it reads) is saved (refreshed, reason `save`);
 * - `touch`: refreshed, reason `touch`; `destroy`: ended, reason `destroyed`
 *   (expiries inside the store are not seen);
 * - callback errors of get/set/touch/destroy: `session.store.errors`;
 * - `length(cb)`, when the store has it: the active-session count, read at
 *   collection with a timeout (a slow store never holds up a scrape).
 * express-session gives the `req` to createSession and as the session's own
 * (non-enumerable) `req` property; that is how a save is told from a creation.
 */
import { diag } from '@opentelemetry/api';
import { wrapMethod, type Built, type Unhook } from '../shared/targets.js';
import { SessionRecord, type StoreOperation } from './record.js';

type Fn = (this: unknown, ...args: unknown[]) => unknown;

/** How long a collection waits for `store.length()`. */
export const LENGTH_TIMEOUT_MS = 1000;

export function isSessionStore(t: Record<string, unknown>): boolean {
  return typeof t.get === 'function' && typeof t.set === 'function' && typeof t.destroy === 'function';
}

export function buildStore(
  store: Record<string, unknown>,
  name: string,
  previous: SessionRecord | undefined,
  unhooks: Unhook[],
): Built<SessionRecord> {
  if (!isSessionStore(store)) throw new Error('not a session store: expected get/set/destroy methods');
  const record =
    previous ?? new SessionRecord(name, 'store', typeof store.length === 'function' ? () => length(store) : undefined);
  const loaded = new WeakSet<object>();
  const add = (u: Unhook | undefined) => u && unhooks.push(u);
  const failed = (op: StoreOperation) => (err: unknown) => {
    if (err) record.errors[op]++;
  };
  const onGetError = failed('get');
  const onSetError = failed('set');
  const onTouchError = failed('touch');
  const onDestroyError = failed('destroy');

  add(
    wrapMethod(
      store,
      'createSession',
      (createSession: Fn): Fn =>
        function (this: unknown, req: unknown): unknown {
          if (req !== null && typeof req === 'object') loaded.add(req);
          return createSession.apply(this, arguments as unknown as unknown[]);
        },
    ),
  );
  add(
    wrapMethod(
      store,
      'regenerate',
      (regenerate: Fn): Fn =>
        function (this: unknown, req: unknown): unknown {
          if (req !== null && typeof req === 'object') loaded.delete(req); // its next save creates a new session
          return regenerate.apply(this, arguments as unknown as unknown[]);
        },
    ),
  );
  add(wrapMethod(store, 'get', withCallback(1, onGetError)));
  add(
    wrapMethod(store, 'set', (set: Fn): Fn => {
      const wrapped = withCallback(2, onSetError)(set);
      return function (this: unknown, _sid: unknown, sess: unknown): unknown {
        const req = sess !== null && typeof sess === 'object' ? (sess as { req?: unknown }).req : undefined;
        if (req !== null && typeof req === 'object' && loaded.has(req)) record.refreshes.add('save');
        else {
          record.starts++;
          if (req !== null && typeof req === 'object') loaded.add(req);
        }
        return wrapped.apply(this, arguments as unknown as unknown[]);
      };
    }),
  );
  add(
    wrapMethod(store, 'touch', (touch: Fn): Fn => {
      const wrapped = withCallback(2, onTouchError)(touch);
      return function (this: unknown): unknown {
        record.refreshes.add('touch');
        return wrapped.apply(this, arguments as unknown as unknown[]);
      };
    }),
  );
  add(
    wrapMethod(store, 'destroy', (destroy: Fn): Fn => {
      const wrapped = withCallback(1, onDestroyError)(destroy);
      return function (this: unknown): unknown {
        record.ends.add('destroyed');
        return wrapped.apply(this, arguments as unknown as unknown[]);
      };
    }),
  );
  return { record, unhooks };

  function length(s: Record<string, unknown>): Promise<number | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        diag.debug(`otelkit: session store "${name}" did not answer length() in ${LENGTH_TIMEOUT_MS} ms`);
        resolve(undefined);
      }, LENGTH_TIMEOUT_MS);
      timer.unref();
      const done = (err: unknown, n: unknown) => {
        clearTimeout(timer);
        if (err) record.errors.length++;
        resolve(!err && typeof n === 'number' && Number.isFinite(n) ? n : undefined);
      };
      try {
        const p = (s.length as Fn).call(s, done) as { then?: unknown } | undefined;
        if (p && typeof p.then === 'function')
          (p as Promise<unknown>).then(
            (n) => done(null, n),
            (err: unknown) => done(err, undefined),
          );
      } catch (err) {
        done(err, undefined);
      }
    });
  }
}

/**
 * Wraps the callback at `index` (when given) to report its error argument.
 * Fixed-arity fast path (express-session's own calls): no arguments copy.
 */
function withCallback(index: 1 | 2, onError: (err: unknown) => void) {
  const wrapCb = (cb: Fn): Fn =>
    function (this: unknown, err: unknown): unknown {
      if (err) onError(err);
      return cb.apply(this, arguments as unknown as unknown[]);
    };
  return (method: Fn): Fn =>
    index === 1
      ? function (this: unknown, a: unknown, cb: unknown): unknown {
          if (typeof cb !== 'function' || arguments.length !== 2)
            return method.apply(this, arguments as unknown as unknown[]);
          return method.call(this, a, wrapCb(cb as Fn));
        }
      : function (this: unknown, a: unknown, b: unknown, cb: unknown): unknown {
          if (typeof cb !== 'function' || arguments.length !== 3)
            return method.apply(this, arguments as unknown as unknown[]);
          return method.call(this, a, b, wrapCb(cb as Fn));
        };
}
