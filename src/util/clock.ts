/**
 * The one clock for durations: milliseconds on the monotonic clock. `performance`
 * comes from node:perf_hooks, not the global, whose lazy accessor runs a getter (with
 * a brand check) on every access. Wall-clock timestamps (a data point's start and end
 * time) stay Date.now().
 */
import { performance } from 'node:perf_hooks';

export const clock: () => number = performance.now.bind(performance);

/** Seconds elapsed since `startMs` (a `clock()` reading), never negative. */
export function secondsSince(startMs: number): number {
  const s = (clock() - startMs) / 1000;
  return Math.max(s, 0);
}
