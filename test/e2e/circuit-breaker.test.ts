import { setTimeout as sleep } from 'node:timers/promises';
import {
  circuitBreaker,
  ConsecutiveBreaker,
  handleAll,
  timeout,
  TimeoutStrategy,
  wrap,
  BrokenCircuitError,
} from 'cockatiel';
import CircuitBreaker from 'opossum';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { instrumentCircuitBreaker, register, type OtelkitHandle } from '../../index.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';
import { findSamples, parsePrometheus, sampleValue, scrape, type Sample } from '../helpers/prom-text.js';

let otel: OtelkitHandle;
let url: string;
const read = async (): Promise<Sample[]> => parsePrometheus(await scrape(url));
/** A scrape on a connection of its own: under a fake clock the client cannot tell when a kept-alive one expires. */
const readFresh = async (): Promise<Sample[]> =>
  parsePrometheus(await (await fetch(url, { headers: { connection: 'close' } })).text());

const state = (s: Sample[], name: string) => sampleValue(s, 'circuit_breaker_state', { circuit_breaker_name: name });
const current = (s: Sample[], name: string) =>
  Object.fromEntries(
    findSamples(s, 'circuit_breaker_state_current', { circuit_breaker_name: name }).map((x) => [
      x.labels.circuit_breaker_state,
      x.value,
    ]),
  );
const calls = (s: Sample[], name: string) =>
  Object.fromEntries(
    findSamples(s, 'circuit_breaker_calls_total', { circuit_breaker_name: name }).map((x) => [
      x.labels.circuit_breaker_call_outcome,
      x.value,
    ]),
  );
const transitions = (s: Sample[], name: string) =>
  Object.fromEntries(
    findSamples(s, 'circuit_breaker_transitions_total', { circuit_breaker_name: name }).map((x) => [
      `${x.labels.circuit_breaker_from_state}>${x.labels.circuit_breaker_to_state}`,
      x.value,
    ]),
  );
const durationCount = (s: Sample[], name: string) =>
  sampleValue(s, 'circuit_breaker_call_duration_seconds_count', { circuit_breaker_name: name });

// Instrumented before register(): reports once registered.
const earlyBreaker = new CircuitBreaker(async () => 'ok', { resetTimeout: 1000 });
instrumentCircuitBreaker(earlyBreaker, { name: 'early' });

beforeAll(async () => {
  otel = register({ prometheus: { host: '127.0.0.1', port: 0 }, instrumentations: [], serviceName: 'breaker-test' });
  url = (await otel.ready)!.url;
});
afterAll(async () => {
  earlyBreaker.shutdown();
  await otel.shutdown();
});

const action = async (mode: 'ok' | 'fail' | 'slow') => {
  if (mode === 'fail') throw new Error('downstream failed');
  if (mode === 'slow') await sleep(150);
  return `done:${mode}`;
};

describe('instrumentCircuitBreaker: opossum', () => {
  it('reports a breaker instrumented before register()', async () => {
    await earlyBreaker.fire();
    const s = await read();
    expect(state(s, 'early')).toBe(0);
    expect(calls(s, 'early').success).toBe(1);
  });

  it('open on failures, rejects, half-open after resetTimeout, closed on success: states and transitions', async () => {
    // opossum's clock is faked: the breaker stays open until the test moves time past resetTimeout,
    // however long the scrapes in between take.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const breaker = new CircuitBreaker(action, {
      resetTimeout: 150,
      errorThresholdPercentage: 50,
      volumeThreshold: 3,
      timeout: false,
    });
    try {
      instrumentCircuitBreaker(breaker, { name: 'db' });
      let s = await readFresh();
      expect(state(s, 'db')).toBe(0);
      expect(current(s, 'db')).toEqual({ closed: 1, open: 0, half_open: 0 });
      expect(transitions(s, 'db')).toEqual({});

      await expect(breaker.fire('ok')).resolves.toBe('done:ok');
      await expect(breaker.fire('fail')).rejects.toThrow('downstream failed');
      expect(breaker.opened).toBe(false); // volume 2 < 3
      await expect(breaker.fire('fail')).rejects.toThrow('downstream failed');
      expect(breaker.opened).toBe(true);
      s = await readFresh();
      expect(state(s, 'db')).toBe(1);
      expect(current(s, 'db')).toEqual({ closed: 0, open: 1, half_open: 0 });
      expect(transitions(s, 'db')).toEqual({ 'closed>open': 1 });

      await expect(breaker.fire('ok')).rejects.toThrow('Breaker is open');
      await expect(breaker.fire('ok')).rejects.toThrow('Breaker is open');
      s = await readFresh();
      expect(calls(s, 'db')).toEqual({ success: 1, failure: 2, timeout: 0, rejected: 2, fallback: 0 });

      expect(breaker.opened).toBe(true);
      await vi.advanceTimersByTimeAsync(250); // resetTimeout elapses: opossum goes half-open on its timer
      expect(breaker.halfOpen).toBe(true);
      s = await readFresh();
      expect(state(s, 'db')).toBe(0.5);
      expect(current(s, 'db')).toEqual({ closed: 0, open: 0, half_open: 1 });
      expect(transitions(s, 'db')).toEqual({ 'closed>open': 1, 'open>half_open': 1 });

      await expect(breaker.fire('ok')).resolves.toBe('done:ok');
      s = await readFresh();
      expect(state(s, 'db')).toBe(0);
      expect(current(s, 'db')).toEqual({ closed: 1, open: 0, half_open: 0 });
      expect(transitions(s, 'db')).toEqual({ 'closed>open': 1, 'open>half_open': 1, 'half_open>closed': 1 });
      expect(calls(s, 'db')).toEqual({ success: 2, failure: 2, timeout: 0, rejected: 2, fallback: 0 });
      // Durations are recorded for the calls that ran (2 successes + 2 failures), not rejections.
      expect(durationCount(s, 'db')).toBe(4);
    } finally {
      breaker.shutdown();
      vi.useRealTimers();
    }
  });

  it('timeouts count as timeout (not also failure); fallbacks are counted', async () => {
    const breaker = new CircuitBreaker(action, { timeout: 50, resetTimeout: 10_000, volumeThreshold: 100 });
    breaker.fallback(() => 'fallback-value');
    try {
      instrumentCircuitBreaker(breaker, { name: 'slow' });
      const t0 = performance.now();
      await expect(breaker.fire('slow')).resolves.toBe('fallback-value');
      await expect(breaker.fire('fail')).resolves.toBe('fallback-value');
      const elapsed = (performance.now() - t0) / 1000;
      const s = await read();
      expect(calls(s, 'slow')).toEqual({ success: 0, failure: 1, timeout: 1, rejected: 0, fallback: 2 });
      expect(durationCount(s, 'slow')).toBe(2);
      const sum = sampleValue(s, 'circuit_breaker_call_duration_seconds_sum', { circuit_breaker_name: 'slow' });
      expect(sum).toBeGreaterThanOrEqual(0.045); // the 50 ms timeout, in seconds
      // both calls, within the time the test saw them take (ms rounding)
      expect(sum).toBeLessThanOrEqual(elapsed + 0.002);
    } finally {
      breaker.shutdown();
    }
  });

  it('same breaker twice counts once; dispose() removes the listeners and freezes the series', async () => {
    const breaker = new CircuitBreaker(action, { resetTimeout: 10_000 });
    try {
      const listeners = breaker.listenerCount('success');
      const first = instrumentCircuitBreaker(breaker, { name: 'dup' });
      expect(instrumentCircuitBreaker(breaker, { name: 'dup' })).toBe(first);
      expect(breaker.listenerCount('success')).toBe(listeners + 1);
      await breaker.fire('ok');
      expect(calls(await read(), 'dup').success).toBe(1);
      first.dispose();
      expect(breaker.listenerCount('success')).toBe(listeners);
      await breaker.fire('ok');
      expect(calls(await read(), 'dup').success).toBe(1);
    } finally {
      breaker.shutdown();
    }
  });
});

describe('instrumentCircuitBreaker: cockatiel', () => {
  it('open after consecutive failures, rejects, half-open after halfOpenAfter, closed on success', async () => {
    // cockatiel reads Date.now(): faked, the breaker stays open until the test moves time past halfOpenAfter.
    vi.useFakeTimers({ toFake: ['Date'] });
    onTestFinished(() => void vi.useRealTimers());
    const policy = circuitBreaker(handleAll, { halfOpenAfter: 150, breaker: new ConsecutiveBreaker(2) });
    instrumentCircuitBreaker(policy, { name: 'api' });
    await expect(policy.execute(() => action('ok'))).resolves.toBe('done:ok');
    await expect(policy.execute(() => action('fail'))).rejects.toThrow('downstream failed');
    let s = await readFresh();
    expect(state(s, 'api')).toBe(0);
    await expect(policy.execute(() => action('fail'))).rejects.toThrow('downstream failed');
    s = await readFresh();
    expect(state(s, 'api')).toBe(1);
    expect(current(s, 'api')).toEqual({ closed: 0, open: 1, half_open: 0 });
    expect(transitions(s, 'api')).toEqual({ 'closed>open': 1 });

    await expect(policy.execute(() => action('ok'))).rejects.toBeInstanceOf(BrokenCircuitError);
    s = await readFresh();
    expect(calls(s, 'api')).toEqual({ success: 1, failure: 2, timeout: 0, rejected: 1, fallback: 0 });

    vi.advanceTimersByTime(200);
    // cockatiel moves to half-open lazily, on the first call after halfOpenAfter.
    let seenHalfOpen: number | undefined;
    const result = policy.execute(async () => {
      seenHalfOpen = state(await readFresh(), 'api');
      return action('ok');
    });
    await expect(result).resolves.toBe('done:ok');
    expect(seenHalfOpen).toBe(0.5);
    s = await readFresh();
    expect(state(s, 'api')).toBe(0);
    expect(transitions(s, 'api')).toEqual({ 'closed>open': 1, 'open>half_open': 1, 'half_open>closed': 1 });
    expect(calls(s, 'api')).toEqual({ success: 2, failure: 2, timeout: 0, rejected: 1, fallback: 0 });
    expect(durationCount(s, 'api')).toBe(4);
  });

  it('a timeout inside the breaker is a timeout outcome', async () => {
    const breaker = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
    const policy = wrap(breaker, timeout(30, TimeoutStrategy.Aggressive));
    instrumentCircuitBreaker(breaker, { name: 'cockatiel-timeout' });
    await expect(policy.execute(() => action('slow'))).rejects.toThrow();
    const s = await read();
    expect(calls(s, 'cockatiel-timeout')).toEqual({ success: 0, failure: 0, timeout: 1, rejected: 0, fallback: 0 });
  });
});

describe('instrumentCircuitBreaker: generic', () => {
  it('reports what the handle is told', async () => {
    const mine = {};
    const h = instrumentCircuitBreaker(mine, { name: 'custom' });
    h.recordCall('success', 0.02);
    h.recordCall('failure', 0.3);
    h.transition('open');
    h.transition('open'); // no change, no transition
    h.recordCall('rejected');
    h.transition('half_open');
    const s = await read();
    expect(state(s, 'custom')).toBe(0.5);
    expect(transitions(s, 'custom')).toEqual({ 'closed>open': 1, 'open>half_open': 1 });
    expect(calls(s, 'custom')).toEqual({ success: 1, failure: 1, timeout: 0, rejected: 1, fallback: 0 });
    expect(durationCount(s, 'custom')).toBe(2);
    expect(
      sampleValue(s, 'circuit_breaker_call_duration_seconds_bucket', { circuit_breaker_name: 'custom', le: '0.025' }),
    ).toBe(1);
    expect(
      sampleValue(s, 'circuit_breaker_call_duration_seconds_bucket', { circuit_breaker_name: 'custom', le: '0.5' }),
    ).toBe(2);
    h.dispose();
    h.recordCall('success', 0.1); // ignored after dispose()
    h.transition('closed');
    const again = instrumentCircuitBreaker(mine, { name: 'custom' });
    const after = await read();
    expect(calls(after, 'custom').success).toBe(1);
    expect(state(after, 'custom')).toBe(0.5);
    again.dispose();
  });
});

describe('exposition', () => {
  it('everything scraped so far passes promtool check metrics', async () => {
    const result = await promtoolCheckMetrics(await scrape(url));
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
  });
});
