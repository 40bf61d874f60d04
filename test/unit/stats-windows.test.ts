// The /stats figures: percentiles interpolated within buckets stay inside the bucket
// that holds the exact percentile (the error bound the README states), and the
// sliding windows forget traffic older than they are (an injected clock, no sleeps).
import { describe, expect, it } from 'vitest';
import { bucketPercentile, percentileBucket } from '../../src/stats/percentile.js';
import { StatsService } from '../../src/stats/stats-service.js';
import type { RouteTotals, Totals } from '../../src/stats/route-totals.js';
import { SECONDS_BUCKETS } from '../../src/series-policy.js';

/** A seeded generator (mulberry32), so the sample is the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Log-normal latencies in seconds: median e^mu, spread sigma (Box-Muller). */
function logNormalSample(n: number, mu: number, sigma: number, seed: number): number[] {
  const r = random(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    out.push(Math.exp(mu + sigma * z));
  }
  return out;
}

function bucketCounts(boundaries: readonly number[], values: number[]): Float64Array {
  const counts = new Float64Array(boundaries.length + 1);
  for (const v of values) {
    let i = 0;
    while (i < boundaries.length && v > boundaries[i]!) i++;
    counts[i]!++;
  }
  return counts;
}

/** The exact percentile as the nearest rank: the smallest value with at least q of the sample at or below it. */
function exactPercentile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

describe('percentiles by interpolation within buckets', () => {
  const boundaries = SECONDS_BUCKETS;
  for (const [mu, sigma] of [
    [Math.log(0.05), 0.8],
    [Math.log(0.2), 1.2],
    [Math.log(0.01), 0.5],
  ] as const) {
    it(`lie in the exact percentile's bucket (log-normal, median ${Math.exp(mu).toFixed(3)} s, sigma ${sigma})`, () => {
      const sample = logNormalSample(20_000, mu, sigma, 17);
      const sorted = [...sample].sort((a, b) => a - b);
      const counts = bucketCounts(boundaries, sample);
      for (const q of [0.5, 0.9, 0.95, 0.99]) {
        const exact = exactPercentile(sorted, q);
        const estimate = bucketPercentile(boundaries, counts, q)!;
        const bucket = percentileBucket(boundaries, counts, q)!;
        expect(exact).toBeGreaterThan(bucket.lower);
        expect(exact).toBeLessThanOrEqual(bucket.upper);
        if (bucket.upper === Infinity) {
          expect(estimate).toBe(boundaries[boundaries.length - 1]);
        } else {
          expect(estimate).toBeGreaterThanOrEqual(bucket.lower);
          expect(estimate).toBeLessThanOrEqual(bucket.upper);
          expect(Math.abs(estimate - exact)).toBeLessThanOrEqual(bucket.upper - bucket.lower);
        }
      }
    });
  }

  it('interpolates linearly: 10 values in (0.1, 0.25] put the median halfway', () => {
    const counts = new Float64Array([0, 10, 0]);
    expect(bucketPercentile([0.1, 0.25], counts, 0.5)).toBeCloseTo(0.175, 10);
    expect(bucketPercentile([0.1, 0.25], counts, 1)).toBeCloseTo(0.25, 10);
  });

  it('has no percentile without values', () => {
    expect(bucketPercentile([0.1], new Float64Array(2), 0.5)).toBeUndefined();
  });
});

/** A fake HTTP series source the test adds requests to: route -> bucket index -> count. */
class FakeTraffic {
  readonly boundaries = [0.1, 0.5, 1];
  private readonly routes = new Map<string, Totals>();

  add(route: string, seconds: number, n: number, error = false): void {
    let t = this.routes.get(route);
    if (!t) this.routes.set(route, (t = { counts: new Float64Array(4), sum: 0, count: 0, errors: 0 }));
    const i = this.boundaries.findIndex((b) => seconds <= b);
    t.counts[i === -1 ? 3 : i]! += n;
    t.sum += seconds * n;
    t.count += n;
    if (error) t.errors += n;
  }

  read = (): RouteTotals => {
    const routes = new Map<string, Totals>();
    for (const [k, t] of this.routes) routes.set(k, { ...t, counts: t.counts.slice() });
    return { boundaries: this.boundaries, routes };
  };
}

describe('sliding windows', () => {
  function setup(windowsSeconds = [60, 300]) {
    let now = 1_000_000;
    const traffic = new FakeTraffic();
    const service = new StatsService({
      windowsSeconds,
      intervalMs: 15_000,
      cacheMs: 0,
      timer: false,
      nowMs: () => now,
      read: traffic.read,
    });
    /** Moves the clock by `seconds`, taking a snapshot every 15 s on the way, as the timer would. */
    const advance = (seconds: number) => {
      for (let s = 0; s < seconds; s += 15) {
        now += 15_000;
        service.tick();
      }
    };
    return { service, traffic, advance };
  }

  it('forget requests older than the window, route by route and overall', () => {
    const { service, traffic, advance } = setup();
    traffic.add('/old', 0.05, 100);
    advance(120); // /old is now 2 minutes old
    traffic.add('/new', 0.3, 10, true);
    traffic.add('/new', 0.05, 30);
    const stats = service.get();
    const overall = stats.http.overall.windows;
    expect(overall.map((w) => [w.window, w.requests])).toEqual([
      ['1m', 40],
      ['5m', 140],
    ]);
    expect(overall[0]!.errorRatio).toBe(0.25);
    expect(overall[0]!.coveredSeconds).toBe(60);
    // 5 minutes were asked for, 2 minutes have passed since start
    expect(overall[1]!.coveredSeconds).toBe(120);
    const old = stats.http.routes.find((r) => r.route === '/old')!;
    expect(old.windows.map((w) => w.requests)).toEqual([0, 100]);
    expect(old.windows[0]!.p50).toBeNull();
    expect(old.windows[0]!.avg).toBeNull();
    expect(old.windows[1]!.avg).toBeCloseTo(0.05, 6);
    // cumulative distribution since start, whatever the window
    expect(old.distribution).toEqual([
      { le: 0.1, count: 100 },
      { le: 0.5, count: 100 },
      { le: 1, count: 100 },
      { le: '+Inf', count: 100 },
    ]);
    const fresh = stats.http.routes.find((r) => r.route === '/new')!.windows[0]!;
    expect(fresh.requests).toBe(40);
    expect(fresh.errors).toBe(10);
    // 30 of 40 in (0, 0.1], 10 in (0.1, 0.5]: p50 at rank 20 is 2/3 into the first bucket
    expect(fresh.p50).toBeCloseTo(0.1 * (20 / 30), 5);
    expect(fresh.p90).toBeCloseTo(0.1 + 0.4 * (6 / 10), 5);
  });

  it('all windows empty once the traffic is older than the longest', () => {
    const { service, traffic, advance } = setup();
    traffic.add('/a', 0.05, 5);
    advance(400);
    expect(service.get().http.overall.windows.map((w) => w.requests)).toEqual([0, 0]);
  });

  it('keep a bounded ring: snapshots beyond the longest window are dropped', () => {
    const { service, advance } = setup([60, 300]);
    advance(3600);
    expect(service.ring.size).toBe(300 / 15 + 2);
  });

  it('share one computation between requests within the cache time', () => {
    let now = 0;
    const traffic = new FakeTraffic();
    const service = new StatsService({ windowsSeconds: [60], timer: false, nowMs: () => now, read: traffic.read });
    const results = Array.from({ length: 20 }, () => service.get());
    expect(service.computations).toBe(1);
    expect(new Set(results).size).toBe(1);
    now += 999;
    service.get();
    expect(service.computations).toBe(1);
    now += 1;
    traffic.add('/a', 0.05, 1);
    expect(service.get().http.overall.windows[0]!.requests).toBe(1);
    expect(service.computations).toBe(2);
    service.stop();
  });
});
