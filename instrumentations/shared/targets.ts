/**
 * The pattern the cache, rate-limiter and circuit-breaker instrumentations share.
 *
 * - Hot path: each instrumented object ("target") gets a plain record whose counts
 *   are integer fields; the wrapped method or event listener does `record.x++`.
 * - Export: one family per kind creates its observable instruments once, when
 *   otelkit's meter exists (now, or at register() via onMeter), plus ONE batch
 *   observable callback that reads every live record at collection time. Attribute
 *   objects are built once per record, never per operation. The synchronous export at
 *   process exit, which cannot run that callback, reads the records through the same
 *   observe() (src/exit-observations.ts).
 * - Dedupe: a WeakMap target -> handle, so instrumenting an object twice returns
 *   the first handle (and never counts twice).
 * - dispose(): removes the record from the live set (its series stop changing;
 *   the SDK keeps exporting a cumulative series it has seen, frozen) and undoes
 *   every hook (restores wrapped methods, removes listeners). Instrumenting the
 *   same target again under the same name continues its counts, so a counter
 *   never goes backwards.
 * - Shared records: build() may hand several targets one record (the job queues
 *   do, so a BullMQ Queue and its Worker report as one queue); the record stays
 *   live until the last of its targets is disposed.
 */
import { diag, type BatchObservableResult, type Meter, type Observable } from '@opentelemetry/api';
import { addExitObserver, type ExitInstrument, type ExitObservation } from '../../src/exit-observations.js';
import { OTELKIT_VERSION } from '../../src/version.js';
import { recordingMeter } from './recording-meter.js';
import { isDisabled, onMeter } from '../../src/meter-handoff.js';
import { warnOnce } from '../../src/log.js';
import type { OtelkitConfig } from '../../src/config/types.js';
import { disposeOnce, noopInstrumentation, type Instrumentation } from '../../src/instrumentation.js';
import { tryOrLog } from '../../src/util/errors.js';
import { addStatsContributor } from '../../src/stats/contributors.js';

/** Undoes one hook. */
export type Unhook = () => void;

export interface Built<R> {
  record: R;
  /** Hooks to undo at dispose(), in any order: the array build() was given. */
  unhooks: Unhook[];
}

export interface FamilySpec<R> {
  /** For messages: `cache`, `rate limiter`, `circuit breaker`. */
  kind: string;
  /** Creates the instruments once; returns the observables the batch callback reports. */
  instruments(meter: Meter, config: OtelkitConfig): Observable[];
  /** Reports one live record. May return a promise (awaited by the SDK). */
  observe(result: BatchObservableResult, record: R): void | Promise<void>;
  /** The family's section of the /stats snapshot (`caches`, ...) and one live record's entry there. */
  stats?: { section: string; entry(record: R): Record<string, unknown> };
}

export class Family<R extends object> {
  readonly live = new Set<R>();
  private readonly handles = new WeakMap<object, { name: string; handle: Instrumentation }>();
  /** Records of disposed targets: re-instrumenting under the same name continues their counts. */
  private readonly retired = new WeakMap<object, { name: string; record: R }>();
  /** How many live targets hold each record. */
  private readonly holders = new WeakMap<R, number>();
  private subscribed = false;

  constructor(private readonly spec: FamilySpec<R>) {}

  /**
   * The common front of every instrumentX(): no-op when disabled or misused, the
   * existing handle for an already instrumented target, else builds and registers.
   */
  instrument<H extends Instrumentation>(
    target: unknown,
    name: unknown,
    /** Pushes each hook's undo into `unhooks` as soon as it is installed (so a throw midway is undone). */
    build: (target: object, name: string, previous: R | undefined, unhooks: Unhook[]) => Built<R>,
    decorate: (base: Instrumentation, record: R | undefined) => H,
  ): H {
    if (isDisabled()) return decorate(noopInstrumentation, undefined);
    if ((typeof target !== 'object' && typeof target !== 'function') || target === null) {
      warnOnce(
        `${this.spec.kind}-target`,
        `instrument ${this.spec.kind}: the target is not an object; nothing is reported`,
      );
      return decorate(noopInstrumentation, undefined);
    }
    if (typeof name !== 'string' || name === '') {
      warnOnce(
        `${this.spec.kind}-name`,
        `instrument ${this.spec.kind}: options.name must be a non-empty string; nothing is reported`,
      );
      return decorate(noopInstrumentation, undefined);
    }
    const existing = this.handles.get(target);
    if (existing) {
      if (existing.name !== name) {
        diag.warn(
          `otelkit: this ${this.spec.kind} is already instrumented as "${existing.name}"; "${name}" is ignored`,
        );
      }
      return existing.handle as H;
    }
    let built: Built<R>;
    const installed: Unhook[] = [];
    try {
      const retired = this.retired.get(target);
      built = build(target, name, retired?.name === name ? retired.record : undefined, installed);
    } catch (err) {
      for (const unhook of installed) safeRead(unhook);
      diag.error(`otelkit: could not instrument ${this.spec.kind} "${name}"`, err);
      return decorate(noopInstrumentation, undefined);
    }
    const { record } = built;
    const unhooks = built.unhooks === installed ? installed : [...installed, ...built.unhooks];
    const base = disposeOnce(() => {
      const holders = (this.holders.get(record) ?? 1) - 1;
      this.holders.set(record, holders);
      if (holders <= 0) this.live.delete(record);
      if (this.handles.get(target)?.handle === handle) this.handles.delete(target);
      this.retired.set(target, { name, record });
      for (const unhook of unhooks) tryOrLog(`releasing the ${this.spec.kind} "${name}" hooks failed`, unhook);
    });
    const handle = decorate(base, record);
    this.handles.set(target, { name, handle });
    this.holders.set(record, (this.holders.get(record) ?? 0) + 1);
    this.live.add(record);
    this.subscribe();
    return handle;
  }

  private subscribe(): void {
    if (this.subscribed) return;
    this.subscribed = true;
    const stats = this.spec.stats;
    if (stats) {
      // Read only when a snapshot is computed; the records are the ones the scrape reads.
      addStatsContributor(stats.section, () => [...this.live].map((record) => stats.entry(record)));
    }
    onMeter(({ meter, config }) => {
      const created = new Map<Observable, ExitInstrument>();
      const observables = this.spec.instruments(recordingMeter(meter, created), config);
      meter.addBatchObservableCallback((result) => this.collect(result), observables);
      // The export at exit cannot run the batch callback (src/exit-observations.ts): it reads the records itself.
      addExitObserver({
        scope: { name: 'otelkit', version: OTELKIT_VERSION },
        startMs: Date.now(),
        observe: () => this.observeNow(created),
      });
    });
  }

  /** What the batch callback would report now, as far as it reads synchronously. */
  private observeNow(created: Map<Observable, ExitInstrument>): ExitObservation[] {
    const out: ExitObservation[] = [];
    const result: BatchObservableResult = {
      observe(observable, value, attributes = {}) {
        const instrument = created.get(observable);
        if (instrument && typeof value === 'number') out.push({ instrument, value, attributes });
      },
    };
    for (const record of this.live) {
      try {
        // What it reads later (a queue's counts from Redis) keeps the last collection's value.
        this.spec.observe(result, record)?.catch(noop);
      } catch {
        // this record keeps the last collection's values
      }
    }
    return out;
  }

  private collect(result: BatchObservableResult): void | Promise<void> {
    let pending: Promise<void>[] | undefined;
    for (const record of this.live) {
      try {
        const p = this.spec.observe(result, record);
        if (p)
          (pending ??= []).push(
            p.catch((err: unknown) => diag.error(`otelkit: reading a ${this.spec.kind} failed`, err)),
          );
      } catch (err) {
        diag.error(`otelkit: reading a ${this.spec.kind} failed`, err);
      }
    }
    if (pending) return Promise.all(pending).then(noop);
  }
}

type AnyFn = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Replaces `obj[key]` (own or inherited) with `makeWrapper(original)` as an own,
 * non-enumerable property (enumerability kept when it already was an own property).
 * The unhook restores the original only if our wrapper is still in place; if
 * something wrapped on top of it since, ours stays in the chain as a pass-through.
 * Returns undefined when there is no such method or it cannot be replaced.
 */
export function wrapMethod(obj: object, key: string, makeWrapper: (original: AnyFn) => AnyFn): Unhook | undefined {
  const target = obj as Record<string, unknown>;
  const original = target[key];
  if (typeof original !== 'function') return undefined;
  const own = Object.getOwnPropertyDescriptor(obj, key);
  if (own && !own.configurable && !own.writable) return undefined;
  const wrapper = makeWrapper(original as AnyFn);
  try {
    Object.defineProperty(wrapper, 'name', { value: (original as AnyFn).name, configurable: true });
  } catch {
    // cosmetic only
  }
  if (own && !own.configurable) target[key] = wrapper;
  else
    Object.defineProperty(obj, key, {
      value: wrapper,
      writable: true,
      configurable: true,
      enumerable: own?.enumerable ?? false,
    });
  return () => {
    if (target[key] !== wrapper) return;
    if (own) {
      if (own.configurable) Object.defineProperty(obj, key, own);
      else target[key] = original;
    } else {
      delete target[key];
    }
  };
}

/** Subscribes `listener` on an EventEmitter-like (`on`/`off` or `addListener`/`removeListener`). */
export function listen(emitter: object, event: string, listener: (...args: never[]) => void): Unhook | undefined {
  const e = emitter as {
    on?: (event: string, l: unknown) => unknown;
    off?: (event: string, l: unknown) => unknown;
    addListener?: (event: string, l: unknown) => unknown;
    removeListener?: (event: string, l: unknown) => unknown;
  };
  if (typeof e.on === 'function') {
    e.on(event, listener);
    return () => {
      if (typeof e.off === 'function') e.off(event, listener);
      else e.removeListener?.(event, listener);
    };
  }
  if (typeof e.addListener === 'function') {
    e.addListener(event, listener);
    return () => e.removeListener?.(event, listener);
  }
  return undefined;
}

/** Calls `fn`; a throw is reported through diag and yields undefined. For collection-time reads. */
export function safeRead<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    diag.debug('otelkit: reading an instrumented object failed', err);
    return undefined;
  }
}

/** A number option given as a constant or a function, read at collection time. */
export type NumberSource = number | (() => number | undefined);

export function readNumber(source: NumberSource | undefined): number | undefined {
  if (source === undefined) return undefined;
  const value = typeof source === 'function' ? safeRead(source) : source;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function noop(): void {}
