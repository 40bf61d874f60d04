/**
 * A bounded ring of timed route totals, oldest first. Memory is capacity x routes x
 * buckets, whatever the traffic.
 */
import type { RouteTotals } from './route-totals.js';

export interface TimedTotals {
  atMs: number;
  totals: RouteTotals;
}

export class SnapshotRing {
  private readonly items: TimedTotals[] = [];

  constructor(readonly capacity: number) {}

  push(item: TimedTotals): void {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.shift();
  }

  get size(): number {
    return this.items.length;
  }

  /**
   * The baseline of a window ending now: the newest snapshot taken at least
   * `windowMs` ago; when none is that old, the oldest one kept (the window is then
   * shorter, and says so); undefined when the ring is empty.
   */
  baseline(nowMs: number, windowMs: number): TimedTotals | undefined {
    const cutoff = nowMs - windowMs;
    let found: TimedTotals | undefined;
    for (const item of this.items) {
      if (item.atMs <= cutoff) found = item;
      else break;
    }
    return found ?? this.items[0];
  }
}
