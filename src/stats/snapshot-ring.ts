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
   * `windowMs` ago. Undefined when none is that old: the process is younger than the
   * window (the ring holds one snapshot older than the longest window once it is
   * not), and the window starts at the start.
   */
  baseline(nowMs: number, windowMs: number): TimedTotals | undefined {
    const cutoff = nowMs - windowMs;
    let found: TimedTotals | undefined;
    for (const item of this.items) {
      if (item.atMs <= cutoff) found = item;
      else break;
    }
    return found;
  }
}
