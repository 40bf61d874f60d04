// Health endpoints and /stats on a real app under the preload: token rules per
// endpoint (standalone server and handlers mounted on the app), readiness with checks
// that pass, fail, hang and return false, /stats figures equal to the traffic sent,
// caches, breakers, WebSocket servers and session sources through the contributor
// registry, concurrent requests sharing a computation, and a promtool-clean scrape.
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/child.js';
import { hasPromtool, promtoolCheckMetrics } from '../helpers/prometheus.js';
import { send, startFixture, type FixtureApp } from '../fixtures/http-harness.js';
import type { Readiness, Stats } from '../../index.js';

afterAll(() => stopAll());

const TOKEN = 'sesame';
const auth = { authorization: `Bearer ${TOKEN}` };
const base = (app: FixtureApp) => app.metricsUrl.replace(/\/metrics$/, '');

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.text() };
}

describe('with a token', () => {
  let app: FixtureApp;

  it('liveness is open, readiness, /stats and the scrape need the token, on both servers', async () => {
    app = await startFixture('health-app.mjs', { env: { OTELKIT_PROMETHEUS_TOKEN: TOKEN } });
    const m = base(app);
    const open = [`${m}/health/live`, `${app.appUrl}/app/live`];
    const guarded = [
      `${m}/health/ready`,
      `${m}/stats`,
      `${m}/metrics`,
      `${app.appUrl}/app/ready`,
      `${app.appUrl}/app/stats`,
    ];
    for (const url of open) {
      const r = await get(url);
      expect([url, r.status, JSON.parse(r.body)]).toEqual([url, 200, { status: 'pass' }]);
    }
    for (const url of guarded) {
      expect([url, (await get(url)).status]).toEqual([url, 401]);
      expect([url, (await get(url, { authorization: 'Bearer wrong' })).status]).toEqual([url, 401]);
      expect([url, (await get(url, auth)).status]).toEqual([url, 200]);
    }
    const post = await fetch(`${m}/health/live`, { method: 'POST' });
    expect(post.status).toBe(405);
  });

  it('readiness: 200 with each check, 503 once a critical check fails, 200 again when it passes', async () => {
    const m = base(app);
    const ready = async () => {
      const r = await get(`${m}/health/ready`, auth);
      return { status: r.status, body: JSON.parse(r.body) as Readiness };
    };
    const first = await ready();
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('pass');
    expect(first.body.checks.db).toMatchObject({ status: 'pass', critical: true });
    expect(first.body.checks['warm-cache']).toMatchObject({ status: 'fail', critical: false, error: 'returned false' });
    expect(first.body.checks.search).toMatchObject({
      status: 'fail',
      critical: false,
      error: 'timed out after 100 ms',
    });
    expect(first.body.checks.search!.durationMs).toBeGreaterThanOrEqual(95);

    await send(app.appUrl, [['GET', '/db/down']]);
    const down = await ready();
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('fail');
    expect(down.body.checks.db).toMatchObject({ status: 'fail', error: 'returned false' });
    const mounted = await get(`${app.appUrl}/app/ready`, auth);
    expect(mounted.status).toBe(503);

    await send(app.appUrl, [['GET', '/db/up']]);
    expect((await ready()).status).toBe(200);
  });

  it('/stats: requests, errors and percentiles per route, caches and breakers, the same as getStats()', async () => {
    const m = base(app);
    await send(app.appUrl, [
      ...Array.from({ length: 30 }, () => ['GET', '/fast'] as [string, string]),
      ...Array.from({ length: 5 }, () => ['GET', '/boom'] as [string, string]),
      ['GET', '/cache/4'],
      ['GET', '/breaker/open'],
      ['GET', '/jobs/4'],
    ]);
    // the previous computation may be cached for up to a second: ask until it includes this traffic
    let stats: Stats;
    for (;;) {
      stats = JSON.parse((await get(`${m}/stats`, auth)).body) as Stats;
      if ((stats.http.routes.find((r) => r.route === '/boom')?.windows[0]?.requests ?? 0) === 5) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const route = (name: string) => stats.http.routes.find((r) => r.route === name)!;
    for (const w of route('/fast').windows) {
      expect(w).toMatchObject({ requests: 30, errors: 0, errorRatio: 0 });
      expect(w.p50).toBeGreaterThan(0);
      expect(w.p50!).toBeLessThanOrEqual(w.p90!);
      expect(w.p90!).toBeLessThanOrEqual(w.p95!);
      expect(w.p95!).toBeLessThanOrEqual(w.p99!);
      expect(w.avg).toBeGreaterThan(0);
    }
    expect(route('/fast').windows.map((w) => w.window)).toEqual(['1m', '5m', '15m']);
    expect(route('/boom').windows[0]).toMatchObject({ requests: 5, errors: 5, errorRatio: 1 });
    expect(route('/fast').distribution.at(-1)).toEqual({ le: '+Inf', count: 30 });
    const overall = stats.http.overall.windows[0]!;
    // the fixture's own control requests are routeless and counted too
    expect(overall.errors).toBe(5);
    expect(overall.requests).toBeGreaterThanOrEqual(35);
    expect(stats.uptimeSeconds).toBeGreaterThan(0);
    // the monitor started with the first /stats of the token test; it has samples by now
    expect(stats.eventLoop!.delay.p95).toBeGreaterThan(0);
    expect(stats.eventLoop!.delay.p95).toBeGreaterThanOrEqual(stats.eventLoop!.delay.p50);
    expect(stats.eventLoop!.utilization).toBeGreaterThanOrEqual(0);
    expect(stats.eventLoop!.utilization).toBeLessThanOrEqual(1);
    expect(stats.memory.rssBytes).toBeGreaterThan(stats.memory.heapUsedBytes);
    expect(stats.caches).toEqual([
      { name: 'users', window: 'since instrumented', hits: 3, misses: 1, evictions: 1, hitRatio: 0.75, size: 1 },
    ]);
    const [breaker] = stats.breakers as { name: string; state: string; lastTransition: { from: string; to: string } }[];
    expect(breaker).toMatchObject({ name: 'payments', state: 'open', lastTransition: { from: 'closed', to: 'open' } });

    const [limiter] = stats.limiters as Record<string, unknown>[];
    expect(limiter).toMatchObject({ name: 'api', acquired: 4, rejected: 0 });
    expect(limiter!.waitP95Seconds).toBeGreaterThanOrEqual(0);
    const [queue] = stats.queues as Record<string, unknown>[];
    expect(queue).toMatchObject({ name: 'mailer', consumed: 4, completed: 3, failed: 1, retried: 0, stalled: 0 });
    expect(queue!.processP95Seconds).toBeGreaterThanOrEqual(0);

    const fromCode = JSON.parse((await get(`${app.appUrl}/getstats`)).body) as Stats;
    expect(fromCode.http.routes.find((r) => r.route === '/boom')!.windows[0]).toMatchObject({ requests: 5 });
    expect(Object.keys(fromCode).sort()).toEqual(Object.keys(stats).sort());
  });

  it("/stats: WebSocket servers and session sources; a store's active count is the last scrape's", async () => {
    const m = base(app);
    await send(app.appUrl, [
      ['GET', '/sessions'],
      ['GET', '/store/3'],
    ]);
    const clients = await Promise.all(
      [0, 1].map(async () => {
        const ws = new WebSocket(`${app.appUrl.replace('http:', 'ws:')}/ws`);
        await once(ws, 'open');
        return ws;
      }),
    );
    try {
      for (const ws of clients) {
        const echoes = new Promise<void>((resolve) => {
          let n = 0;
          ws.on('message', () => ++n === 3 && resolve());
        });
        for (let i = 0; i < 3; i++) ws.send('hello');
        await echoes;
      }
      // the previous computation may be cached for up to a second: ask until it includes this traffic
      // (a bounded number of times, so a missing section fails on the assertion's diff, not a timeout)
      const statsWhere = async (done: (s: Stats) => boolean): Promise<Stats> => {
        for (let attempt = 1; ; attempt++) {
          const s = JSON.parse((await get(`${m}/stats`, auth)).body) as Stats;
          if (done(s) || attempt === 25) return s;
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      const sessionsOf = (s: Stats) => s.sessions as { name: string; active: number | null }[] | undefined;
      let stats = await statsWhere(
        (s) => (s.websockets as { messagesSent: number }[] | undefined)?.[0]?.messagesSent === 6,
      );
      expect(stats.websockets).toEqual([
        {
          name: 'chat',
          window: 'since instrumented',
          activeConnections: 2,
          connectionsOpened: 2,
          connectionsClosed: { normal: 0, going_away: 0, error: 0, abnormal: 0 },
          messagesReceived: 6,
          messagesSent: 6,
          bytesReceived: 30,
          bytesSent: 30,
          errors: 0,
        },
      ]);
      const lobby = {
        name: 'lobby',
        kind: 'tracker',
        window: 'since instrumented',
        active: 1,
        started: 2,
        ended: { logout: 1 },
        refreshed: { activity: 1 },
        errors: 0,
      };
      const web = { name: 'web', kind: 'store', window: 'since instrumented', started: 3, ended: {}, refreshed: {} };
      // /stats never calls the store: its count is still the one of the first test's scrape (empty then)
      expect(sessionsOf(stats)).toEqual([lobby, { ...web, active: 0, errors: 0 }]);

      await get(app.metricsUrl, auth);
      stats = await statsWhere((s) => sessionsOf(s)?.find((e) => e.name === 'web')?.active !== 0);
      expect(sessionsOf(stats)).toEqual([lobby, { ...web, active: 3, errors: 0 }]);
    } finally {
      for (const ws of clients) ws.close();
    }
  });

  it('concurrent /stats requests share a computation', async () => {
    const m = base(app);
    const bodies = await Promise.all(Array.from({ length: 20 }, () => get(`${m}/stats`, auth)));
    const times = new Set(bodies.map((b) => (JSON.parse(b.body) as Stats).time));
    // one computation serves every request within a second (2 if the second turns over mid-way)
    expect(times.size).toBeLessThanOrEqual(2);
  });

  it.skipIf(!hasPromtool())('the scrape stays promtool-clean', async () => {
    const text = (await get(app.metricsUrl, auth)).body;
    expect(text).toContain('nodejs_eventloop_delay_p95_seconds');
    expect(await promtoolCheckMetrics(text)).toMatchObject({ ok: true, problems: [] });
  });
});

describe('configured paths and open endpoints', () => {
  it('serves the configured paths only; OTELKIT_OPEN_ENDPOINTS opens readiness and /stats', async () => {
    const app = await startFixture('health-app.mjs', {
      env: {
        OTELKIT_PROMETHEUS_TOKEN: TOKEN,
        OTELKIT_HEALTH_LIVE_PATH: '/livez',
        OTELKIT_HEALTH_READY_PATH: '/readyz',
        OTELKIT_STATS_PATH: '/_stats',
        OTELKIT_OPEN_ENDPOINTS: 'ready,stats',
      },
    });
    const m = base(app);
    expect((await get(`${m}/livez`)).status).toBe(401);
    expect((await get(`${m}/livez`, auth)).status).toBe(200);
    expect((await get(`${m}/readyz`)).status).toBe(200);
    expect((await get(`${m}/_stats`)).status).toBe(200);
    expect((await get(`${m}/metrics`)).status).toBe(401);
    for (const old of ['/health/live', '/health/ready', '/stats'])
      expect((await get(`${m}${old}`, auth)).status).toBe(404);
  });
});
