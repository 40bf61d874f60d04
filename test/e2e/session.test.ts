// instrumentSessionStore on express-session's MemoryStore behind a real Express
// app on 127.0.0.1 (real HTTP requests with the session cookie), and the generic
// tracker; exact counts through real scrapes.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import session, { MemoryStore } from 'express-session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentSessionStore, register, sessions, trackSessions, type OtelkitHandle } from '../../index.js';
import { sessionSnapshot } from '../../instrumentations/session/index.js';
import { MAX_REASONS } from '../../instrumentations/session/record.js';
import { noopInstrumentation } from '../../src/instrumentation.js';
import { otelkitState } from '../../src/state.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';
import { findSamples, parsePrometheus, sampleValue, scrape, type Sample } from '../helpers/prom-text.js';

let otel: OtelkitHandle;
let url: string;
const servers: Server[] = [];
const read = async (): Promise<Sample[]> => parsePrometheus(await scrape(url));
const v = (s: Sample[], metric: string, name: string, extra: Record<string, string> = {}) =>
  sampleValue(s, metric, { session_source_name: name, ...extra });

declare module 'express-session' {
  interface SessionData {
    user: string;
    visits: number;
  }
}

// Instrumented before register(): reports once otelkit is registered.
const store = new MemoryStore();
instrumentSessionStore(store, { name: 'web' });

/** An Express app with express-session on `s`; returns its base URL. */
async function app(s: session.Store): Promise<string> {
  const a = express();
  a.use(session({ store: s, secret: 'test', resave: false, saveUninitialized: false }));
  a.get('/login', (req, res) => {
    req.session.user = 'ada';
    res.send('in');
  });
  a.get('/me', (req, res) => res.send(req.session.user ?? 'nobody'));
  a.get('/visit', (req, res) => {
    req.session.visits = (req.session.visits ?? 0) + 1;
    res.send(String(req.session.visits));
  });
  a.get('/rotate', (req, res, next) =>
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = 'ada';
      res.send('rotated');
    }),
  );
  a.get('/logout', (req, res, next) => req.session.destroy((err) => (err ? next(err) : res.send('out'))));
  const server = await new Promise<Server>((resolve) => {
    const srv = a.listen(0, '127.0.0.1', () => resolve(srv));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A client keeping the session cookie across requests. */
function client(base: string) {
  let cookie: string | undefined;
  return async (path: string): Promise<{ status: number; body: string }> => {
    const res = await fetch(base + path, cookie ? { headers: { cookie } } : {});
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0];
    return { status: res.status, body: await res.text() };
  };
}

beforeAll(async () => {
  otel = register({ prometheus: { host: '127.0.0.1', port: 0 }, instrumentations: [], serviceName: 'session-test' });
  url = (await otel.ready)!.url;
});
afterAll(async () => {
  for (const s of servers) s.close();
  await otel.shutdown();
});

describe('instrumentSessionStore (express-session MemoryStore, real Express app)', () => {
  it('counts created, saved, touched and destroyed sessions, and active ones from the store', async () => {
    const base = await app(store);
    const alice = client(base);
    const bob = client(base);
    expect((await alice('/me')).body).toBe('nobody'); // uninitialized: not saved, not counted
    await alice('/login'); // created
    await bob('/login'); // created
    expect((await alice('/me')).body).toBe('ada'); // unmodified: touched
    await alice('/visit'); // modified: saved
    await alice('/visit'); // saved
    let s = await read();
    expect(v(s, 'session_starts_total', 'web')).toBe(2);
    expect(v(s, 'session_active', 'web')).toBe(2);
    expect(v(s, 'session_refreshes_total', 'web', { session_refresh_reason: 'touch' })).toBe(1);
    expect(v(s, 'session_refreshes_total', 'web', { session_refresh_reason: 'save' })).toBe(2);
    await bob('/rotate'); // regenerate: the old one destroyed, a new one created
    await alice('/logout'); // destroyed
    s = await read();
    expect(v(s, 'session_starts_total', 'web')).toBe(3);
    expect(v(s, 'session_ends_total', 'web', { session_end_reason: 'destroyed' })).toBe(2);
    expect(v(s, 'session_active', 'web')).toBe(1);
    expect(v(s, 'session_store_errors_total', 'web', { session_store_operation: 'get' })).toBe(0);
    expect((await sessionSnapshot()).find((x) => x.name === 'web')).toEqual({
      name: 'web',
      active: 1,
      started: 3,
      ended: { destroyed: 2 },
      refreshed: { touch: 1, save: 2 },
      errors: 0,
    });
  });

  it('counts store errors by operation; the app still gets the error', async () => {
    class FailingStore extends MemoryStore {
      override get(_sid: string, cb: (err: unknown, session?: session.SessionData | null) => void): void {
        cb(new Error('store down'));
      }
    }
    const failing = new FailingStore();
    instrumentSessionStore(failing, { name: 'failing' });
    const base = await app(failing);
    const c = client(base);
    await c('/login'); // no cookie yet: no get, a new session is created
    expect((await c('/me')).status).toBe(500); // the store's get fails; express-session passes the error on
    const s = await read();
    expect(v(s, 'session_starts_total', 'failing')).toBe(1);
    expect(v(s, 'session_store_errors_total', 'failing', { session_store_operation: 'get' })).toBe(1);
    expect(v(s, 'session_store_errors_total', 'failing', { session_store_operation: 'set' })).toBe(0);
  });

  it('a store without length() reports no active count; a non-store is a no-op', async () => {
    const bare = { get() {}, set() {}, destroy() {} };
    const handle = instrumentSessionStore(bare, { name: 'bare' });
    bare.set();
    const s = await read();
    expect(v(s, 'session_starts_total', 'bare')).toBe(1);
    expect(findSamples(s, 'session_active', { session_source_name: 'bare' })).toEqual([]);
    handle.dispose();
    expect(instrumentSessionStore({}, { name: 'nothing' })).toBe(noopInstrumentation);
  });

  it('is a no-op when otelkit is disabled: nothing wrapped, a tracker that counts nothing', async () => {
    const state = otelkitState();
    state.disabled = true;
    try {
      const off = new MemoryStore();
      expect(instrumentSessionStore(off, { name: 'off' })).toBe(noopInstrumentation);
      expect(Object.hasOwn(off, 'set')).toBe(false);
      const t = trackSessions({ name: 'off' });
      t.started('x');
      t.ended('logout', 'x');
    } finally {
      state.disabled = false;
    }
    expect(findSamples(await read(), 'session_starts_total', { session_source_name: 'off' })).toEqual([]);
  });
});

describe('trackSessions / sessions (generic)', () => {
  it('counts starts, ends and refreshes by reason, active sessions and ages', async () => {
    const logins = trackSessions({ name: 'logins' });
    expect(trackSessions({ name: 'logins' })).toBe(logins);
    const start = performance.now();
    logins.started('a');
    logins.started('b');
    logins.started();
    logins.refreshed('activity');
    logins.refreshed('activity');
    logins.refreshed();
    logins.ended('logout', 'a');
    logins.ended('expired');
    const span = (performance.now() - start) / 1000;
    const s = await read();
    expect(v(s, 'session_starts_total', 'logins')).toBe(3);
    expect(v(s, 'session_active', 'logins')).toBe(1);
    expect(v(s, 'session_ends_total', 'logins', { session_end_reason: 'logout' })).toBe(1);
    expect(v(s, 'session_ends_total', 'logins', { session_end_reason: 'expired' })).toBe(1);
    expect(v(s, 'session_refreshes_total', 'logins', { session_refresh_reason: 'activity' })).toBe(2);
    expect(v(s, 'session_refreshes_total', 'logins', { session_refresh_reason: 'refresh' })).toBe(1);
    expect(v(s, 'session_duration_seconds_count', 'logins')).toBe(1); // only 'a' had a known start
    expect(v(s, 'session_duration_seconds_sum', 'logins')).toBeLessThanOrEqual(span);
  });

  it(`keeps at most ${MAX_REASONS} reasons per source; later ones count as other`, async () => {
    const t = trackSessions({ name: 'reasons' });
    for (let n = 0; n < MAX_REASONS + 4; n++) t.ended(`reason-${n}`);
    const s = await read();
    const series = findSamples(s, 'session_ends_total', { session_source_name: 'reasons' });
    expect(series).toHaveLength(MAX_REASONS);
    expect(v(s, 'session_ends_total', 'reasons', { session_end_reason: 'other' })).toBe(5);
  });

  it('sessions.* report on the tracker named default; dispose() stops a tracker', async () => {
    sessions.started('x');
    sessions.refreshed('token');
    sessions.ended('logout', 'x');
    const t = trackSessions({ name: 'disposed' });
    t.started();
    t.dispose();
    t.started(); // not counted
    const s = await read();
    expect(v(s, 'session_starts_total', 'default')).toBe(1);
    expect(v(s, 'session_active', 'default')).toBe(0);
    expect(v(s, 'session_refreshes_total', 'default', { session_refresh_reason: 'token' })).toBe(1);
    expect(v(s, 'session_duration_seconds_count', 'default')).toBe(1);
    expect(findSamples(s, 'session_starts_total', { session_source_name: 'disposed' })).toEqual([]);
    expect(trackSessions({ name: 'disposed' })).not.toBe(t); // a new tracker after dispose()
  });

  it('the scrape is promtool-clean', async () => {
    expect((await promtoolCheckMetrics(await scrape(url))).problems).toEqual([]);
  });
});
