/**
 * PromQL pieces the dashboards and rules share, so each query reads like the
 * sentence it answers: selectors, rates, sums, quantiles, ratios.
 */
import { LABEL } from './prometheus-names.js';

/** `metric{m1, m2}`: matchers are written as PromQL has them (`job=~"$job"`, `le="0.25"`). */
export function sel(metric: string, ...matchers: (string | undefined | false)[]): string {
  const list = matchers.filter((m): m is string => typeof m === 'string' && m !== '');
  return list.length ? `${metric}{${list.join(', ')}}` : metric;
}

export const eq = (label: string, value: string): string => `${label}=${JSON.stringify(value)}`;
export const re = (label: string, value: string): string => `${label}=~${JSON.stringify(value)}`;

export const rate = (selector: string, window: string): string => `rate(${selector}[${window}])`;
export const increase = (selector: string, window: string): string => `increase(${selector}[${window}])`;

export const sumBy = (labels: string[], expr: string): string =>
  labels.length ? `sum by (${labels.join(', ')}) (${expr})` : `sum(${expr})`;
export const maxBy = (labels: string[], expr: string): string =>
  labels.length ? `max by (${labels.join(', ')}) (${expr})` : `max(${expr})`;

export const quantile = (q: number, bucketRates: string): string => `histogram_quantile(${q}, ${bucketRates})`;

/** `part / whole`, with 0 (not "no data") for groups where `part` has no series yet. */
export const ratioOrZero = (part: string, whole: string): string => `(${part} or ${whole} * 0) / ${whole}`;

/** The `le` of a bucket boundary as the exporter writes it (JavaScript's number formatting). */
export const le = (boundary: number): string => eq('le', String(boundary));

/** The 5xx answers, on the HTTP duration histograms: what availability counts as bad. */
export const SERVER_ERROR = re(LABEL.status, '5..');
