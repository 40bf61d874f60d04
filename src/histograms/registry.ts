/**
 * The process-wide list of the histograms otelkit aggregates in place, and
 * how many producers collect them. Shared by every copy of otelkit in the process
 * (the ESM and CJS builds each have their own classes, so entries are read by shape).
 */
import type { HistogramSeries } from './local-series.js';
import { processSingleton } from '../process-singleton.js';

/** What the producer reads of a registered histogram. */
export interface RegisteredHistogram {
  readonly name: string;
  readonly description: string;
  /** Absent in a copy of otelkit from before sizes were aggregated in place: seconds. */
  readonly unit?: string;
  /** The series of the live targets, read at collection. */
  readonly live: () => Iterable<HistogramSeries | undefined>;
}

export interface HistogramRegistry {
  histograms: Set<RegisteredHistogram>;
  /** Producers created so far: none means no reader collects in-place series. */
  producers: number;
}

export function histogramRegistry(): HistogramRegistry {
  return processSingleton<HistogramRegistry>('otelkit.durationHistograms', () => ({
    histograms: new Set(),
    producers: 0,
  }));
}
