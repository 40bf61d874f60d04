/**
 * Percentiles from explicit-bucket counts, by linear interpolation within the bucket
 * that holds the rank (as Prometheus' histogram_quantile does). The true value lies in
 * the same bucket, so the error is at most that bucket's width; past the last finite
 * bound nothing is known, and the estimate is that bound.
 */

/**
 * `q` in [0, 1]; `counts[i]` counts values in (boundaries[i-1], boundaries[i]], the
 * last one those above the last bound. Undefined when there are no values.
 */
export function bucketPercentile(
  boundaries: readonly number[],
  counts: ArrayLike<number>,
  q: number,
): number | undefined {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total <= 0) return undefined;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const inBucket = counts[i]!;
    if (inBucket > 0 && below + inBucket >= rank) {
      if (i >= boundaries.length) return boundaries[boundaries.length - 1] ?? 0;
      const lower = i === 0 ? Math.min(0, boundaries[0]!) : boundaries[i - 1]!;
      const upper = boundaries[i]!;
      return lower + ((upper - lower) * Math.max(0, rank - below)) / inBucket;
    }
    below += inBucket;
  }
  return boundaries[boundaries.length - 1] ?? 0;
}

/** The bounds of the bucket the `q` percentile falls in: what the estimate's error is bounded by. */
export function percentileBucket(
  boundaries: readonly number[],
  counts: ArrayLike<number>,
  q: number,
): { lower: number; upper: number } | undefined {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total <= 0) return undefined;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    below += counts[i]!;
    if (counts[i]! > 0 && below >= q * total)
      return {
        lower: i === 0 ? Math.min(0, boundaries[0]!) : boundaries[i - 1]!,
        upper: i < boundaries.length ? boundaries[i]! : Infinity,
      };
  }
  return undefined;
}

/**
 * The `q` percentile since start of an in-place histogram series (read by shape: a
 * series of another otelkit build, or the SDK fallback, has no counts: undefined).
 */
export function seriesPercentile(series: object | undefined, q: number): number | undefined {
  const s = series as { boundaries?: readonly number[]; counts?: ArrayLike<number> } | undefined;
  if (!s?.boundaries || !s.counts) return undefined;
  return bucketPercentile(s.boundaries, s.counts, q);
}
