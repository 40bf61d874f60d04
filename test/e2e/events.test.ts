// Business events through a real registration and scrape: the declared mapping, switches
// flipped at runtime with exact counts before and after, the unmapped counter, sinks,
// bound events and the cardinality cap. (Log records and OTELKIT_EVENTS: events-otlp.test.ts.)
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { events, register, track, type OtelkitHandle, type TrackedEvent } from '../../index.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';
import { findSamples, parsePrometheus, sampleValue, scrape, type Sample } from '../helpers/prom-text.js';

let otel: OtelkitHandle;
let url: string;
const read = async (): Promise<Sample[]> => parsePrometheus(await scrape(url));
const value = (s: Sample[], name: string, labels: Record<string, string> = {}) =>
  findSamples(s, name, labels).reduce((n, x) => n + x.value, 0);
const stderr: string[] = [];
const audited: TrackedEvent[] = [];

// Before register(): kept, and replayed once the mapping is known.
track('order.placed', { market: 'eu', side: 'buy', amount: 10 });
const earlyBound = events.bind('order.placed', { market: 'us', side: 'sell' });
earlyBound.record(5);

beforeAll(async () => {
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk, ...rest) => {
    stderr.push(String(chunk));
    return write(chunk, ...(rest as []));
  });
  otel = register({
    prometheus: { host: '127.0.0.1', port: 0 },
    instrumentations: [],
    serviceName: 'events-test',
    cardinalityLimit: 6,
    events: {
      metrics: {
        'order.placed': [
          { metric: 'orders.placed', unit: '{order}', attributes: ['market', 'side'] },
          { metric: 'orders.amount', type: 'histogram', unit: '{EUR}', value: 'amount', attributes: ['market'] },
        ],
        'order.imported': { metric: 'orders.placed', unit: '{order}', attributes: { market: 'import', side: 'n/a' } },
        'user.login': { metric: 'logins', unit: '{login}', attributes: ['method'] },
        'session.change': { metric: 'sessions.active', type: 'updowncounter', attributes: ['region'] },
        'session.closed': { metric: 'sessions.active', type: 'updowncounter', value: -1, attributes: ['region'] },
        'queue.depth': { metric: 'queue.depth', type: 'gauge', unit: '{job}', attributes: ['queue'] },
        'game.completed': { metric: 'games.completed', attributes: ['mode'] },
        'audit.only': [],
      },
      modules: { auth: ['user.*', 'session.*'] },
      sink: (event) => void audited.push(event),
    },
  });
  url = (await otel.ready)!.url;
});
afterAll(async () => {
  vi.restoreAllMocks();
  await otel.shutdown();
});

describe('the mapping', () => {
  it('replays what was tracked before register()', async () => {
    const s = await read();
    expect(sampleValue(s, 'orders_placed_total', { market: 'eu', side: 'buy' })).toBe(1);
    expect(sampleValue(s, 'orders_placed_total', { market: 'us', side: 'sell' })).toBe(1);
    expect(sampleValue(s, 'orders_amount_sum', { market: 'eu' })).toBe(10);
    expect(sampleValue(s, 'orders_amount_sum', { market: 'us' })).toBe(5);
  });

  it('allowlisted attributes only, defaults for missing ones, several metrics per event', async () => {
    track('order.placed', { market: 'eu', side: 'buy', amount: 2.5, 'user.id': 'u-1' });
    track('order.placed', { side: 'sell', amount: 100, 'user.id': 'u-2' });
    track('order.imported', { market: 'ignored-too?', batch: 7 });
    const s = await read();
    expect(sampleValue(s, 'orders_placed_total', { market: 'eu', side: 'buy' })).toBe(2);
    expect(sampleValue(s, 'orders_placed_total', { market: 'unknown', side: 'sell' })).toBe(1);
    // A declared default fills a missing attribute; a present one is kept.
    expect(sampleValue(s, 'orders_placed_total', { market: 'ignored-too?', side: 'n/a' })).toBe(1);
    expect(findSamples(s, 'orders_placed_total').every((x) => !('user_id' in x.labels))).toBe(true);
    expect(sampleValue(s, 'orders_amount_sum', { market: 'eu' })).toBe(12.5);
    expect(sampleValue(s, 'orders_amount_count', { market: 'unknown' })).toBe(1);
    expect(sampleValue(s, 'orders_amount_bucket', { market: 'unknown', le: '100' })).toBe(1);
    expect(sampleValue(s, 'orders_amount_bucket', { market: 'unknown', le: '75' })).toBe(0);
  });

  it('up-down counters add signed values (1 without one), constants apply, gauges keep the last value', async () => {
    track('session.change', { region: 'eu' }, 2);
    track('session.change', { region: 'eu' }, -1);
    track('session.change', { region: 'eu' });
    track('session.closed', { region: 'eu' }, 99);
    track('queue.depth', { queue: 'mail' }, 12);
    track('queue.depth', { queue: 'mail' }, 4);
    track('queue.depth', { queue: 'mail' }); // no value: not recorded (one diagnostic)
    const s = await read();
    expect(sampleValue(s, 'sessions_active', { region: 'eu' })).toBe(2 - 1 + 1 - 1);
    expect(sampleValue(s, 'queue_depth', { queue: 'mail' })).toBe(4);
  });

  it('an event declared with no metric goes to the sinks only', async () => {
    const before = audited.length;
    track('audit.only', { who: 'admin' });
    expect(audited.length).toBe(before + 1);
    expect(findSamples(await read(), 'otelkit_events_unmapped_total', { event_name: 'audit.only' })).toEqual([]);
  });
});

describe('unmapped events', () => {
  it('are counted by name and warned about once per name', async () => {
    track('signup.started', { plan: 'pro' });
    track('signup.started');
    track('cart.abandoned');
    const s = await read();
    expect(sampleValue(s, 'otelkit_events_unmapped_total', { event_name: 'signup.started' })).toBe(2);
    expect(sampleValue(s, 'otelkit_events_unmapped_total', { event_name: 'cart.abandoned' })).toBe(1);
    const warnings = stderr.filter((l) => l.includes('no metric is declared'));
    expect(warnings.filter((l) => l.includes('"signup.started"'))).toHaveLength(1);
    expect(warnings.filter((l) => l.includes('"cart.abandoned"'))).toHaveLength(1);
  });

  it('distinct names past the cardinality limit share the overflow series; totals stay exact', async () => {
    for (let i = 0; i < 8; i++) track(`bulk.${i}`);
    const s = await read();
    const series = findSamples(s, 'otelkit_events_unmapped_total');
    expect(series.length).toBeLessThanOrEqual(6);
    const bulk = series.filter((x) => x.labels.event_name?.startsWith('bulk.'));
    const overflow = sampleValue(s, 'otelkit_events_unmapped_total', { otel_metric_overflow: 'true' });
    expect(bulk.reduce((n, x) => n + x.value, 0) + overflow).toBe(8);
  });
});

describe('switches', () => {
  it('a declared module off and on at runtime, with exact counts before and after', async () => {
    const logins = async () => value(await read(), 'logins_total', { method: 'sso' });
    const sessions = async () => value(await read(), 'sessions_active', { region: 'us' });
    track('user.login', { method: 'sso' });
    track('session.change', { region: 'us' }, 1);
    expect(await logins()).toBe(1);
    expect(await sessions()).toBe(1);
    expect(events.isEnabled('auth')).toBe(true);

    events.disable('auth');
    expect(events.isEnabled('auth')).toBe(false);
    expect(events.isEnabled('user.login')).toBe(false);
    expect(events.isEnabled('order.placed')).toBe(true);
    const sunk = audited.length;
    track('user.login', { method: 'sso' });
    track('session.change', { region: 'us' }, 1);
    expect(await logins()).toBe(1);
    expect(await sessions()).toBe(1);
    expect(audited.length).toBe(sunk); // switched off: no audit either

    events.enable('auth');
    track('user.login', { method: 'sso' });
    expect(await logins()).toBe(2);
  });

  it('a prefix, a single event, the global switch, and a per-call switch', async () => {
    const games = async () => value(await read(), 'games_completed_total');
    track('game.completed', { mode: 'solo' });
    expect(await games()).toBe(1);
    events.disable('game.*');
    track('game.completed', { mode: 'solo' });
    expect(await games()).toBe(1);
    events.enable('game.completed'); // the later, more specific rule wins
    track('game.completed', { mode: 'solo' });
    expect(await games()).toBe(2);

    events.disable();
    expect(events.isEnabled()).toBe(false);
    track('game.completed', { mode: 'solo' });
    track('signup.started');
    expect(await games()).toBe(2);
    events.enable();
    expect(events.isEnabled('game.completed')).toBe(true);

    track('game.completed', { mode: 'solo' }, { enabled: false });
    expect(await games()).toBe(2);
    track('game.completed', { mode: 'solo' }, { enabled: true });
    expect(await games()).toBe(3);
  });
});

describe('events.bind()', () => {
  it('records into series found once, follows the switches, and feeds the sinks', async () => {
    const placed = events.bind('order.placed', { market: 'ch', side: 'buy' });
    const sunk = audited.length;
    placed.record(20);
    placed.record(30);
    let s = await read();
    expect(sampleValue(s, 'orders_placed_total', { market: 'ch', side: 'buy' })).toBe(2);
    expect(sampleValue(s, 'orders_amount_sum', { market: 'ch' })).toBe(50);
    expect(audited.slice(sunk).map((e) => [e.name, e.value, e.attributes.market])).toEqual([
      ['order.placed', 20, 'ch'],
      ['order.placed', 30, 'ch'],
    ]);
    events.disable('order');
    placed.record(40);
    events.enable('order');
    placed.record();
    s = await read();
    expect(sampleValue(s, 'orders_placed_total', { market: 'ch', side: 'buy' })).toBe(3);
    // No value for the histogram: counted, not recorded there.
    expect(sampleValue(s, 'orders_amount_count', { market: 'ch' })).toBe(2);
  });
});

describe('sinks', () => {
  it('get every attribute and the time; a failing sink is reported once and never breaks track()', async () => {
    const t0 = Date.now();
    track('user.login', { method: 'password', 'user.id': 'u-42' });
    const last = audited.at(-1)!;
    expect(last).toMatchObject({ name: 'user.login', attributes: { method: 'password', 'user.id': 'u-42' } });
    expect(last.time).toBeGreaterThanOrEqual(t0);

    const throwing = events.addSink(function throwingSink() {
      throw new Error('db down');
    });
    const rejecting = events.addSink(async function rejectingSink() {
      throw new Error('queue full');
    });
    for (let i = 0; i < 3; i++) expect(() => track('user.login', { method: 'sso' })).not.toThrow();
    await sleep(50);
    const lines = (text: string) => stderr.filter((l) => l.includes(text));
    expect(lines('"throwingSink" failed (db down)')).toHaveLength(1);
    expect(lines('"rejectingSink" failed (queue full)')).toHaveLength(1);
    throwing.dispose();
    rejecting.dispose();

    const seen: string[] = [];
    const extra = events.addSink((e) => void seen.push(e.name));
    track('game.completed', { mode: 'duo' });
    extra.dispose();
    track('game.completed', { mode: 'duo' });
    expect(seen).toEqual(['game.completed']);
  });
});

describe('the scrape', () => {
  it('passes promtool check metrics', async () => {
    const result = await promtoolCheckMetrics(await scrape(url));
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
  });
});
