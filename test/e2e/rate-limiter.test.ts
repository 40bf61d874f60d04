import { setTimeout as sleep } from 'node:timers/promises';
import Bottleneck from 'bottleneck';
import { RateLimiterMemory, RateLimiterQueue, RateLimiterRes } from 'rate-limiter-flexible';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentRateLimiter, register, type OtelkitHandle } from '../../index.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';
import { findSamples, parsePrometheus, sampleValue, scrape, type Sample } from '../helpers/prom-text.js';

let otel: OtelkitHandle;
let url: string;
const read = async (): Promise<Sample[]> => parsePrometheus(await scrape(url));

const acquisitions = (s: Sample[], name: string) =>
  Object.fromEntries(
    findSamples(s, 'rate_limiter_acquisitions_total', { rate_limiter_name: name }).map((x) => [
      x.labels.rate_limiter_result,
      x.value,
    ]),
  );
const waitBucket = (s: Sample[], name: string, le: string) =>
  sampleValue(s, 'rate_limiter_wait_duration_seconds_bucket', { rate_limiter_name: name, le });
const waitCount = (s: Sample[], name: string) =>
  sampleValue(s, 'rate_limiter_wait_duration_seconds_count', { rate_limiter_name: name });
const waitSum = (s: Sample[], name: string) =>
  sampleValue(s, 'rate_limiter_wait_duration_seconds_sum', { rate_limiter_name: name });
const queueLength = (s: Sample[], name: string) =>
  sampleValue(s, 'rate_limiter_queue_length', { rate_limiter_name: name });
const permits = (s: Sample[], name: string) =>
  sampleValue(s, 'rate_limiter_permits_available', { rate_limiter_name: name });

/** Seconds since `t0` on the clock the instrumentation uses. */
const since = (t0: number) => (performance.now() - t0) / 1000;

/**
 * What a wait histogram can be held to on any machine: each recorded wait lies
 * between a floor the limiter guarantees (`min`) and the span the test observed
 * around the call (`max`: it started the clock before the call and read it once
 * the call was let through). Load only makes waits longer, so both bounds hold
 * however busy the machine is; on an idle one they are tight.
 */
function expectWaits(s: Sample[], name: string, waits: { min: number; max: number }[]): void {
  expect(waitCount(s, name)).toBe(waits.length);
  const buckets = findSamples(s, 'rate_limiter_wait_duration_seconds_bucket', { rate_limiter_name: name });
  expect(buckets.length).toBeGreaterThan(1);
  for (const bucket of buckets) {
    const le = bucket.labels.le === '+Inf' ? Infinity : Number(bucket.labels.le);
    expect(bucket.value, `le=${bucket.labels.le}`).toBeGreaterThanOrEqual(waits.filter((w) => w.max <= le).length);
    expect(bucket.value, `le=${bucket.labels.le}`).toBeLessThanOrEqual(waits.filter((w) => w.min <= le).length);
  }
  const total = (k: 'min' | 'max') => waits.reduce((a, w) => a + w[k], 0);
  expect(waitSum(s, name)).toBeGreaterThanOrEqual(total('min'));
  expect(waitSum(s, name)).toBeLessThanOrEqual(total('max') + 1e-6);
}

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

// Instrumented before register(): reports once registered.
const early = new Bottleneck({ maxConcurrent: 1 });
instrumentRateLimiter(early, { name: 'early' });

beforeAll(async () => {
  otel = register({ prometheus: { host: '127.0.0.1', port: 0 }, instrumentations: [], serviceName: 'limiter-test' });
  url = (await otel.ready)!.url;
});
afterAll(() => otel.shutdown());

describe('instrumentRateLimiter: bottleneck', () => {
  it('reports a limiter instrumented before register()', async () => {
    await early.schedule(async () => 1);
    const s = await read();
    expect(acquisitions(s, 'early')).toEqual({ acquired: 1, rejected: 0 });
    expect(waitCount(s, 'early')).toBe(1);
  });

  it('minTime 150 ms: the second job waits at least 0.15 s, the third 0.30 s; queue while the first runs', async () => {
    const limiter = new Bottleneck({ minTime: 150, maxConcurrent: 1 });
    instrumentRateLimiter(limiter, { name: 'spaced' });
    const firstRunning = gate();
    const release = gate();
    const allQueued = gate();
    let queuedEvents = 0;
    limiter.on('queued', () => ++queuedEvents === 3 && allQueued.open());
    const started: number[] = [];
    const t0 = performance.now();
    const job = async (n: number) => {
      started.push(since(t0));
      if (n === 1) {
        firstRunning.open();
        await release.opened;
      }
      return n;
    };
    const all = Promise.all([limiter.schedule(job, 1), limiter.schedule(job, 2), limiter.wrap(job)(3)]);
    // The first job holds the only slot until released: the other two stay queued, however long the scrape takes.
    await Promise.all([firstRunning.opened, allQueued.opened]);
    expect(limiter.queued()).toBe(2);
    expect(queueLength(await read(), 'spaced')).toBe(2);
    release.open();
    expect(await all).toEqual([1, 2, 3]); // results untouched
    const s = await read();
    expect(acquisitions(s, 'spaced')).toEqual({ acquired: 3, rejected: 0 });
    // All three are received at once; bottleneck starts them minTime apart (a millisecond of clock rounding allowed).
    expectWaits(s, 'spaced', [
      { min: 0, max: started[0]! },
      { min: 0.14, max: started[1]! },
      { min: 0.29, max: started[2]! },
    ]);
    expect(waitBucket(s, 'spaced', '0.1')).toBeLessThanOrEqual(1);
    expect(waitBucket(s, 'spaced', '0.25')).toBeLessThanOrEqual(2);
    expect(queueLength(s, 'spaced')).toBe(0);
  });

  it('highWater + OVERFLOW: dropped jobs are rejections', async () => {
    const limiter = new Bottleneck({ maxConcurrent: 1, highWater: 1, strategy: Bottleneck.strategy.OVERFLOW });
    instrumentRateLimiter(limiter, { name: 'overflow' });
    // The first job runs until both extra jobs were dropped: one waits in the queue (the high-water mark),
    // two overflow.
    const twoDropped = gate();
    let dropped = 0;
    limiter.on('dropped', () => ++dropped === 2 && twoDropped.open());
    const held = () => twoDropped.opened.then(() => 'ok');
    const quick = async () => 'ok';
    const results = await Promise.allSettled([
      limiter.schedule(held),
      limiter.schedule(quick),
      limiter.schedule(quick),
      limiter.schedule(quick),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
    const s = await read();
    expect(acquisitions(s, 'overflow')).toEqual({ acquired: 2, rejected: 2 });
  });

  it('reservoir: available permits', async () => {
    const limiter = new Bottleneck({ reservoir: 5 });
    instrumentRateLimiter(limiter, { name: 'reservoir' });
    await limiter.schedule(async () => 1);
    await limiter.schedule(async () => 2);
    expect(permits(await read(), 'reservoir')).toBe(3);
  });
});

describe('instrumentRateLimiter: rate-limiter-flexible', () => {
  it('3 points per 10 s: 5 consumes are 3 acquired and 2 rejected; remaining points', async () => {
    const limiter = new RateLimiterMemory({ points: 3, duration: 10 });
    instrumentRateLimiter(limiter, { name: 'rlf' });
    const t0 = performance.now();
    const settled: number[] = [];
    const results = await Promise.allSettled(
      [1, 2, 3, 4, 5].map((i) => limiter.consume('user-1').finally(() => (settled[i - 1] = since(t0)))),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    const rejection = (results[3] as PromiseRejectedResult).reason;
    expect(rejection).toBeInstanceOf(RateLimiterRes); // the library's own rejection value, untouched
    const s = await read();
    expect(acquisitions(s, 'rlf')).toEqual({ acquired: 3, rejected: 2 });
    // Memory store: no wait of its own; each recorded wait is within what the test saw.
    expectWaits(
      s,
      'rlf',
      settled.slice(0, 3).map((max) => ({ min: 0, max })),
    );
    expect(permits(s, 'rlf')).toBe(0);
  });

  it('RateLimiterQueue, 2 tokens/min: call 3 waits in the queue until let through, call 4 overflows it', async () => {
    const limiter = new RateLimiterMemory({ points: 2, duration: 60 });
    const queue = new RateLimiterQueue(limiter, { maxQueueSize: 1 });
    instrumentRateLimiter(queue, { name: 'queue' });
    const t0 = performance.now();
    const settled: number[] = [];
    const calls = [0, 1, 2].map((i) => queue.removeTokens(1).then((left) => ((settled[i] = since(t0)), left)));
    const called = since(t0);
    // Issued at once: the third is in the queue (for a minute) by the time the fourth finds it full.
    await expect(queue.removeTokens(1)).rejects.toThrow(/maximum/);
    let s = await read();
    expect(queueLength(s, 'queue')).toBe(1);
    expect(acquisitions(s, 'queue')).toEqual({ acquired: 2, rejected: 1 });
    // Let the third through now rather than in a minute: a fresh window, then the queue's own processing
    // step, which its timer would have run (the library has no public call for it).
    await limiter.delete('limiter');
    const released = since(t0);
    (
      queue as unknown as { _queueLimiters: { limiter: { _processFIFO(): void } } }
    )._queueLimiters.limiter._processFIFO();
    expect(await Promise.all(calls)).toEqual([1, 0, 1]);
    s = await read();
    expect(acquisitions(s, 'queue')).toEqual({ acquired: 3, rejected: 1 });
    expectWaits(s, 'queue', [
      { min: 0, max: settled[0]! },
      { min: 0, max: settled[1]! },
      { min: released - called, max: settled[2]! },
    ]);
    expect(queueLength(s, 'queue')).toBe(0);
    expect(permits(s, 'queue')).toBe(1);
  });
});

describe('instrumentRateLimiter: generic', () => {
  it('acquire-style: the wait is until the promise resolves; a rejection is rejected', async () => {
    let tokens = 1;
    const limiter = {
      async acquire(ms: number) {
        if (tokens-- <= 0) throw new Error('no tokens');
        await sleep(ms);
        return 'permit';
      },
    };
    instrumentRateLimiter(limiter, { name: 'generic', queueLength: () => 7 });
    const t0 = performance.now();
    await expect(limiter.acquire(120)).resolves.toBe('permit');
    const waited = since(t0);
    await expect(limiter.acquire(0)).rejects.toThrow('no tokens');
    const s = await read();
    expect(acquisitions(s, 'generic')).toEqual({ acquired: 1, rejected: 1 });
    expectWaits(s, 'generic', [{ min: 0.11, max: waited }]); // the 120 ms sleep, less a millisecond of timer rounding
    expect(waitBucket(s, 'generic', '0.1')).toBe(0);
    expect(queueLength(s, 'generic')).toBe(7);
  });

  it('schedule-style: the wait ends when the task starts, the task keeps its arguments and result', async () => {
    const limiter = {
      async schedule<T>(fn: (...a: unknown[]) => Promise<T>, ...args: unknown[]): Promise<T> {
        await sleep(100);
        return fn(...args);
      },
    };
    instrumentRateLimiter(limiter, { name: 'sched' });
    const t0 = performance.now();
    let startedAt = 0;
    await expect(limiter.schedule(async (a, b) => ((startedAt = since(t0)), `${a}${b}`), 'x', 'y')).resolves.toBe('xy');
    const s = await read();
    expect(acquisitions(s, 'sched')).toEqual({ acquired: 1, rejected: 0 });
    expectWaits(s, 'sched', [{ min: 0.09, max: startedAt }]); // the limiter's 100 ms, then the task
    expect(waitBucket(s, 'sched', '0.075')).toBe(0);
  });

  it('function limiter (p-limit style): handle gives an instrumented stand-in with the same properties', async () => {
    // A concurrency-1 limit(fn, ...args) with p-limit's shape.
    const queue: (() => void)[] = [];
    let active = 0;
    const next = () => {
      if (active === 0 && queue.length) queue.shift()!();
    };
    const limit = Object.defineProperties(
      <T>(fn: (...a: unknown[]) => Promise<T>, ...args: unknown[]): Promise<T> =>
        new Promise<T>((resolve, reject) => {
          queue.push(() => {
            active++;
            fn(...args)
              .then(resolve, reject)
              .finally(() => {
                active--;
                next();
              });
          });
          queueMicrotask(next);
        }),
      { pendingCount: { get: () => queue.length } },
    ) as (<T>(fn: (...a: unknown[]) => Promise<T>, ...args: unknown[]) => Promise<T>) & {
      readonly pendingCount: number;
    };
    const handle = instrumentRateLimiter(limit, { name: 'plimit' });
    const limited = handle.limiter;
    expect(limited).not.toBe(limit);
    // The first job holds the only slot until the test has looked at the queue and 120 ms have passed.
    const firstRunning = gate();
    const release = gate();
    const started: number[] = [];
    const t0 = performance.now();
    const first = () => ((started[0] = since(t0)), firstRunning.open(), release.opened.then(() => 120));
    const job = (i: number) => async () => ((started[i] = since(t0)), 10);
    const all = Promise.all([limited(first), limited(job(1)), limited(job(2))]);
    const called = since(t0);
    await firstRunning.opened;
    expect(limited.pendingCount).toBe(2);
    expect(queueLength(await read(), 'plimit')).toBe(2);
    await sleep(Math.max(0, 121 - (since(t0) - called) * 1000));
    const released = since(t0);
    release.open();
    expect(await all).toEqual([120, 10, 10]);
    const s = await read();
    expect(acquisitions(s, 'plimit')).toEqual({ acquired: 3, rejected: 0 });
    // The first started at once; the others not before it returned.
    expectWaits(s, 'plimit', [
      { min: 0, max: started[0]! },
      { min: released - called, max: started[1]! },
      { min: released - called, max: started[2]! },
    ]);
    expect(waitBucket(s, 'plimit', '0.075')).toBeLessThanOrEqual(1);
    expect(instrumentRateLimiter(limit, { name: 'plimit' }).limiter).toBe(limited);
    handle.dispose();
    await limited(job(1));
    expect(acquisitions(await read(), 'plimit')).toEqual({ acquired: 3, rejected: 0 });
  });

  it('a hook failing midway undoes the hooks already installed and gives a no-op', () => {
    const listeners = new Map<string, unknown>();
    const broken = {
      schedule() {},
      submit() {},
      counts() {},
      currentReservoir() {},
      on(event: string, l: unknown) {
        if (event === 'executing') throw new Error('no such event');
        listeners.set(event, l);
      },
      off(event: string) {
        listeners.delete(event);
      },
    };
    const handle = instrumentRateLimiter(broken, { name: 'broken' });
    expect(handle.limiter).toBe(broken);
    expect([...listeners.keys()]).toEqual([]);
  });

  it('same limiter twice counts once; dispose() restores the method', async () => {
    const limiter = { acquire: async () => true };
    const original = limiter.acquire;
    const first = instrumentRateLimiter(limiter, { name: 'dup' });
    expect(instrumentRateLimiter(limiter, { name: 'dup' })).toBe(first);
    await limiter.acquire();
    expect(acquisitions(await read(), 'dup')).toEqual({ acquired: 1, rejected: 0 });
    first.dispose();
    expect(limiter.acquire).toBe(original);
    await limiter.acquire();
    expect(acquisitions(await read(), 'dup')).toEqual({ acquired: 1, rejected: 0 });
  });
});

describe('exposition', () => {
  it('everything scraped so far passes promtool check metrics', async () => {
    const result = await promtoolCheckMetrics(await scrape(url));
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
  });
});
