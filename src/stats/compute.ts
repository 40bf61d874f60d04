/**
 * Builds the /stats object from the live route totals, the snapshot ring, the event
 * loop window and the contributors. Pure apart from what it is given to read, so it
 * can be computed from an injected clock and benchmarked.
 */
import { bucketPercentile } from './percentile.js';
import { addInto, difference, emptyTotals, type RouteTotals, type Totals } from './route-totals.js';
import type { SnapshotRing } from './snapshot-ring.js';
import type { EventLoopFigures } from './event-loop.js';

export interface WindowFigures {
  /** The window asked for, e.g. `5m`, and the seconds the figures actually cover (less while the process is young). */
  window: string;
  coveredSeconds: number;
  requests: number;
  errors: number;
  /** errors / requests; null without requests. */
  errorRatio: number | null;
  /** Seconds; null without requests. */
  avg: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
}

export interface RouteStats {
  route: string;
  windows: WindowFigures[];
  /** Since start: `le` upper bounds in seconds (`+Inf` last) and the cumulative count at or below each. */
  distribution: { le: number | '+Inf'; count: number }[];
}

export interface Stats {
  /** ISO time the snapshot was computed. */
  time: string;
  uptimeSeconds: number;
  http: { overall: RouteStats; routes: RouteStats[] };
  eventLoop: (Omit<EventLoopFigures, 'windowSeconds'> & { window: string; coveredSeconds: number }) | null;
  memory: { heapUsedBytes: number; heapTotalBytes: number; rssBytes: number };
  /** Sections from the instrumentation families (caches, limiters, breakers, queues, ...). */
  [section: string]: unknown;
}

export interface ComputeInput {
  nowMs: number;
  startMs: number;
  live: RouteTotals;
  ring: SnapshotRing;
  windowsSeconds: readonly number[];
  eventLoop: EventLoopFigures | undefined;
  memory: { heapUsed: number; heapTotal: number; rss: number };
  contributions: Record<string, Record<string, unknown>[]>;
}

export function computeStats(input: ComputeInput): Stats {
  const { nowMs, live, ring } = input;
  const buckets = live.boundaries.length + 1;
  const baselines = input.windowsSeconds.map((s) => ring.baseline(nowMs, s * 1000));
  // windowFigures reads a difference before the next one is made: one buffer serves them all
  const scratch = new Float64Array(buckets);
  const figures = (route: string | undefined, now: Totals): WindowFigures[] =>
    input.windowsSeconds.map((seconds, i) => {
      const base = baselines[i];
      const older = base === undefined ? undefined : olderTotals(base.totals, route, buckets);
      const since = base?.atMs ?? input.startMs;
      return windowFigures(seconds, (nowMs - since) / 1000, difference(now, older, scratch), live.boundaries);
    });

  const overall = emptyTotals(buckets);
  const routes: RouteStats[] = [];
  for (const [route, totals] of live.routes) {
    addInto(overall, totals);
    routes.push({ route, windows: figures(route, totals), distribution: distribution(live.boundaries, totals) });
  }
  routes.sort((a, b) => (a.route < b.route ? -1 : a.route > b.route ? 1 : 0));

  const el = input.eventLoop;
  return {
    time: new Date(nowMs).toISOString(),
    uptimeSeconds: round((nowMs - input.startMs) / 1000),
    http: {
      overall: {
        route: '*',
        windows: figures(undefined, overall),
        distribution: distribution(live.boundaries, overall),
      },
      routes,
    },
    eventLoop: el
      ? {
          delay: el.delay,
          utilization: el.utilization,
          window: label(el.windowSeconds),
          coveredSeconds: el.windowSeconds,
        }
      : null,
    memory: {
      heapUsedBytes: input.memory.heapUsed,
      heapTotalBytes: input.memory.heapTotal,
      rssBytes: input.memory.rss,
    },
    ...input.contributions,
  };
}

/** A route's totals in a baseline snapshot, or all routes added up (`route` undefined). */
function olderTotals(totals: RouteTotals, route: string | undefined, buckets: number): Totals | undefined {
  // a route absent from the baseline had no requests then: all of its requests are in the window
  if (route !== undefined) return totals.routes.get(route);
  const all = emptyTotals(buckets);
  for (const t of totals.routes.values()) addInto(all, t);
  return all;
}

function windowFigures(seconds: number, covered: number, t: Totals, boundaries: readonly number[]): WindowFigures {
  const p = (q: number) => {
    const v = bucketPercentile(boundaries, t.counts, q);
    return v === undefined ? null : round(v);
  };
  return {
    window: label(seconds),
    coveredSeconds: Math.max(0, Math.round(Math.min(covered, seconds))),
    requests: t.count,
    errors: t.errors,
    errorRatio: t.count > 0 ? round(t.errors / t.count) : null,
    avg: t.count > 0 ? round(t.sum / t.count) : null,
    p50: p(0.5),
    p90: p(0.9),
    p95: p(0.95),
    p99: p(0.99),
  };
}

function distribution(boundaries: readonly number[], t: Totals): { le: number | '+Inf'; count: number }[] {
  const out: { le: number | '+Inf'; count: number }[] = [];
  let cumulative = 0;
  for (let i = 0; i < t.counts.length; i++) {
    cumulative += t.counts[i]!;
    out.push({ le: i < boundaries.length ? boundaries[i]! : '+Inf', count: cumulative });
  }
  return out;
}

/** `60` -> `1m`, `90` -> `90s`, `3600` -> `1h`. */
export function label(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
