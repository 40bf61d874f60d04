/**
 * Event-loop delay percentiles and utilization over the last complete interval
 * between two snapshot ticks: Node's own monitor (a native HDR histogram sampled
 * on a timer, nothing per request), read and reset at each tick.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

type Elu = ReturnType<typeof performance.eventLoopUtilization>;

export interface EventLoopFigures {
  /** Seconds, over `windowSeconds`. */
  delay: { p50: number; p95: number; p99: number; mean: number; max: number };
  /** Share of the interval the loop was busy, 0 to 1. */
  utilization: number;
  windowSeconds: number;
}

export class EventLoopWindow {
  private readonly monitor: ReturnType<typeof monitorEventLoopDelay>;
  private lastElu: Elu = performance.eventLoopUtilization();
  private lastAtMs: number;
  private figures: EventLoopFigures | undefined;

  constructor(
    private readonly nowMs: () => number,
    resolutionMs = 10,
  ) {
    this.monitor = monitorEventLoopDelay({ resolution: resolutionMs });
    this.monitor.enable();
    this.lastAtMs = nowMs();
  }

  /** Closes the current interval: its figures become the ones reported. */
  tick(): void {
    const at = this.nowMs();
    const elu = performance.eventLoopUtilization();
    const m = this.monitor;
    const s = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
    if (m.count > 0) {
      this.figures = {
        delay: {
          p50: s(m.percentile(50)),
          p95: s(m.percentile(95)),
          p99: s(m.percentile(99)),
          mean: s(m.mean),
          max: s(m.max),
        },
        utilization: performance.eventLoopUtilization(elu, this.lastElu).utilization,
        windowSeconds: Math.round((at - this.lastAtMs) / 1000),
      };
    }
    m.reset();
    this.lastElu = elu;
    this.lastAtMs = at;
  }

  /**
   * The last complete interval's figures; before the first tick, the interval so far
   * (undefined without samples yet).
   */
  read(): EventLoopFigures | undefined {
    // until the first tick, the figures so far, once the monitor has a sample
    if (this.figures === undefined && this.monitor.count > 0) this.tick();
    return this.figures;
  }

  stop(): void {
    this.monitor.disable();
  }
}
