/**
 * One record per session source (an express-session store or a named tracker):
 * integer fields, plus small bounded tables for the caller-given reasons, read by
 * observable instruments at collection (the pattern of shared/targets.ts).
 * Session ages go to an in-place histogram series per source.
 */
import { diag, ValueType, type BatchObservableResult, type Meter, type Observable } from '@opentelemetry/api';
import type { OtelkitConfig } from '../../src/config/types.js';
import { InPlaceHistogram, type HistogramSeries } from '../../src/histograms/in-place-histogram.js';
import { Family } from '../shared/targets.js';
import { SESSION } from '../metric-names.js';

type NameAttrs = { 'session.source.name': string };

/** Series per source and kind, `other` included: reasons beyond the first MAX_REASONS - 1 count as `other`. */
export const MAX_REASONS = 16;

export type StoreOperation = 'get' | 'set' | 'touch' | 'destroy' | 'length';
export const STORE_OPERATIONS: readonly StoreOperation[] = ['get', 'set', 'touch', 'destroy', 'length'];

/** Counts by a caller-given reason, bounded to MAX_REASONS distinct values plus `other`. */
export class ReasonCounts {
  readonly counts = new Map<string, { attrs: Readonly<Record<string, string>>; count: number }>();

  constructor(
    private readonly source: string,
    private readonly key: string,
  ) {}

  add(reason: string, n = 1): void {
    let entry = this.counts.get(reason);
    if (entry === undefined) {
      if (this.counts.size >= MAX_REASONS - 1 && reason !== 'other') {
        diag.debug(`otelkit: session source "${this.source}" has over ${MAX_REASONS} ${this.key} values`);
        this.add('other', n);
        return;
      }
      entry = { attrs: Object.freeze({ 'session.source.name': this.source, [this.key]: reason }), count: 0 };
      this.counts.set(reason, entry);
    }
    entry.count += n;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(Array.from(this.counts, ([reason, e]) => [reason, e.count]));
  }
}

/** The figures of one source, as plain numbers (for a JSON snapshot). */
export interface SessionSourceSnapshot {
  name: string;
  /** Undefined when a store cannot tell (no `length()`). */
  active: number | undefined;
  started: number;
  ended: Record<string, number>;
  refreshed: Record<string, number>;
  errors: number;
}

export class SessionRecord {
  starts = 0;
  /** Generic trackers: started minus ended. Stores: their own count, read at collection. */
  active = 0;
  /**
   * Stores: the last count their `length()` gave at a collection (or sessionSnapshot()), so
   * /stats, which is computed synchronously, shows it without calling the store. A read that
   * fails or times out keeps the previous count.
   */
  lastLength: number | undefined;
  readonly ends: ReasonCounts;
  readonly refreshes: ReasonCounts;
  readonly errors: Record<StoreOperation, number> = { get: 0, set: 0, touch: 0, destroy: 0, length: 0 };
  durationSeries: HistogramSeries | undefined;
  readonly attrs: NameAttrs;
  readonly errorAttrs: Record<StoreOperation, NameAttrs & { 'session.store.operation': StoreOperation }>;

  constructor(
    readonly name: string,
    readonly kind: 'store' | 'tracker',
    /** Stores with `length()`: their active-session count, read at collection. Trackers count their own. */
    readonly readActive?: () => Promise<number | undefined>,
  ) {
    this.attrs = Object.freeze({ 'session.source.name': name });
    this.ends = new ReasonCounts(name, 'session.end.reason');
    this.refreshes = new ReasonCounts(name, 'session.refresh.reason');
    this.errorAttrs = Object.fromEntries(
      STORE_OPERATIONS.map((op) => [op, Object.freeze({ 'session.source.name': name, 'session.store.operation': op })]),
    ) as SessionRecord['errorAttrs'];
  }

  /** A session's age in seconds, when known. */
  age(seconds: number): void {
    if (sessionDuration !== undefined && seconds >= 0)
      (this.durationSeries ??= sessionDuration.series(this.attrs)).record(seconds);
  }

  snapshot(active: number | undefined = this.kind === 'tracker' ? this.active : undefined): SessionSourceSnapshot {
    let errors = 0;
    for (const op of STORE_OPERATIONS) errors += this.errors[op];
    return {
      name: this.name,
      active,
      started: this.starts,
      ended: this.ends.toJSON(),
      refreshed: this.refreshes.toJSON(),
      errors,
    };
  }
}

let sessionDuration: InPlaceHistogram | undefined;
let instruments: Record<'active' | 'starts' | 'ends' | 'refreshes' | 'errors', Observable> | undefined;

export const sessionFamily = new Family<SessionRecord>({
  kind: 'session source',
  stats: {
    section: 'sessions',
    entry(r) {
      const { name, active, ...figures } = r.snapshot(r.kind === 'tracker' ? r.active : r.lastLength);
      return { name, kind: r.kind, window: 'since instrumented', active: active ?? null, ...figures };
    },
  },
  instruments(meter: Meter, config: OtelkitConfig): Observable[] {
    sessionDuration = new InPlaceHistogram(meter, config, {
      name: SESSION.duration.name,
      description: 'Age of sessions when they ended',
      live: () => Array.from(sessionFamily.live, (r) => r.durationSeries),
    });
    const counter = (c: { name: string; unit: string }, description: string) =>
      meter.createObservableCounter(c.name, { unit: c.unit, description, valueType: ValueType.INT });
    instruments = {
      active: meter.createObservableUpDownCounter(SESSION.active.name, {
        unit: SESSION.active.unit,
        description: 'Sessions currently active',
        valueType: ValueType.INT,
      }),
      starts: counter(SESSION.starts, 'Sessions started (created)'),
      ends: counter(SESSION.ends, 'Sessions ended, by reason'),
      refreshes: counter(SESSION.refreshes, 'Sessions refreshed (touched, saved, renewed), by reason'),
      errors: counter(SESSION.storeErrors, 'Session store operations that failed, by operation'),
    };
    return Object.values(instruments);
  },
  observe(result: BatchObservableResult, r: SessionRecord): void | Promise<void> {
    const i = instruments!;
    result.observe(i.starts, r.starts, r.attrs);
    for (const e of r.ends.counts.values()) result.observe(i.ends, e.count, e.attrs);
    for (const e of r.refreshes.counts.values()) result.observe(i.refreshes, e.count, e.attrs);
    if (r.kind === 'tracker') {
      result.observe(i.active, r.active, r.attrs);
      return;
    }
    for (const op of STORE_OPERATIONS) result.observe(i.errors, r.errors[op], r.errorAttrs[op]);
    return r.readActive?.().then((active) => {
      if (active === undefined) return;
      r.lastLength = active;
      result.observe(i.active, active, r.attrs);
    });
  },
});

/** The figures of every live session source, for a JSON snapshot (/stats); stores are asked for their count. */
export async function sessionSnapshot(): Promise<SessionSourceSnapshot[]> {
  return Promise.all(
    Array.from(sessionFamily.live, async (r) => {
      if (r.kind === 'tracker') return r.snapshot(r.active);
      const active = await r.readActive?.();
      if (active !== undefined) r.lastLength = active;
      return r.snapshot(active);
    }),
  );
}
