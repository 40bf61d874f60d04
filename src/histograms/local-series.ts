/**
 * The in-place histogram series: what an instrumented target records into on its hot
 * path, read by the producer (producer.ts) at collection.
 */
import type { Attributes } from '@opentelemetry/api';

/** What a target holds to record its values (durations in seconds, sizes in bytes). */
export interface HistogramSeries {
  /** `value` must be a finite number >= 0 (callers check). */
  record(value: number): void;
}

/**
 * Where LocalSeries keeps what: [sum, count, min, max, then per bucket i its upper
 * bound and its count], the last bucket's bound being +Infinity.
 */
const SUM = 0;
const COUNT = 1;
const MIN = 2;
const MAX = 3;
const BUCKETS = 4;

/**
 * A series aggregated in place (the fast path). Everything a record touches sits in
 * one Float64Array, instead of a counts array, a bounds array and three boxed numbers:
 * on a hot path the rest of a request's work evicts these between two records, so
 * each cache line touched is a likely miss. A bucket's bound sits next to its count,
 * so a duration in the first buckets touches one line; the +Infinity bound ends the
 * scan without a length check.
 */
export class LocalSeries implements HistogramSeries {
  private readonly data: Float64Array;
  readonly startMs = Date.now();

  constructor(
    readonly boundaries: readonly number[],
    readonly attributes: Attributes,
  ) {
    const n = boundaries.length;
    this.data = new Float64Array(BUCKETS + 2 * (n + 1));
    for (let i = 0; i < n; i++) this.data[BUCKETS + 2 * i] = boundaries[i]!;
    this.data[BUCKETS + 2 * n] = Infinity;
    this.data[MIN] = Infinity;
    this.data[MAX] = -Infinity;
  }

  record(value: number): void {
    const d = this.data;
    let i = BUCKETS;
    while (value > d[i]!) i += 2; // upper bounds are inclusive, as in the SDK; stops at +Infinity at the latest
    d[i + 1]!++;
    d[SUM] = d[SUM]! + value;
    d[COUNT]!++;
    if (value < d[MIN]!) d[MIN] = value;
    if (value > d[MAX]!) d[MAX] = value;
  }

  /** A copy of the bucket counts. */
  get counts(): Float64Array {
    const counts = new Float64Array(this.boundaries.length + 1);
    for (let i = 0; i < counts.length; i++) counts[i] = this.data[BUCKETS + 2 * i + 1]!;
    return counts;
  }
  get sum(): number {
    return this.data[SUM]!;
  }
  get count(): number {
    return this.data[COUNT]!;
  }
  get min(): number {
    return this.data[MIN]!;
  }
  get max(): number {
    return this.data[MAX]!;
  }
}
