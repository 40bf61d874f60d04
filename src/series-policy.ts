/**
 * The one place that decides, per instrument, what its series look like: its
 * histogram bucket boundaries and its cardinality limit. The bucket advice and views
 * (buckets.ts), the cumulation (exporters/cumulative.ts), the in-place duration
 * histograms (histograms/) and the HTTP series tables all ask here, so a rule is
 * changed once and no caller repeats a default.
 */
import type { OtelkitConfig } from './config/types.js';

/** The HTTP semantic-convention buckets, in seconds. */
export const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
export const MILLISECONDS_BUCKETS = SECONDS_BUCKETS.map((b) => Math.round(b * 1000));
/** The SDK's own default boundaries, for units that have none of their own. */
export const DEFAULT_BUCKETS = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];
/** Powers of 4 from 64 B to 64 MiB. */
export const BYTES_BUCKETS = Array.from({ length: 11 }, (_, i) => 4 ** (i + 3));

const BY_UNIT: Record<string, number[]> = {
  s: SECONDS_BUCKETS,
  ms: MILLISECONDS_BUCKETS,
  By: BYTES_BUCKETS,
};

/** The SDK's default, and otelkit's when the configuration sets none. */
export const DEFAULT_CARDINALITY_LIMIT = 2000;

type SeriesConfig = Pick<OtelkitConfig, 'histogramBuckets' | 'cardinalityLimit'>;

export function defaultBucketsForUnit(unit: string | undefined): number[] | undefined {
  return unit === undefined ? undefined : BY_UNIT[unit];
}

/** The boundaries `histogramBuckets` / OTELKIT_HISTOGRAM_BUCKETS gives `name`, if any. */
export function configuredBuckets(config: Partial<SeriesConfig> | undefined, name: string): number[] | undefined {
  const configured = config?.histogramBuckets?.[name];
  return Array.isArray(configured) && configured.length > 0 ? configured : undefined;
}

/**
 * The boundaries of histogram `name`: the configured ones, else `preferred` (an
 * instrument's own default), else the default for its unit.
 */
export function bucketsFor(
  config: Partial<SeriesConfig> | undefined,
  name: string,
  unit: string,
  preferred?: readonly number[],
): readonly number[] | undefined {
  return configuredBuckets(config, name) ?? preferred ?? defaultBucketsForUnit(unit);
}

/**
 * The cardinality limit of instrument `name`: at most this many series for as long
 * as the process lives, the `otel.metric.overflow=true` one included. The same for
 * every instrument today; callers pass the name so a per-instrument rule needs no
 * caller to change.
 */
export function cardinalityLimitFor(config: Partial<SeriesConfig> | undefined, _name: string): number {
  return Math.max(1, config?.cardinalityLimit || DEFAULT_CARDINALITY_LIMIT);
}

/**
 * The cap to give the SDK's per-cycle storage of an instrument (the reader's
 * cardinality selector, or a view's `aggregationCardinalityLimit`, which replaces
 * it for the view's stream). Where otelkit cumulates the SDK's deltas, it enforces
 * `limit` itself, across cycles, and the SDK gets twice the limit: the SDK fills its
 * per-cycle storage in arrival order, so with the bare limit a burst of new
 * attribute sets in one interval would push an attribute set that already has its
 * own series into the SDK's overflow point. Per-cycle memory stays O(limit).
 * Elsewhere the SDK's cap is the only one, so it gets the bare limit.
 */
export function sdkCycleLimit(limit: number, cumulatedByOtelkit: boolean): number {
  return cumulatedByOtelkit ? Math.max(2 * limit, limit + 1) : limit;
}
