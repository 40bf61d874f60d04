/**
 * The generic session API, for sessions no store wrapper sees (a browser
 * session, a login session, a game lobby): `started(id?)`, `ended(reason?, id?)`,
 * `refreshed(reason?)`. Active = started - ended. A session started with an id
 * has its age measured when it ends with the same id; the ids of open sessions
 * are remembered (at most MAX_OPEN_IDS, so a caller that never ends them cannot
 * grow memory without bound).
 */
import { diag } from '@opentelemetry/api';
import type { Instrumentation } from '../../src/instrumentation.js';
import { SessionRecord, sessionFamily } from './record.js';

export const MAX_OPEN_IDS = 100_000;

export interface SessionTracker extends Instrumentation {
  /** A session started; give its id to have its age measured at ended(…, id). */
  started(id?: string): void;
  /** A session ended, by a bounded reason (`logout`, `expired`, `kicked`; default `ended`). */
  ended(reason?: string, id?: string): void;
  /** A session was refreshed, by a bounded reason (`activity`, `token`; default `refresh`). */
  refreshed(reason?: string): void;
}

export interface SessionTrackerOptions {
  /** Reported as `session.source.name`. */
  name: string;
}

const trackers = new Map<string, SessionTracker>();

/** The tracker for `options.name` (the same one for the same name while it is not disposed). */
export function trackSessions(options: SessionTrackerOptions): SessionTracker {
  const name = options?.name;
  const existing = typeof name === 'string' ? trackers.get(name) : undefined;
  if (existing) return existing;
  const target = {};
  const tracker = sessionFamily.instrument(
    target,
    name,
    (_t, n, previous, unhooks) => ({ record: previous ?? new SessionRecord(n, 'tracker'), unhooks }),
    (base, record) => (record ? liveTracker(base, record, name) : noopTracker(base)),
  );
  if (tracker.started !== noop) trackers.set(name, tracker);
  return tracker;
}

const noop = () => {};
function noopTracker(base: Instrumentation): SessionTracker {
  return { dispose: () => base.dispose(), started: noop, ended: noop, refreshed: noop };
}

function liveTracker(base: Instrumentation, r: SessionRecord, name: string): SessionTracker {
  let open = new Map<string, number>();
  let live = true;
  let warned = false;
  const tracker: SessionTracker = {
    dispose() {
      live = false;
      open = new Map();
      if (trackers.get(name) === tracker) trackers.delete(name);
      base.dispose();
    },
    started(id?: string) {
      if (!live) return;
      r.starts++;
      r.active++;
      if (id === undefined) return;
      if (open.size < MAX_OPEN_IDS) open.set(id, performance.now());
      else if (!warned) {
        warned = true;
        diag.warn(`otelkit: sessions "${name}": over ${MAX_OPEN_IDS} open ids; ages of newer ones are not measured`);
      }
    },
    ended(reason = 'ended', id?: string) {
      if (!live) return;
      r.ends.add(typeof reason === 'string' && reason !== '' ? reason : 'ended');
      if (r.active > 0) r.active--;
      if (id === undefined) return;
      const startedAt = open.get(id);
      if (startedAt === undefined) return;
      open.delete(id);
      r.age((performance.now() - startedAt) / 1000);
    },
    refreshed(reason = 'refresh') {
      if (live) r.refreshes.add(typeof reason === 'string' && reason !== '' ? reason : 'refresh');
    },
  };
  return tracker;
}

/** `sessions.started()` and friends on a tracker named `default`, created at first use. */
export const sessions: Pick<SessionTracker, 'started' | 'ended' | 'refreshed'> = Object.freeze({
  started: (id?: string) => trackSessions({ name: 'default' }).started(id),
  ended: (reason?: string, id?: string) => trackSessions({ name: 'default' }).ended(reason, id),
  refreshed: (reason?: string) => trackSessions({ name: 'default' }).refreshed(reason),
});
