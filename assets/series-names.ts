/**
 * Every series name otelkit's instruments give in a scrape: each Prometheus name,
 * and for histograms its `_bucket`, `_count` and `_sum` series.
 */
import { METRIC_FAMILIES } from '../instrumentations/metric-names.js';
import { prometheusName } from './prometheus-names.js';

export const SERIES_NAMES: ReadonlySet<string> = new Set(
  Object.values(METRIC_FAMILIES).flatMap((family) =>
    Object.values(family).flatMap((instrument) => {
      const name = prometheusName(instrument);
      return instrument.kind === 'histogram' ? [name, `${name}_bucket`, `${name}_count`, `${name}_sum`] : [name];
    }),
  ),
);
