/**
 * Rate-limiter instrumentation: acquisitions by result (acquired / rejected), the
 * time a call waited before it was allowed (histogram, seconds), current queue
 * length and available permits where the limiter exposes them, for
 * - bottleneck: its own `received` / `executing` / `dropped` events (the wait is
 *   received -> executing, so schedule(), submit() and wrap() are all covered),
 *   `queued()` and `currentReservoir()` read at collection;
 * - rate-limiter-flexible: `consume()` wrapped (resolves: acquired; rejects with a
 *   RateLimiterRes: rejected), and RateLimiterQueue `removeTokens()` wrapped
 *   (the wait is the time in its queue), queue length and tokens remaining;
 * - generic limiters: one async method wrapped (`acquire`, `schedule`,
 *   `removeTokens`, `consume`, `take` or `options.method`): when its first or
 *   second argument is a function (schedule-style), the wait ends when that
 *   function starts; otherwise (acquire-style) when the returned promise resolves.
 * Counts are integer fields read by observable instruments; waits go to a
 * per-limiter histogram series aggregated in place (src/histograms/).
 */
import { ValueType, type BatchObservableResult, type Meter, type Observable } from '@opentelemetry/api';
import type { OtelkitConfig } from '../src/config/types.js';
import { InPlaceHistogram, type HistogramSeries } from '../src/histograms/in-place-histogram.js';
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
import { clock } from '../src/util/clock.js';
import { seriesPercentile } from '../src/stats/percentile.js';
import { RATE_LIMITER } from './metric-names.js';

export type RateLimiterKind = 'bottleneck' | 'rate-limiter-flexible' | 'rate-limiter-flexible-queue' | 'generic';

export interface RateLimiterInstrumentationOptions {
  /** Reported as `rate_limiter.name`. */
  name: string;
  /** Skip detection. */
  kind?: RateLimiterKind;
  /** Generic limiters: the method to wrap (default: the first of acquire, schedule, removeTokens, consume, take). */
  method?: string;
  /** Calls waiting for a permit, when the limiter cannot tell. */
  queueLength?: NumberSource;
  /** Permits (tokens, points) currently available, when the limiter cannot tell. */
  availablePermits?: NumberSource;
}

type Fn = (this: unknown, ...args: unknown[]) => unknown;
type Target = Record<string, unknown>;
type Reader = () => number | undefined | Promise<number | undefined>;

let waitHistogram: InPlaceHistogram | undefined;

class LimiterRecord {
  acquired = 0;
  rejected = 0;
  readonly attrs: { 'rate_limiter.name': string };
  readonly acquiredAttrs: { 'rate_limiter.name': string; 'rate_limiter.result': 'acquired' };
  readonly rejectedAttrs: { 'rate_limiter.name': string; 'rate_limiter.result': 'rejected' };
  queueLength: Reader = () => undefined;
  available: Reader = () => undefined;
  wait: HistogramSeries | undefined;
  /** Function targets: the instrumented stand-in. */
  wrapped: unknown;

  constructor(readonly name: string) {
    this.attrs = Object.freeze({ 'rate_limiter.name': name });
    this.acquiredAttrs = Object.freeze({ 'rate_limiter.name': name, 'rate_limiter.result': 'acquired' as const });
    this.rejectedAttrs = Object.freeze({ 'rate_limiter.name': name, 'rate_limiter.result': 'rejected' as const });
  }

  /** One acquisition that waited `ms` milliseconds. */
  acquire(ms: number): void {
    this.acquired++;
    if (waitHistogram !== undefined) (this.wait ??= waitHistogram.series(this.attrs)).record(ms > 0 ? ms / 1000 : 0);
  }
}

interface LimiterInstruments {
  acquisitions: Observable;
  queue: Observable;
  permits: Observable;
}
let instruments: LimiterInstruments | undefined;

const family = new Family<LimiterRecord>({
  kind: 'rate limiter',
  stats: {
    section: 'limiters',
    entry: (r) => ({
      name: r.name,
      window: 'since instrumented',
      acquired: r.acquired,
      rejected: r.rejected,
      waitP95Seconds: seriesPercentile(r.wait, 0.95) ?? null,
    }),
  },
  instruments(meter: Meter, config: OtelkitConfig): Observable[] {
    waitHistogram = new InPlaceHistogram(meter, config, {
      name: RATE_LIMITER.waitDuration.name,
      description: 'Time a call waited before the limiter let it through',
      live: () => Array.from(family.live, (r) => r.wait),
    });
    instruments = {
      acquisitions: meter.createObservableCounter(RATE_LIMITER.acquisitions.name, {
        unit: RATE_LIMITER.acquisitions.unit,
        description: 'Permit requests, by result (acquired or rejected)',
        valueType: ValueType.INT,
      }),
      queue: meter.createObservableUpDownCounter(RATE_LIMITER.queueLength.name, {
        unit: RATE_LIMITER.queueLength.unit,
        description: 'Calls waiting for a permit',
        valueType: ValueType.INT,
      }),
      permits: meter.createObservableGauge(RATE_LIMITER.permitsAvailable.name, {
        unit: RATE_LIMITER.permitsAvailable.unit,
        description: 'Permits (tokens, points, reservoir) available now',
      }),
    };
    return Object.values(instruments);
  },
  observe(result: BatchObservableResult, r: LimiterRecord): void | Promise<void> {
    const i = instruments!;
    result.observe(i.acquisitions, r.acquired, r.acquiredAttrs);
    result.observe(i.acquisitions, r.rejected, r.rejectedAttrs);
    const queue = r.queueLength();
    const permits = r.available();
    if (!isThenable(queue) && !isThenable(permits)) {
      if (queue !== undefined) result.observe(i.queue, queue, r.attrs);
      if (permits !== undefined) result.observe(i.permits, permits, r.attrs);
      return;
    }
    return Promise.all([queue, permits]).then(([q, p]) => {
      if (typeof q === 'number') result.observe(i.queue, q, r.attrs);
      if (typeof p === 'number') result.observe(i.permits, p, r.attrs);
    });
  },
});

/**
 * Reports acquisitions, waits, queue length and available permits of `limiter`
 * as `rate_limiter.*` metrics with `rate_limiter.name = options.name`. Detects
 * bottleneck, rate-limiter-flexible limiters and RateLimiterQueue; otherwise
 * wraps one acquire/schedule-style method.
 *
 * The same limiter instrumented twice returns the first handle. `dispose()`
 * restores what was wrapped, removes listeners and stops reporting. A no-op when
 * otelkit is disabled.
 */
export function instrumentRateLimiter<T extends object>(
  limiter: T,
  options: RateLimiterInstrumentationOptions,
): RateLimiterInstrumentation<T> {
  return family.instrument(
    limiter,
    options?.name,
    (target, name, previous, unhooks) =>
      typeof target === 'function' && options?.kind === undefined && options?.method === undefined
        ? buildFunction(target as Fn, name, options, previous, unhooks)
        : build(target as Target, name, options, previous, unhooks),
    (base, record) => ({ dispose: base.dispose, limiter: (record?.wrapped as T | undefined) ?? limiter }),
  );
}

/** What instrumentRateLimiter returns. */
export interface RateLimiterInstrumentation<T> extends Instrumentation {
  /**
   * What to call: the limiter itself for objects (their methods are wrapped in
   * place); for a limiter that is a function (p-limit's `limit(fn, ...args)` and
   * the like) an instrumented stand-in with the same properties, since a function
   * cannot be changed in place.
   */
  readonly limiter: T;
}

function detectRateLimiterKind(limiter: object): RateLimiterKind {
  const t = limiter as Target;
  const fn = (key: string) => typeof t[key] === 'function';
  if (fn('schedule') && fn('submit') && fn('counts') && fn('on') && fn('currentReservoir')) return 'bottleneck';
  if (fn('removeTokens') && fn('getTokensRemaining')) return 'rate-limiter-flexible-queue';
  if (fn('consume') && fn('penalty') && fn('reward')) return 'rate-limiter-flexible';
  return 'generic';
}

const GENERIC_METHODS = ['acquire', 'schedule', 'removeTokens', 'consume', 'take'];

function build(
  t: Target,
  name: string,
  options: RateLimiterInstrumentationOptions,
  previous: LimiterRecord | undefined,
  unhooks: Unhook[],
): Built<LimiterRecord> {
  const r = previous ?? new LimiterRecord(name);
  const kind = options.kind ?? detectRateLimiterKind(t);
  const add = (u: Unhook | undefined, what: string) => {
    if (!u) throw new Error(`cannot hook ${what}`);
    unhooks.push(u);
  };
  switch (kind) {
    case 'bottleneck': {
      const received = new WeakMap<object, number>();
      add(
        listen(
          t,
          'received',
          (info: { options?: object }) => void (info?.options && received.set(info.options, clock())),
        ),
        'bottleneck events',
      );
      add(
        listen(t, 'executing', (info: { options?: object; retryCount?: number }) => {
          if (!info?.options || info.retryCount) return;
          const start = received.get(info.options);
          if (start === undefined) return; // received before instrumentation
          received.delete(info.options);
          r.acquire(clock() - start);
        }),
        'bottleneck events',
      );
      add(
        listen(t, 'dropped', (info: { options?: object }) => {
          if (info?.options) received.delete(info.options);
          r.rejected++;
        }),
        'bottleneck events',
      );
      r.queueLength = () => safeRead(() => (t.queued as Fn).call(t) as number);
      r.available = () => {
        const reservoir = safeRead(() => (t.currentReservoir as Fn).call(t));
        return isThenable(reservoir)
          ? Promise.resolve(reservoir).then(
              (v) => (typeof v === 'number' ? v : undefined),
              () => undefined,
            )
          : undefined;
      };
      break;
    }
    case 'rate-limiter-flexible': {
      // Permits are per key: reported only while one key has been seen.
      let key: unknown;
      let keys = 0;
      let remaining: number | undefined;
      const onResult = (k: unknown, res: unknown) => {
        if (keys === 0) {
          key = k;
          keys = 1;
        } else if (keys === 1 && k !== key) keys = 2;
        const points = (res as { remainingPoints?: unknown } | undefined)?.remainingPoints;
        if (typeof points === 'number') remaining = points;
      };
      add(
        wrapMethod(
          t,
          'consume',
          (consume) =>
            function (this: unknown, k: unknown): unknown {
              const start = clock();
              return observeSettled(
                consume.apply(this, arguments as unknown as unknown[]),
                (res) => {
                  r.acquire(clock() - start);
                  onResult(k, res);
                },
                (rej) => {
                  // A RateLimiterRes is a rejection; an Error is a store failure (not counted).
                  if (rej instanceof Error || rej === null || typeof rej !== 'object') return;
                  r.rejected++;
                  onResult(k, rej);
                },
              );
            },
        ),
        'consume()',
      );
      r.available = () => (keys === 1 ? remaining : undefined);
      break;
    }
    case 'rate-limiter-flexible-queue': {
      let otherKeys = false;
      add(
        wrapMethod(
          t,
          'removeTokens',
          (removeTokens) =>
            function (this: unknown, _tokens: unknown, k: unknown): unknown {
              if (k !== undefined && k !== 'limiter') otherKeys = true;
              const start = clock();
              return observeSettled(
                removeTokens.apply(this, arguments as unknown as unknown[]),
                () => r.acquire(clock() - start),
                () => void r.rejected++,
              );
            },
        ),
        'removeTokens()',
      );
      r.queueLength = () =>
        safeRead(() => {
          const queues = t._queueLimiters as Record<string, { _queue?: unknown[] }> | undefined;
          if (!queues || typeof queues !== 'object') return undefined;
          let n = 0;
          for (const q of Object.values(queues)) n += Array.isArray(q?._queue) ? q._queue.length : 0;
          return n;
        });
      r.available = () => {
        if (otherKeys) return undefined;
        const tokens = safeRead(() => (t.getTokensRemaining as Fn).call(t));
        return isThenable(tokens)
          ? Promise.resolve(tokens).then(
              (v) => (typeof v === 'number' ? v : undefined),
              () => undefined,
            )
          : undefined;
      };
      break;
    }
    default: {
      const method = options.method ?? GENERIC_METHODS.find((m) => typeof t[m] === 'function');
      if (!method) throw new Error(`no ${GENERIC_METHODS.join('/')} method; pass options.method`);
      add(wrapMethod(t, method, genericWrapper(r)), `${method}()`);
    }
  }
  if (options.queueLength !== undefined) r.queueLength = () => readNumber(options.queueLength);
  if (options.availablePermits !== undefined) r.available = () => readNumber(options.availablePermits);
  return { record: r, unhooks };
}

/**
 * A limiter that is a function, schedule-style (`limit(task, ...args)`, p-limit) or
 * acquire-style: a Proxy whose calls go through the generic wrapper, and whose
 * properties (`pendingCount`, `activeCount`, `clearQueue`...) are the original's.
 * p-limit's `pendingCount` is the queue length.
 */
function buildFunction(
  f: Fn,
  name: string,
  options: RateLimiterInstrumentationOptions,
  previous: LimiterRecord | undefined,
  unhooks: Unhook[],
): Built<LimiterRecord> {
  const r = previous ?? new LimiterRecord(name);
  const counted = genericWrapper(r)(f);
  let active = true;
  r.wrapped = new Proxy(f, {
    apply: (target, thisArg, args) => Reflect.apply(active ? counted : target, thisArg, args),
  });
  const t = f as unknown as Target;
  if (typeof t.pendingCount === 'number') r.queueLength = () => safeRead(() => t.pendingCount as number);
  if (options.queueLength !== undefined) r.queueLength = () => readNumber(options.queueLength);
  if (options.availablePermits !== undefined) r.available = () => readNumber(options.availablePermits);
  unhooks.push(() => void (active = false));
  return { record: r, unhooks };
}

function genericWrapper(r: LimiterRecord) {
  return (original: Fn): Fn =>
    function (this: unknown): unknown {
      const start = clock();
      const index = typeof arguments[0] === 'function' ? 0 : typeof arguments[1] === 'function' ? 1 : -1;
      if (index === -1) {
        // acquire-style: allowed when the promise resolves (or a sync call returns anything but false).
        const result = original.apply(this, arguments as unknown as unknown[]);
        if (isThenable(result))
          return observeSettled(
            result,
            () => r.acquire(clock() - start),
            () => void r.rejected++,
          );
        if (result === false) r.rejected++;
        else r.acquire(0);
        return result;
      }
      // schedule-style: allowed when the task starts; rejected when the call fails before it did.
      let started = false;
      const task = arguments[index] as Fn;
      const args = Array.prototype.slice.call(arguments) as unknown[];
      args[index] = function (this: unknown) {
        if (!started) {
          started = true;
          r.acquire(clock() - start);
        }
        return task.apply(this, arguments as unknown as unknown[]);
      };
      return observeSettled(original.apply(this, args), undefined, () => {
        if (!started) {
          started = true;
          r.rejected++;
        }
      });
    };
}
