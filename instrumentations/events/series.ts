/**
 * The series of one event metric: one per attribute set, found from an event's
 * attributes without building a key. The allowlisted attributes (sorted by name) are
 * looked up level by level in nested Maps keyed by their values, so a track() reads a
 * few properties and does a few Map lookups, and allocates nothing once its attribute
 * set has a series. At most `limit` series, the `otel.metric.overflow=true` one
 * included: later attribute sets all go to that one, so totals stay exact.
 */
import type { Attributes } from '@opentelemetry/api';
import { OVERFLOW_ATTRIBUTES } from '../../src/overflow.js';

export type EventAttributes = Readonly<Record<string, unknown>>;

/** A counter's or up-down counter's sum, or a gauge's last value (read by src/histograms/in-place-numbers.ts). */
export class NumberSeries {
  value = 0;
  /** For gauges: whether a value was ever set. */
  set = false;
  readonly startMs = Date.now();
  constructor(readonly attributes: Attributes) {}
}

/**
 * An attribute's label value: strings as they are (the empty string counts as
 * missing), numbers and booleans as text; anything else is missing.
 */
function labelOf(attributes: EventAttributes | undefined, key: string, fallback: string): string {
  const v = attributes?.[key];
  if (typeof v === 'string') return v === '' ? fallback : v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return fallback;
}

type Node<S> = Map<string, Node<S> | S>;

export class SeriesTable<S extends object> {
  /** Every series but the overflow one, in creation order (read at collection). */
  readonly all: S[] = [];
  overflow: S | undefined;
  private readonly root: Node<S> = new Map();
  private single: S | undefined;

  constructor(
    private readonly limit: number,
    private readonly make: (attributes: Attributes) => S,
  ) {}

  /** The series of the attribute set that `keys` (sorted) pick from `attributes`, `fallbacks` filling gaps. */
  lookup(attributes: EventAttributes | undefined, keys: readonly string[], fallbacks: readonly string[]): S {
    const last = keys.length - 1;
    if (last < 0) return (this.single ??= this.add({}));
    let node = this.root;
    for (let i = 0; i < last; i++) {
      const label = labelOf(attributes, keys[i]!, fallbacks[i]!);
      let next = node.get(label) as Node<S> | undefined;
      if (next === undefined) {
        if (this.full()) return this.overflowSeries();
        next = new Map();
        node.set(label, next);
      }
      node = next;
    }
    const label = labelOf(attributes, keys[last]!, fallbacks[last]!);
    const found = node.get(label) as S | undefined;
    if (found !== undefined) return found;
    if (this.full()) return this.overflowSeries();
    const attrs: Record<string, string> = {};
    for (let i = 0; i <= last; i++) attrs[keys[i]!] = labelOf(attributes, keys[i]!, fallbacks[i]!);
    const series = this.add(Object.freeze(attrs));
    node.set(label, series);
    return series;
  }

  /** Every series, the overflow one last. */
  *series(): Generator<S> {
    yield* this.all;
    if (this.overflow) yield this.overflow;
  }

  private full(): boolean {
    return this.all.length >= this.limit - 1;
  }

  private add(attributes: Attributes): S {
    const series = this.make(attributes);
    this.all.push(series);
    return series;
  }

  private overflowSeries(): S {
    return (this.overflow ??= this.make(OVERFLOW_ATTRIBUTES));
  }
}
