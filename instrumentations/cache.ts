/**
 * Cache instrumentation: gets by result (hit/miss), puts, deletes, evictions by
 * reason, current size, max size and hit ratio, for
 * - Map-like caches (`get`/`set`/`delete`, sync or async): `get`, `set` and
 *   `delete` are wrapped on the instance; a get returning `undefined` is a miss;
 * - lru-cache: the same wrappers, plus evictions with lru-cache's own reason
 *   (`evict`, `expire`, `set`, `fetch`) through its dispose hook: build the cache
 *   with `dispose: lruCacheDispose()` (dispose is a constructor-only option);
 * - keyv: its own `stat:hit` / `stat:miss` / `stat:set` / `stat:delete` events;
 * - cache-manager 6/7: `get`, `mget` and `wrap` are wrapped (it emits no miss
 *   event), puts and deletes come from its `set`/`mset`/`del`/`mdel` events.
 * The hot path only increments integer fields; observable instruments read them.
 */
import { ValueType, type BatchObservableResult, type Meter, type Observable } from '@opentelemetry/api';
import { isThenable, observeSettled } from './shared/settle.js';
import {
  Family,
  listen,
  readNumber,
  safeRead,
  wrapMethod,
  type Built,
  type NumberSource,
  type Unhook,
} from './shared/targets.js';
import type { Instrumentation } from '../src/instrumentation.js';
import { CACHE } from './metric-names.js';

export type CacheKind = 'map' | 'async-map' | 'lru-cache' | 'keyv' | 'cache-manager';

export interface CacheInstrumentationOptions {
  /** Reported as `cache.name`; tells one cache from another. */
  name: string;
  /** Skip detection: how to observe the target. Detected when absent. */
  kind?: CacheKind;
  /** Current number of entries, when the cache cannot tell (keyv, cache-manager). */
  size?: NumberSource;
  /** Maximum number of entries, when the cache cannot tell. */
  maxSize?: NumberSource;
}

type Fn = (this: unknown, ...args: unknown[]) => unknown;
type Target = Record<string, unknown>;

class CacheRecord {
  hits = 0;
  misses = 0;
  puts = 0;
  deletes = 0;
  evictEvict = 0;
  evictExpire = 0;
  evictSet = 0;
  evictFetch = 0;
  evictOther: Map<string, number> | undefined;
  readonly attrs: { 'cache.name': string };
  readonly hitAttrs: { 'cache.name': string; 'cache.result': 'hit' };
  readonly missAttrs: { 'cache.name': string; 'cache.result': 'miss' };
  private readonly reasonAttrs = new Map<string, { 'cache.name': string; 'cache.eviction.reason': string }>();

  constructor(
    readonly name: string,
    readonly kind: CacheKind,
    readonly size: () => number | undefined,
    readonly maxSize: () => number | undefined,
    readonly tracksEvictions: boolean,
  ) {
    this.attrs = Object.freeze({ 'cache.name': name });
    this.hitAttrs = Object.freeze({ 'cache.name': name, 'cache.result': 'hit' as const });
    this.missAttrs = Object.freeze({ 'cache.name': name, 'cache.result': 'miss' as const });
  }

  evicted(reason: string): void {
    switch (reason) {
      case 'evict':
        this.evictEvict++;
        return;
      case 'expire':
        this.evictExpire++;
        return;
      case 'set':
        this.evictSet++;
        return;
      case 'fetch':
        this.evictFetch++;
        return;
      case 'delete':
        return; // explicit delete()/clear(): counted by cache.deletes, not an eviction
      default: {
        const other = (this.evictOther ??= new Map());
        other.set(reason, (other.get(reason) ?? 0) + 1);
      }
    }
  }

  reasonAttributes(reason: string): { 'cache.name': string; 'cache.eviction.reason': string } {
    let attrs = this.reasonAttrs.get(reason);
    if (!attrs) {
      attrs = Object.freeze({ 'cache.name': this.name, 'cache.eviction.reason': reason });
      this.reasonAttrs.set(reason, attrs);
    }
    return attrs;
  }
}

interface CacheInstruments {
  gets: Observable;
  puts: Observable;
  deletes: Observable;
  evictions: Observable;
  size: Observable;
  maxSize: Observable;
  hitRatio: Observable;
}

let instruments: CacheInstruments | undefined;

const family = new Family<CacheRecord>({
  kind: 'cache',
  stats: {
    section: 'caches',
    entry(r) {
      let evictions = r.evictEvict + r.evictExpire + r.evictSet + r.evictFetch;
      for (const n of r.evictOther?.values() ?? []) evictions += n;
      const lookups = r.hits + r.misses;
      return {
        name: r.name,
        window: 'since instrumented',
        hits: r.hits,
        misses: r.misses,
        evictions: r.tracksEvictions ? evictions : null,
        hitRatio: lookups > 0 ? r.hits / lookups : null,
        size: safeRead(r.size) ?? null,
      };
    },
  },
  instruments(meter: Meter): Observable[] {
    instruments = {
      gets: meter.createObservableCounter(CACHE.gets.name, {
        unit: CACHE.gets.unit,
        description: 'Cache lookups, by result (hit or miss)',
        valueType: ValueType.INT,
      }),
      puts: meter.createObservableCounter(CACHE.puts.name, {
        unit: CACHE.puts.unit,
        description: 'Entries written to the cache',
        valueType: ValueType.INT,
      }),
      deletes: meter.createObservableCounter(CACHE.deletes.name, {
        unit: CACHE.deletes.unit,
        description: 'Entries removed by an explicit delete',
        valueType: ValueType.INT,
      }),
      evictions: meter.createObservableCounter(CACHE.evictions.name, {
        unit: CACHE.evictions.unit,
        description: 'Entries removed by the cache itself, by reason',
        valueType: ValueType.INT,
      }),
      size: meter.createObservableUpDownCounter(CACHE.size.name, {
        unit: CACHE.size.unit,
        description: 'Entries currently in the cache',
        valueType: ValueType.INT,
      }),
      maxSize: meter.createObservableGauge(CACHE.maxSize.name, {
        unit: CACHE.maxSize.unit,
        description: 'Maximum number of entries the cache holds',
        valueType: ValueType.INT,
      }),
      hitRatio: meter.createObservableGauge(CACHE.hitRatio.name, {
        unit: CACHE.hitRatio.unit,
        description: 'Hits / (hits + misses) since the cache was instrumented',
      }),
    };
    return Object.values(instruments);
  },
  observe(result: BatchObservableResult, r: CacheRecord): void {
    const i = instruments!;
    result.observe(i.gets, r.hits, r.hitAttrs);
    result.observe(i.gets, r.misses, r.missAttrs);
    result.observe(i.puts, r.puts, r.attrs);
    result.observe(i.deletes, r.deletes, r.attrs);
    if (r.tracksEvictions) {
      result.observe(i.evictions, r.evictEvict, r.reasonAttributes('evict'));
      result.observe(i.evictions, r.evictExpire, r.reasonAttributes('expire'));
      if (r.evictSet) result.observe(i.evictions, r.evictSet, r.reasonAttributes('set'));
      if (r.evictFetch) result.observe(i.evictions, r.evictFetch, r.reasonAttributes('fetch'));
      if (r.evictOther)
        for (const [reason, n] of r.evictOther) result.observe(i.evictions, n, r.reasonAttributes(reason));
    }
    const size = r.size();
    if (size !== undefined) result.observe(i.size, size, r.attrs);
    const max = r.maxSize();
    if (max !== undefined) result.observe(i.maxSize, max, r.attrs);
    const gets = r.hits + r.misses;
    if (gets > 0) result.observe(i.hitRatio, r.hits / gets, r.attrs);
  },
});

/** Caches instrumented with evictions: looked up by the shared dispose hook (`this` is the cache). */
const evictionRecords = new WeakMap<object, CacheRecord>();
const disposeHooks = new WeakSet<object>();
/** The last cache a hook ran for: saves the WeakMap lookup on eviction bursts. Reset on any (un)hooking. */
const lastEvicting: { cache: unknown; record: CacheRecord | undefined } = { cache: undefined, record: undefined };

/**
 * An lru-cache `dispose` (or `disposeAfter`) option that reports evictions of the
 * cache once it is instrumented with instrumentCache(). Pass your own dispose
 * function to keep it: it is called after, with the same arguments and `this`.
 *
 * ```ts
 * const users = new LRUCache({ max: 1000, dispose: lruCacheDispose() });
 * instrumentCache(users, { name: 'users' });
 * ```
 */
export function lruCacheDispose<V = unknown, K = unknown>(
  dispose?: (value: V, key: K, reason: string) => void,
): (value: V, key: K, reason: string) => void {
  const hook = function (this: unknown, value: V, key: K, reason: string): void {
    let record: CacheRecord | undefined;
    if (this === lastEvicting.cache) record = lastEvicting.record;
    else if (this !== null && typeof this === 'object') {
      record = evictionRecords.get(this);
      lastEvicting.cache = this;
      lastEvicting.record = record;
    }
    if (record !== undefined) record.evicted(reason);
    if (dispose !== undefined) dispose.call(this, value, key, reason);
  };
  disposeHooks.add(hook);
  return hook;
}

/**
 * Reports gets (hit/miss), puts, deletes, evictions, size, max size and hit ratio
 * of `cache` as `cache.*` metrics with `cache.name = options.name`. Detects
 * Map-like (sync or async), lru-cache, keyv and cache-manager caches.
 *
 * The same cache instrumented twice returns the first handle. `dispose()` restores
 * the wrapped methods and stops reporting. A no-op when otelkit is disabled.
 */
export function instrumentCache(cache: object, options: CacheInstrumentationOptions): Instrumentation {
  return family.instrument(
    cache,
    options?.name,
    (target, name, previous, unhooks) => build(target as Target, name, options, previous, unhooks),
    (base) => base,
  );
}

function detectCacheKind(cache: object): CacheKind | undefined {
  const t = cache as Target;
  const fn = (key: string) => typeof t[key] === 'function';
  if (fn('wrap') && fn('mget') && fn('mdel') && fn('on') && Array.isArray(t.stores)) return 'cache-manager';
  if (fn('on') && fn('getMany') && fn('setMany') && ('stats' in t || 'hooks' in t)) return 'keyv';
  if (fn('peek') && fn('purgeStale') && fn('get') && fn('set')) return 'lru-cache';
  if (fn('get') && fn('set')) return isAsyncFunction(t.get) ? 'async-map' : 'map';
  return undefined;
}

function build(
  t: Target,
  name: string,
  options: CacheInstrumentationOptions,
  previous: CacheRecord | undefined,
  unhooks: Unhook[],
): Built<CacheRecord> {
  const kind = options.kind ?? detectCacheKind(t);
  if (!kind) throw new Error('not a cache: expected get/set methods, an lru-cache, keyv or cache-manager instance');
  const userSize = options.size;
  const userMax = options.maxSize;
  const ownSize = () => safeRead(() => (typeof t.size === 'number' ? t.size : undefined));
  const size =
    userSize !== undefined
      ? () => readNumber(userSize)
      : kind === 'map' || kind === 'lru-cache'
        ? ownSize
        : () => undefined;
  const ownMax = () => safeRead(() => (typeof t.max === 'number' && t.max > 0 ? t.max : undefined));
  const maxSize = userMax !== undefined ? () => readNumber(userMax) : kind === 'lru-cache' ? ownMax : () => undefined;

  const hooked =
    kind === 'lru-cache' && (disposeHooks.has(t.dispose as object) || disposeHooks.has(t.disposeAfter as object));
  const record = previous ?? new CacheRecord(name, kind, size, maxSize, hooked);
  const add = (u: Unhook | undefined) => u && unhooks.push(u);

  switch (kind) {
    case 'map':
    case 'lru-cache':
      add(wrapMethod(t, 'get', syncGet(record)));
      add(wrapMethod(t, 'set', syncSet(record)));
      add(wrapMethod(t, 'delete', syncDelete(record)));
      if (hooked) {
        evictionRecords.set(t, record);
        lastEvicting.cache = lastEvicting.record = undefined;
        unhooks.push(() => {
          if (evictionRecords.get(t) === record) evictionRecords.delete(t);
          lastEvicting.cache = lastEvicting.record = undefined;
        });
      }
      break;
    case 'async-map':
      add(wrapMethod(t, 'get', asyncGet(record)));
      add(wrapMethod(t, 'set', asyncSet(record)));
      add(wrapMethod(t, 'delete', asyncDelete(record)));
      break;
    case 'keyv':
      add(listen(t, 'stat:hit', () => void record.hits++));
      add(listen(t, 'stat:miss', () => void record.misses++));
      add(listen(t, 'stat:set', () => void record.puts++));
      add(listen(t, 'stat:delete', () => void record.deletes++));
      break;
    case 'cache-manager':
      add(wrapMethod(t, 'get', asyncGet(record)));
      add(wrapMethod(t, 'mget', asyncMget(record)));
      add(wrapMethod(t, 'wrap', cacheManagerWrap(record)));
      // One event per operation has no `store` field; per-store events do.
      add(
        listen(
          t,
          'set',
          (e: { store?: unknown; error?: unknown }) =>
            void (e && e.store === undefined && e.error === undefined && record.puts++),
        ),
      );
      add(
        listen(
          t,
          'mset',
          (e: { list?: unknown[]; error?: unknown }) =>
            void (e && e.error === undefined && (record.puts += e.list?.length ?? 0)),
        ),
      );
      add(listen(t, 'del', (e: { error?: unknown }) => void (e && e.error === undefined && record.deletes++)));
      add(
        listen(
          t,
          'mdel',
          (e: { keys?: unknown[]; error?: unknown }) =>
            void (e && e.error === undefined && (record.deletes += e.keys?.length ?? 0)),
        ),
      );
      break;
  }
  return { record, unhooks };
}

function isAsyncFunction(f: unknown): boolean {
  return typeof f === 'function' && f.constructor?.name === 'AsyncFunction';
}

// The wrappers: call the original with the same `this` and arguments, return its
// result untouched, let its throw propagate untouched, count after it returns.

function syncGet(r: CacheRecord) {
  return (get: Fn): Fn =>
    function (this: unknown, key: unknown): unknown {
      const value = arguments.length === 1 ? get.call(this, key) : get.apply(this, arguments as unknown as unknown[]);
      if (value === undefined) r.misses++;
      else r.hits++;
      return value;
    };
}

function syncSet(r: CacheRecord) {
  return (set: Fn): Fn =>
    function (this: unknown): unknown {
      const result = set.apply(this, arguments as unknown as unknown[]);
      r.puts++;
      return result;
    };
}

function syncDelete(r: CacheRecord) {
  return (del: Fn): Fn =>
    function (this: unknown): unknown {
      const result = del.apply(this, arguments as unknown as unknown[]);
      if (result === true) r.deletes++;
      return result;
    };
}

function asyncGet(r: CacheRecord) {
  const onValue = (value: unknown) => {
    if (value === undefined || value === null) r.misses++;
    else r.hits++;
  };
  return (get: Fn): Fn =>
    function (this: unknown): unknown {
      const result = get.apply(this, arguments as unknown as unknown[]);
      if (isThenable(result)) return observeSettled(result, onValue);
      onValue(result);
      return result;
    };
}

function asyncMget(r: CacheRecord) {
  const onValues = (values: unknown) => {
    if (!Array.isArray(values)) return;
    for (const v of values) {
      if (v === undefined || v === null) r.misses++;
      else r.hits++;
    }
  };
  return (mget: Fn): Fn =>
    function (this: unknown): unknown {
      return observeSettled(mget.apply(this, arguments as unknown as unknown[]), onValues);
    };
}

function asyncSet(r: CacheRecord) {
  const onSet = () => void r.puts++;
  return (set: Fn): Fn =>
    function (this: unknown): unknown {
      const result = set.apply(this, arguments as unknown as unknown[]);
      if (isThenable(result)) return observeSettled(result, onSet);
      onSet();
      return result;
    };
}

function asyncDelete(r: CacheRecord) {
  const onDelete = (deleted: unknown) => {
    if (deleted !== false) r.deletes++;
  };
  return (del: Fn): Fn =>
    function (this: unknown): unknown {
      const result = del.apply(this, arguments as unknown as unknown[]);
      if (isThenable(result)) return observeSettled(result, onDelete);
      onDelete(result);
      return result;
    };
}

/** cache-manager `wrap(key, loader, ...)`: a miss when it calls the loader, else a hit. */
function cacheManagerWrap(r: CacheRecord) {
  return (wrap: Fn): Fn =>
    function (this: unknown, _key: unknown, loader: unknown): unknown {
      if (typeof loader !== 'function') return wrap.apply(this, arguments as unknown as unknown[]);
      let loaded = false;
      const args = Array.prototype.slice.call(arguments) as unknown[];
      args[1] = function (this: unknown) {
        if (!loaded) {
          loaded = true;
          r.misses++;
        }
        return (loader as Fn).apply(this, arguments as unknown as unknown[]);
      };
      const result = wrap.apply(this, args);
      const settle = () => {
        if (!loaded) {
          loaded = true; // a later background refresh is not a miss
          r.hits++;
        }
      };
      if (isThenable(result)) return observeSettled(result, settle);
      settle();
      return result;
    };
}
