import { setTimeout as sleep } from 'node:timers/promises';
import { createCache } from 'cache-manager';
import Keyv from 'keyv';
import { LRUCache } from 'lru-cache';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentCache, lruCacheDispose, register, type OtelkitHandle } from '../../index.js';
import { otelkitState } from '../../src/state.js';
import { noopInstrumentation } from '../../src/instrumentation.js';
import { promtoolCheckMetrics } from '../helpers/prometheus.js';
import { findSamples, parsePrometheus, sampleValue, scrape, type Sample } from '../helpers/prom-text.js';

let otel: OtelkitHandle;
let url: string;
const read = async (): Promise<Sample[]> => parsePrometheus(await scrape(url));
const gets = (s: Sample[], name: string, result: string) =>
  sampleValue(s, 'cache_gets_total', { cache_name: name, cache_result: result });
const one = (s: Sample[], metric: string, name: string, extra: Record<string, string> = {}) =>
  sampleValue(s, metric, { cache_name: name, ...extra });

// Instrumented before register(): must report once otelkit is registered.
const early = new Map<string, number>();
instrumentCache(early, { name: 'early' });
early.get('a');
early.set('a', 1);
early.get('a');

beforeAll(async () => {
  otel = register({ prometheus: { host: '127.0.0.1', port: 0 }, instrumentations: [], serviceName: 'cache-test' });
  url = (await otel.ready)!.url;
});
afterAll(() => otel.shutdown());

describe('instrumentCache', () => {
  it('reports a cache instrumented before register()', async () => {
    const s = await read();
    expect(gets(s, 'early', 'hit')).toBe(1);
    expect(gets(s, 'early', 'miss')).toBe(1);
    expect(one(s, 'cache_puts_total', 'early')).toBe(1);
    expect(one(s, 'cache_size', 'early')).toBe(1);
  });

  it('Map: exact gets/puts/deletes/size/hit ratio, behaviour unchanged', async () => {
    const map = new Map<string, number>();
    const handle = instrumentCache(map, { name: 'map' });
    expect(map.get('x')).toBeUndefined(); // miss
    expect(map.set('x', 1)).toBe(map); // returns the map itself
    map.set('y', 2);
    expect(map.get('x')).toBe(1); // hit
    expect(map.get('y')).toBe(2); // hit
    expect(map.get('z')).toBeUndefined(); // miss
    expect(map.delete('y')).toBe(true);
    expect(map.delete('nope')).toBe(false); // not counted: nothing removed
    expect([...map.keys()]).toEqual(['x']);
    expect(Object.keys(map)).toEqual([]); // wrappers are non-enumerable
    const s = await read();
    expect(gets(s, 'map', 'hit')).toBe(2);
    expect(gets(s, 'map', 'miss')).toBe(2);
    expect(one(s, 'cache_puts_total', 'map')).toBe(2);
    expect(one(s, 'cache_deletes_total', 'map')).toBe(1);
    expect(one(s, 'cache_size', 'map')).toBe(1);
    expect(one(s, 'cache_hit_ratio', 'map')).toBe(0.5);
    expect(findSamples(s, 'cache_max_size', { cache_name: 'map' })).toHaveLength(0);
    handle.dispose();
  });

  it('lru-cache: hits, misses, LRU evictions with their reason, size and max', async () => {
    const disposed: [unknown, unknown, string][] = [];
    const cache = new LRUCache<string, string>({
      max: 3,
      dispose: lruCacheDispose((value, key, reason) => disposed.push([value, key, reason])),
    });
    instrumentCache(cache, { name: 'lru' });
    cache.set('a', 'A');
    cache.set('b', 'B');
    cache.set('c', 'C');
    expect(cache.get('a')).toBe('A'); // hit; a is now most recent, b is LRU
    cache.set('d', 'D'); // evicts b (reason evict)
    cache.set('e', 'E'); // evicts c (reason evict)
    expect(cache.get('b')).toBeUndefined(); // miss
    expect(cache.get('c')).toBeUndefined(); // miss
    cache.set('a', 'A2'); // replaces a (reason set)
    expect(cache.delete('d')).toBe(true); // explicit: a delete, not an eviction
    expect(cache.get('e')).toBe('E'); // hit
    // The user's own dispose still sees everything, with the same arguments.
    expect(disposed).toEqual([
      ['B', 'b', 'evict'],
      ['C', 'c', 'evict'],
      ['A', 'a', 'set'],
      ['D', 'd', 'delete'],
    ]);
    const s = await read();
    expect(gets(s, 'lru', 'hit')).toBe(2);
    expect(gets(s, 'lru', 'miss')).toBe(2);
    expect(one(s, 'cache_puts_total', 'lru')).toBe(6);
    expect(one(s, 'cache_deletes_total', 'lru')).toBe(1);
    expect(one(s, 'cache_evictions_total', 'lru', { cache_eviction_reason: 'evict' })).toBe(2);
    expect(one(s, 'cache_evictions_total', 'lru', { cache_eviction_reason: 'set' })).toBe(1);
    expect(one(s, 'cache_evictions_total', 'lru', { cache_eviction_reason: 'expire' })).toBe(0);
    expect(
      findSamples(s, 'cache_evictions_total', { cache_name: 'lru', cache_eviction_reason: 'delete' }),
    ).toHaveLength(0);
    expect(one(s, 'cache_size', 'lru')).toBe(2);
    expect(one(s, 'cache_max_size', 'lru')).toBe(3);
  });

  it('lru-cache: dispose() stops eviction counting; the user dispose keeps running', async () => {
    let userDisposed = 0;
    const cache = new LRUCache<string, number>({ max: 1, dispose: lruCacheDispose(() => void userDisposed++) });
    const handle = instrumentCache(cache, { name: 'lru-disposed' });
    cache.set('a', 1);
    cache.set('b', 2); // evicts a
    expect(one(await read(), 'cache_evictions_total', 'lru-disposed', { cache_eviction_reason: 'evict' })).toBe(1);
    handle.dispose();
    cache.set('c', 3); // evicts b, not counted
    cache.set('d', 4); // evicts c, not counted
    expect(userDisposed).toBe(3);
    expect(one(await read(), 'cache_evictions_total', 'lru-disposed', { cache_eviction_reason: 'evict' })).toBe(1);
  });

  it('lru-cache: TTL expiry is an eviction with reason expire', async () => {
    const cache = new LRUCache<string, number>({ max: 10, ttl: 20, dispose: lruCacheDispose() });
    instrumentCache(cache, { name: 'ttl' });
    cache.set('k', 1);
    expect(cache.get('k')).toBe(1);
    await sleep(60);
    expect(cache.get('k')).toBeUndefined();
    const s = await read();
    expect(gets(s, 'ttl', 'hit')).toBe(1);
    expect(gets(s, 'ttl', 'miss')).toBe(1);
    expect(one(s, 'cache_evictions_total', 'ttl', { cache_eviction_reason: 'expire' })).toBe(1);
    expect(one(s, 'cache_size', 'ttl')).toBe(0);
  });

  it('lru-cache built without the dispose hook: no eviction series, everything else', async () => {
    const cache = new LRUCache<string, number>({ max: 1 });
    instrumentCache(cache, { name: 'nohook' });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    const s = await read();
    expect(gets(s, 'nohook', 'miss')).toBe(1);
    expect(findSamples(s, 'cache_evictions_total', { cache_name: 'nohook' })).toHaveLength(0);
  });

  it('keyv: its own stat events', async () => {
    const keyv = new Keyv();
    instrumentCache(keyv, { name: 'keyv', size: () => 42 });
    expect(await keyv.get('a')).toBeUndefined();
    expect(await keyv.set('a', 1)).toBe(true);
    expect(await keyv.get('a')).toBe(1);
    expect(await keyv.get(['a', 'b'])).toEqual([1, undefined]);
    expect(await keyv.delete('a')).toBe(true);
    const s = await read();
    expect(gets(s, 'keyv', 'hit')).toBe(2);
    expect(gets(s, 'keyv', 'miss')).toBe(2);
    expect(one(s, 'cache_puts_total', 'keyv')).toBe(1);
    expect(one(s, 'cache_deletes_total', 'keyv')).toBe(1);
    expect(one(s, 'cache_size', 'keyv')).toBe(42);
  });

  it('cache-manager: get/mget/wrap hits and misses, set/mset/del puts and deletes', async () => {
    const cache = createCache();
    instrumentCache(cache, { name: 'cm' });
    expect(await cache.get('a')).toBeUndefined(); // miss
    await cache.set('a', 1); // put
    expect(await cache.get('a')).toBe(1); // hit
    let loads = 0;
    const loader = async () => ++loads;
    expect(await cache.wrap('w', loader)).toBe(1); // miss (loader ran), put
    expect(await cache.wrap('w', loader)).toBe(1); // hit
    expect(await cache.mget(['a', 'zz'])).toEqual([1, undefined]); // hit + miss
    await cache.mset([
      { key: 'm1', value: 1 },
      { key: 'm2', value: 2 },
    ]); // 2 puts
    await cache.del('a'); // delete
    const s = await read();
    expect(gets(s, 'cm', 'hit')).toBe(3);
    expect(gets(s, 'cm', 'miss')).toBe(3);
    expect(one(s, 'cache_puts_total', 'cm')).toBe(4);
    expect(one(s, 'cache_deletes_total', 'cm')).toBe(1);
  });

  it('async Map-like caches count when the promise settles', async () => {
    const store = new Map<string, string>();
    const redisish = {
      async get(k: string) {
        return store.get(k) ?? null;
      },
      async set(k: string, v: string) {
        store.set(k, v);
        return 'OK';
      },
      async delete(k: string) {
        return store.delete(k);
      },
    };
    instrumentCache(redisish, { name: 'async' });
    expect(await redisish.get('a')).toBeNull();
    expect(await redisish.set('a', 'x')).toBe('OK');
    expect(await redisish.get('a')).toBe('x');
    const s = await read();
    expect(gets(s, 'async', 'hit')).toBe(1);
    expect(gets(s, 'async', 'miss')).toBe(1);
    expect(one(s, 'cache_puts_total', 'async')).toBe(1);
  });

  it('instrumenting the same cache twice returns the same handle and counts once', async () => {
    const map = new Map<string, number>([['a', 1]]);
    const first = instrumentCache(map, { name: 'twice' });
    const second = instrumentCache(map, { name: 'twice' });
    expect(second).toBe(first);
    map.get('a');
    map.get('b');
    const s = await read();
    expect(gets(s, 'twice', 'hit')).toBe(1);
    expect(gets(s, 'twice', 'miss')).toBe(1);
    first.dispose();
  });

  it('dispose() restores the methods and stops reporting', async () => {
    const map = new Map<string, number>();
    const handle = instrumentCache(map, { name: 'disposed' });
    expect(Object.hasOwn(map, 'get')).toBe(true);
    map.get('a');
    expect(gets(await read(), 'disposed', 'miss')).toBe(1);
    handle.dispose();
    handle.dispose(); // idempotent
    expect(Object.hasOwn(map, 'get')).toBe(false);
    expect(map.get).toBe(Map.prototype.get);
    map.get('a');
    map.get('b');
    // The SDK keeps exporting a cumulative series it saw once; it no longer changes.
    expect(gets(await read(), 'disposed', 'miss')).toBe(1);
    // Instrumenting again after dispose continues the same series.
    const again = instrumentCache(map, { name: 'disposed' });
    map.get('a');
    expect(gets(await read(), 'disposed', 'miss')).toBe(2);
    again.dispose();
  });

  it('never changes errors, this or results of the wrapped methods', async () => {
    const boom = new Error('boom');
    const cache = {
      calls: [] as unknown[],
      get(this: { calls: unknown[] }, key: string, extra?: unknown) {
        this.calls.push([key, extra]);
        if (key === 'throw') throw boom;
        return key === 'hit' ? 'value' : undefined;
      },
      set() {
        return 'set-result';
      },
    };
    instrumentCache(cache, { name: 'weird' });
    expect(() => cache.get('throw')).toThrow(boom);
    expect(cache.get('hit', { opt: 1 })).toBe('value');
    expect(cache.set()).toBe('set-result');
    expect(cache.calls).toEqual([
      ['throw', undefined],
      ['hit', { opt: 1 }],
    ]);
    const s = await read();
    expect(gets(s, 'weird', 'hit')).toBe(1);
    expect(gets(s, 'weird', 'miss')).toBe(0); // the throwing get is not counted
  });

  it('is a no-op for non-caches, bad names and when otelkit is disabled', () => {
    expect(instrumentCache({} as object, { name: 'nothing' })).toBe(noopInstrumentation);
    expect(instrumentCache(new Map(), { name: '' })).toBe(noopInstrumentation);
    const state = otelkitState();
    state.disabled = true;
    try {
      const map = new Map();
      expect(instrumentCache(map, { name: 'off' })).toBe(noopInstrumentation);
      expect(Object.hasOwn(map, 'get')).toBe(false);
    } finally {
      state.disabled = false;
    }
  });
});

describe('exposition', () => {
  it('everything scraped so far passes promtool check metrics', async () => {
    const result = await promtoolCheckMetrics(await scrape(url));
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
  });
});
