/**
 * The running /stats source: a timer (unref'd) that every `intervalMs` stores the HTTP
 * route totals in the ring and closes the event-loop interval, and get(), which
 * computes the snapshot at most once per `cacheMs` so that concurrent requests (and
 * getStats() calls) share one computation.
 */
import { processSingleton } from '../process-singleton.js';
import { computeStats, type Stats } from './compute.js';
import { readContributions } from './contributors.js';
import { EventLoopWindow } from './event-loop.js';
import { readRouteTotals, type RouteTotals } from './route-totals.js';
import { SnapshotRing } from './snapshot-ring.js';

export const SNAPSHOT_INTERVAL_MS = 15_000;
export const STATS_CACHE_MS = 1_000;

export interface StatsServiceOptions {
  windowsSeconds: readonly number[];
  intervalMs?: number;
  cacheMs?: number;
  /** Wall-clock milliseconds (tests inject their own). */
  nowMs?: () => number;
  /** The live route totals (tests inject their own). */
  read?: () => RouteTotals;
  /** False: no timer, the caller calls tick() (tests). */
  timer?: boolean;
}

export class StatsService {
  /** How many times the snapshot was computed (the sharing is tested on it). */
  computations = 0;
  readonly ring: SnapshotRing;
  private readonly nowMs: () => number;
  private readonly read: () => RouteTotals;
  private readonly startMs: number;
  /** Started by the first snapshot: a process nobody asks for /stats runs no second event-loop monitor. */
  private eventLoop: EventLoopWindow | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private cached: { atMs: number; stats: Stats } | undefined;

  constructor(private readonly options: StatsServiceOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    this.read = options.read ?? readRouteTotals;
    this.startMs = this.nowMs();
    const intervalMs = options.intervalMs ?? SNAPSHOT_INTERVAL_MS;
    const longest = Math.max(...options.windowsSeconds) * 1000;
    // One snapshot older than the longest window, plus the ones inside it.
    this.ring = new SnapshotRing(Math.ceil(longest / intervalMs) + 2);
    if (options.timer !== false) {
      this.timer = setInterval(() => this.tick(), intervalMs);
      this.timer.unref();
    }
  }

  tick(): void {
    this.ring.push({ atMs: this.nowMs(), totals: this.read() });
    this.eventLoop?.tick();
  }

  get(): Stats {
    const now = this.nowMs();
    const cacheMs = this.options.cacheMs ?? STATS_CACHE_MS;
    if (this.cached && now >= this.cached.atMs && now - this.cached.atMs < cacheMs) return this.cached.stats;
    this.computations++;
    const memory = process.memoryUsage();
    const stats = computeStats({
      nowMs: now,
      startMs: this.startMs,
      live: this.read(),
      ring: this.ring,
      windowsSeconds: this.options.windowsSeconds,
      eventLoop: (this.eventLoop ??= new EventLoopWindow(this.nowMs)).read(),
      memory,
      contributions: readContributions(),
    });
    this.cached = { atMs: now, stats };
    return stats;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.eventLoop?.stop();
  }
}

/** The service register() started, shared by both builds. */
export function statsHolder(): { service?: StatsService } {
  return processSingleton<{ service?: StatsService }>('otelkit.stats', () => ({}));
}
