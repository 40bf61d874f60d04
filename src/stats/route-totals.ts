/**
 * Reads the in-place HTTP server duration series (src/histograms/registry.ts) and adds
 * them up per `http.route`: bucket counts, sum, count and 5xx count. The snapshot ring
 * keeps these totals; a window is the difference of two of them.
 */
import type { Attributes } from '@opentelemetry/api';
import { histogramRegistry } from '../histograms/registry.js';

/** The instrument the HTTP server instrumentation registers (OpenTelemetry's semantic-convention name). */
export const HTTP_SERVER_DURATION = 'http.server.request.duration';
/** Requests no route was found for (the instrumentation leaves `http.route` out). */
export const NO_ROUTE = '(no route)';

export interface Totals {
  /** Per bucket, the last one above the last bound. */
  counts: Float64Array;
  sum: number;
  count: number;
  /** Requests answered 5xx (or that failed without a status). */
  errors: number;
}

export interface RouteTotals {
  boundaries: readonly number[];
  routes: Map<string, Totals>;
}

/** What is read of a live series, by shape (the ESM and CJS builds each have their own class). */
interface SeriesView {
  boundaries: readonly number[];
  attributes: Attributes;
  counts: Float64Array;
  sum: number;
  count: number;
}

export function emptyTotals(buckets: number): Totals {
  return { counts: new Float64Array(buckets), sum: 0, count: 0, errors: 0 };
}

/** The live totals now. Empty when the HTTP server instrumentation has recorded nothing. */
export function readRouteTotals(): RouteTotals {
  const routes = new Map<string, Totals>();
  let boundaries: readonly number[] = [];
  for (const histogram of histogramRegistry().histograms) {
    if (histogram.name !== HTTP_SERVER_DURATION) continue;
    for (const s of histogram.live()) {
      if (!s || !('counts' in s)) continue;
      const series = s as unknown as SeriesView;
      if (series.count === 0) continue;
      boundaries = series.boundaries;
      const counts = series.counts;
      const route = series.attributes['http.route'];
      const key = typeof route === 'string' ? route : NO_ROUTE;
      let totals = routes.get(key);
      if (!totals || totals.counts.length !== counts.length) routes.set(key, (totals = emptyTotals(counts.length)));
      for (let i = 0; i < counts.length; i++) totals.counts[i]! += counts[i]!;
      totals.sum += series.sum;
      totals.count += series.count;
      if (isError(series.attributes)) totals.errors += series.count;
    }
  }
  return { boundaries, routes };
}

/** The instrumentation sets `error.type` on 5xx answers and on requests aborted before an answer. */
function isError(attributes: Attributes): boolean {
  return attributes['error.type'] !== undefined;
}

/**
 * `newer - older`, bucket by bucket (older absent: all of newer). Never negative.
 * The counts go into `into` when given (a scratch buffer reused across routes, so a
 * snapshot of many routes allocates little).
 */
export function difference(newer: Totals, older: Totals | undefined, into?: Float64Array): Totals {
  if (!older || older.counts.length !== newer.counts.length) return newer;
  const counts = into?.length === newer.counts.length ? into : new Float64Array(newer.counts.length);
  for (let i = 0; i < counts.length; i++) counts[i] = Math.max(0, newer.counts[i]! - older.counts[i]!);
  return {
    counts,
    sum: Math.max(0, newer.sum - older.sum),
    count: Math.max(0, newer.count - older.count),
    errors: Math.max(0, newer.errors - older.errors),
  };
}

/** Adds `from` into `into` (same bucket layout). */
export function addInto(into: Totals, from: Totals): void {
  for (let i = 0; i < into.counts.length && i < from.counts.length; i++) into.counts[i]! += from.counts[i]!;
  into.sum += from.sum;
  into.count += from.count;
  into.errors += from.errors;
}
