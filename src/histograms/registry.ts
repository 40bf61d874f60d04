/**
 * The process-wide list of the histograms (and sums and gauges) otelkit aggregates in place, and
 * how many producers collect them. Shared by every copy of otelkit in the process
 * (the ESM and CJS builds each have their own classes, so entries are read by shape).
 */
import type { Attributes } from '@opentelemetry/api';
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

export type InPlaceNumberKind = 'counter' | 'updowncounter' | 'gauge';

/** One series: what the hot path updates. */
export interface NumberSeriesState {
  readonly attributes: Attributes;
  /** A sum (counters: never decreasing), or a gauge's last value. */
  value: number;
  /** Wall-clock ms when the series started (a sum's start time). */
  readonly startMs: number;
  /** Gauges: false until a value was set (the series is not reported before). */
  set?: boolean;
}

/** What the producer reads of a registered sum or gauge (by shape: other otelkit copies share the registry). */
export interface RegisteredNumbers {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly kind: InPlaceNumberKind;
  readonly live: () => Iterable<NumberSeriesState>;
}

export interface HistogramRegistry {
  histograms: Set<RegisteredHistogram>;
  /** Sums and gauges aggregated in place (in-place-numbers.ts); absent in a registry an older copy made. */
  numbers?: Set<RegisteredNumbers>;
  /** Producers created so far: none means no reader collects in-place series. */
  producers: number;
}

export function histogramRegistry(): HistogramRegistry {
  return processSingleton<HistogramRegistry>('otelkit.durationHistograms', () => ({
    histograms: new Set(),
    producers: 0,
  }));
}
