/**
 * Timed tasks and actions, as `task.*` metrics with `task.name`:
 * - `timed(name, fn)`: `fn` wrapped, each call one run (sync or async);
 * - `@timed(name)`: the same as a standard (TC39, TypeScript 5) method decorator;
 * - `measure(name, work)`: one run of a function called now, or of a promise;
 * - `instrumentTask(name)`: the handle behind them, with `record(seconds)` for runs
 *   timed elsewhere and `dispose()`.
 * A run's outcome is `error` when it throws or its promise rejects, else `success`.
 * The caller sees exactly what the function does: same `this`, arguments, return
 * value and throw; for a promise, the chained one (same value, same rejection, and a
 * rejection nobody handles still surfaces as `unhandledRejection`).
 */
import { warnOnce } from '../../src/log.js';
import { isDisabled } from '../../src/meter-handoff.js';
import type { Instrumentation } from '../../src/instrumentation.js';
import { clock } from '../../src/util/clock.js';
import { isThenable } from '../shared/settle.js';
import { taskRecord, tasks, type TaskOutcome, type TaskRecord } from './registry.js';

export type { TaskOutcome } from './registry.js';

// biome-ignore lint/suspicious/noExplicitAny: any function can be timed, whatever its signature.
type AnyFunction = (...args: any[]) => any;
type Fn = (this: unknown, ...args: unknown[]) => unknown;

/** What instrumentTask returns; `timed()` and `measure()` use the same handle per name. */
export interface TaskInstrumentation extends Instrumentation {
  readonly name: string;
  /** `fn` wrapped: each call is one run. Wrapping a function this task returned gives it back as it is. */
  timed<F extends AnyFunction>(fn: F): F;
  /** Calls `work` now as one run and returns what it returns. */
  measure<T>(work: () => T): T;
  /** One run from now until the promise settles; returns the chained promise. */
  measure<T>(work: PromiseLike<T>): Promise<T>;
  /** Reports a run timed elsewhere (default outcome `success`). */
  record(seconds: number, outcome?: TaskOutcome): void;
}

/** The type of `timed(name)`: a standard method decorator. */
export type TimedMethodDecorator = <This, Args extends unknown[], Return>(
  method: (this: This, ...args: Args) => Return,
  context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Return>,
) => (this: This, ...args: Args) => Return;

/** Hands back the promise chained onto `result`, ending the run when it settles. */
function settleLater(r: TaskRecord, start: number, result: PromiseLike<unknown>): unknown {
  return result.then(
    (value) => {
      r.finish(start, true);
      return value;
    },
    (reason: unknown) => {
      r.finish(start, false);
      throw reason;
    },
  );
}

class TaskHandle implements TaskInstrumentation {
  disposed = false;

  constructor(
    readonly name: string,
    readonly r: TaskRecord,
  ) {}

  timed<F extends AnyFunction>(fn: F): F {
    if (typeof fn !== 'function') {
      warnOnce('timed-fn', `timed("${this.name}", …): expected a function, got ${typeof fn}; returned unchanged`);
      return fn;
    }
    const reg = tasks();
    if (reg.wrappers.get(fn) === this.r) return fn;
    const wrapper = this.wrap(fn as unknown as Fn);
    reg.wrappers.set(wrapper, this.r);
    return wrapper as unknown as F;
  }

  private wrap(fn: Fn): Fn {
    const handle = this;
    const r = this.r;
    const wrapper = function (this: unknown): unknown {
      if (handle.disposed) return fn.apply(this, arguments as unknown as unknown[]);
      const start = clock();
      r.active++;
      let result: unknown;
      try {
        result = fn.apply(this, arguments as unknown as unknown[]);
      } catch (err) {
        r.finish(start, false);
        throw err;
      }
      if (isThenable(result)) return settleLater(r, start, result);
      r.finish(start, true);
      return result;
    };
    try {
      Object.defineProperty(wrapper, 'name', { value: fn.name, configurable: true });
      Object.defineProperty(wrapper, 'length', { value: fn.length, configurable: true });
    } catch {
      // cosmetic only
    }
    return wrapper;
  }

  measure<T>(work: (() => T) | PromiseLike<T>): T & Promise<T> {
    type Out = T & Promise<T>;
    if (this.disposed) return (typeof work === 'function' ? work() : work) as Out;
    const r = this.r;
    if (typeof work === 'function') {
      const start = clock();
      r.active++;
      let result: unknown;
      try {
        result = work();
      } catch (err) {
        r.finish(start, false);
        throw err;
      }
      if (isThenable(result)) return settleLater(r, start, result) as Out;
      r.finish(start, true);
      return result as Out;
    }
    if (isThenable(work)) {
      r.active++;
      return settleLater(r, clock(), work) as Out;
    }
    warnOnce('measure-work', `measure("${this.name}", …): expected a function or a promise; nothing is timed`);
    return work as Out;
  }

  record(seconds: number, outcome: TaskOutcome = 'success'): void {
    if (this.disposed) return;
    if (typeof seconds !== 'number' || !(seconds >= 0) || !Number.isFinite(seconds)) {
      warnOnce('task-record', `task "${this.name}": record() needs a duration in seconds >= 0; ignored`);
      return;
    }
    this.r.record(seconds, outcome !== 'error', clock());
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const reg = tasks();
    if (reg.handles.get(this.name) !== this) return;
    reg.handles.delete(this.name);
    this.r.live = false;
  }
}

function noopTask(name: string): TaskInstrumentation {
  return {
    name,
    timed: (fn) => fn,
    measure: ((work: unknown) => (typeof work === 'function' ? work() : work)) as TaskInstrumentation['measure'],
    record() {},
    dispose() {},
  };
}

/**
 * The handle of task `name`: the same one for every call until it is disposed (so
 * nothing is counted twice). Counting starts at once, before register() too; durations
 * are kept from registration on. A no-op when otelkit is disabled.
 */
export function instrumentTask(name: string): TaskInstrumentation {
  if (isDisabled()) return noopTask(name);
  if (typeof name !== 'string' || name === '') {
    warnOnce('task-name', 'a task name must be a non-empty string; that task is not reported');
    return noopTask(String(name));
  }
  const reg = tasks();
  const existing = reg.handles.get(name) as TaskInstrumentation | undefined;
  if (existing) return existing;
  const record = taskRecord(name);
  const handle = new TaskHandle(name, record);
  // Past the cap names share the overflow record, and are not kept.
  if (reg.records.get(name) === record) {
    record.live = true;
    reg.handles.set(name, handle);
  }
  return handle;
}

/** `timed(name)`: the `@timed(name)` method decorator. */
export function timed(name: string): TimedMethodDecorator;
/** `fn` wrapped as task `name`: each call is one run. */
export function timed<F extends AnyFunction>(name: string, fn: F): F;
export function timed(name: string, fn?: AnyFunction): unknown {
  if (arguments.length >= 2) return instrumentTask(name).timed(fn as AnyFunction);
  return (method: unknown, context: unknown): unknown => {
    if (typeof method !== 'function' || (context as { kind?: unknown } | undefined)?.kind !== 'method') {
      warnOnce(
        'timed-decorator',
        `@timed("${name}") decorates methods, as a standard decorator (TypeScript 5 without ` +
          'experimentalDecorators); left as it was',
      );
      return undefined;
    }
    return instrumentTask(name).timed(method as AnyFunction);
  };
}

/** Runs `work` now as one run of task `name`; returns what it returns. */
export function measure<T>(name: string, work: () => T): T;
/** One run of task `name`, from now until the promise settles; returns the chained promise. */
export function measure<T>(name: string, work: PromiseLike<T>): Promise<T>;
export function measure<T>(name: string, work: (() => T) | PromiseLike<T>): T | Promise<T> {
  return instrumentTask(name).measure(work as () => T);
}
