import { setTimeout as sleep } from 'node:timers/promises';
import Bottleneck from 'bottleneck';
import { RateLimiterMemory, RateLimiterQueue, RateLimiterRes } from 'rate-limiter-flexible';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentRateLimiter, register, type OtelkitHandle } from '../src/index.js';
import { promtoolCheckMetrics } from './helpers/prometheus.js';
import { findSamples, parsePrometheus, sampleValue, scrape, type Sample } from './helpers/prom-text.js';

let otel: OtelkitHandle;
let url: string;
const read = async (): Promise<Sample[]> => parsePrometheus(await scrape(url));

const acquisitions = (s: Sample[], name: string) =>
  Object.fromEntries(findSamples(s, 'rate_limiter_acquisitions_total', { rate_limiter_name: name }).map((x) => [x.labels.rate_limiter_result, x.value]));
const waitBucket = (s: Sample[], name: string, le: string) => sampleValue(s, 'rate_limiter_wait_duration_seconds_bucket', { rate_limiter_name: name, le });
const waitCount = (s: Sample[], name: string) => sampleValue(s, 'rate_limiter_wait_duration_seconds_count', { rate_limiter_name: name });
const waitSum = (s: Sample[], name: string) => sampleValue(s, 'rate_limiter_wait_duration_seconds_sum', { rate_limiter_name: name });
const queueLength = (s: Sample[], name: string) => sampleValue(s, 'rate_limiter_queue_length', { rate_limiter_name: name });
const permits = (s: Sample[], name: string) => sampleValue(s, 'rate_limiter_permits_available', { rate_limiter_name: name });

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

  it('minTime 150 ms: three jobs wait ~0, ~0.15, ~0.30 s; queue length while they wait', async () => {
    const limiter = new Bottleneck({ minTime: 150, maxConcurrent: 1 });
    instrumentRateLimiter(limiter, { name: 'spaced' });
    const started: number[] = [];
    const t0 = performance.now();
    const job = async (n: number) => {
      started.push(performance.now() - t0);
      return n;
    };
    const all = Promise.all([limiter.schedule(job, 1), limiter.schedule(job, 2), limiter.wrap(job)(3)]);
    await sleep(60);
    const during = await read();
    expect(queueLength(during, 'spaced')).toBeGreaterThanOrEqual(1);
    expect(await all).toEqual([1, 2, 3]); // results untouched
    const s = await read();
    expect(acquisitions(s, 'spaced')).toEqual({ acquired: 3, rejected: 0 });
    expect(waitCount(s, 'spaced')).toBe(3);
    expect(waitBucket(s, 'spaced', '0.1')).toBe(1); // the first job did not wait
    expect(waitBucket(s, 'spaced', '0.25')).toBe(2); // the second waited ~0.15 s
    expect(waitBucket(s, 'spaced', '0.5')).toBe(3); // the third ~0.30 s
    // The recorded waits match when the jobs actually started.
    const expected = started.reduce((a, b) => a + b, 0) / 1000;
    expect(waitSum(s, 'spaced')).toBeGreaterThan(0.4);
    expect(Math.abs(waitSum(s, 'spaced') - expected)).toBeLessThan(0.03);
    expect(queueLength(s, 'spaced')).toBe(0);
  });

  it('highWater + OVERFLOW: dropped jobs are rejections', async () => {
    const limiter = new Bottleneck({ maxConcurrent: 1, highWater: 1, strategy: Bottleneck.strategy.OVERFLOW });
    instrumentRateLimiter(limiter, { name: 'overflow' });
    const slow = () => sleep(80).then(() => 'ok');
    const results = await Promise.allSettled([limiter.schedule(slow), limiter.schedule(slow), limiter.schedule(slow), limiter.schedule(slow)]);
    const rejectedJobs = results.filter((r) => r.status === 'rejected').length;
    expect(rejectedJobs).toBeGreaterThan(0);
    const s = await read();
    expect(acquisitions(s, 'overflow')).toEqual({ acquired: 4 - rejectedJobs, rejected: rejectedJobs });
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
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map(() => limiter.consume('user-1')));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    const rejection = (results[3] as PromiseRejectedResult).reason;
    expect(rejection).toBeInstanceOf(RateLimiterRes); // the library's own rejection value, untouched
    const s = await read();
    expect(acquisitions(s, 'rlf')).toEqual({ acquired: 3, rejected: 2 });
    expect(waitCount(s, 'rlf')).toBe(3);
    expect(waitBucket(s, 'rlf', '0.1')).toBe(3); // memory store: no real wait (the queued cases below wait >= 0.15 s); 0.1 s leaves room for a loaded CI machine
    expect(permits(s, 'rlf')).toBe(0);
  });

  it('RateLimiterQueue, 2 tokens per second: the third call waits ~1 s, the fourth overflows the queue', async () => {
    const limiter = new RateLimiterMemory({ points: 2, duration: 1 });
    const queue = new RateLimiterQueue(limiter, { maxQueueSize: 1 });
    instrumentRateLimiter(queue, { name: 'queue' });
    const calls = [queue.removeTokens(1), queue.removeTokens(1), queue.removeTokens(1)];
    await sleep(30);
    const fourth = queue.removeTokens(1);
    await expect(fourth).rejects.toThrow(/maximum/);
    let s = await read();
    expect(queueLength(s, 'queue')).toBe(1);
    expect(acquisitions(s, 'queue')).toEqual({ acquired: 2, rejected: 1 });
    expect(await Promise.all(calls)).toHaveLength(3);
    s = await read();
    expect(acquisitions(s, 'queue')).toEqual({ acquired: 3, rejected: 1 });
    expect(waitBucket(s, 'queue', '0.1')).toBe(2);
    expect(waitBucket(s, 'queue', '0.5')).toBe(2);
    expect(waitBucket(s, 'queue', '2.5')).toBe(3);
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
    await expect(limiter.acquire(120)).resolves.toBe('permit');
    await expect(limiter.acquire(0)).rejects.toThrow('no tokens');
    const s = await read();
    expect(acquisitions(s, 'generic')).toEqual({ acquired: 1, rejected: 1 });
    expect(waitBucket(s, 'generic', '0.1')).toBe(0);
    expect(waitBucket(s, 'generic', '0.25')).toBe(1);
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
    await expect(limiter.schedule(async (a, b) => `${a}${b}`, 'x', 'y')).resolves.toBe('xy');
    const s = await read();
    expect(acquisitions(s, 'sched')).toEqual({ acquired: 1, rejected: 0 });
    expect(waitBucket(s, 'sched', '0.075')).toBe(0);
    expect(waitBucket(s, 'sched', '0.25')).toBe(1);
  });

  it('a function limiter (p-limit style): the handle gives an instrumented stand-in with the same properties', async () => {
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
            fn(...args).then(resolve, reject).finally(() => {
              active--;
              next();
            });
          });
          queueMicrotask(next);
        }),
      { pendingCount: { get: () => queue.length } },
    ) as (<T>(fn: (...a: unknown[]) => Promise<T>, ...args: unknown[]) => Promise<T>) & { readonly pendingCount: number };
    const handle = instrumentRateLimiter(limit, { name: 'plimit' });
    const limited = handle.limiter;
    expect(limited).not.toBe(limit);
    const job = (ms: number) => () => sleep(ms).then(() => ms);
    const all = Promise.all([limited(job(120)), limited(job(10)), limited(job(10))]);
    await sleep(40);
    expect(limited.pendingCount).toBe(2);
    expect(queueLength(await read(), 'plimit')).toBe(2);
    expect(await all).toEqual([120, 10, 10]);
    const s = await read();
    expect(acquisitions(s, 'plimit')).toEqual({ acquired: 3, rejected: 0 });
    expect(waitBucket(s, 'plimit', '0.075')).toBe(1); // the first started at once, the others after ~0.12 s
    expect(waitBucket(s, 'plimit', '0.25')).toBe(3);
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
