/**
 * Every series name otelkit's instruments give in a scrape: each Prometheus name,
 * and for histograms its `_bucket`, `_count` and `_sum` series; and what each is
 * called when the app turns the unit suffixes off.
 */
import { METRIC_FAMILIES, type InstrumentName } from '../instrumentations/metric-names.js';
import { prometheusName } from './prometheus-names.js';

function series(instrument: InstrumentName, unitSuffixes: boolean): string[] {
  const name = prometheusName(instrument, unitSuffixes);
  return instrument.kind === 'histogram' ? [name, `${name}_bucket`, `${name}_count`, `${name}_sum`] : [name];
}

const INSTRUMENTS = Object.values(METRIC_FAMILIES).flatMap((family) => Object.values(family));

/** The series names with otelkit's defaults (unit suffixes on, no prefix). */
export const SERIES_NAMES: ReadonlySet<string> = new Set(INSTRUMENTS.flatMap((i) => series(i, true)));

/** Default series name -> its name with the unit suffixes off. */
export const WITHOUT_UNIT_SUFFIXES: ReadonlyMap<string, string> = new Map(
  INSTRUMENTS.flatMap((i) => {
    const off = series(i, false);
    return series(i, true).map((name, k): [string, string] => [name, off[k]!]);
  }),
);
