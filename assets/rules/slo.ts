/**
 * SLOs to multi-window, multi-burn-rate alerts, the scheme of the Google SRE
 * workbook ("Alerting on SLOs") for a 30-day SLO: page when the error budget burns
 * 14.4 times too fast over 1h (and still over 5m), or 6 times over 6h (and 30m);
 * open a ticket at 3 times over 1d (and 2h), or once over 3d (and 6h). The short
 * window makes an alert stop soon after the burn does.
 *
 * Availability counts 5xx answers of the route as bad; latency counts requests
 * slower than the threshold, from the histogram bucket `le` = threshold (which the
 * config check ensures is a boundary).
 */
import type { SloConfig } from '../../src/config/types.js';
import { LABEL, PROM } from '../prometheus-names.js';
import { SERVER_ERROR, eq, le, rate, ratioOrZero, sel, sumBy } from '../promql.js';
import type { AlertingRule, RecordingRule, RuleGroup } from './types.js';

export const SLO_RECORD = 'slo:sli_error:ratio_rate';

const WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;
type Window = (typeof WINDOWS)[number];

interface BurnAlert {
  alert: string;
  severity: 'critical' | 'warning';
  /** [long window, short window, burn rate]: both windows must burn faster than the rate. */
  conditions: [Window, Window, number][];
}

const BURN_ALERTS: BurnAlert[] = [
  {
    alert: 'OtelkitSloErrorBudgetFastBurn',
    severity: 'critical',
    conditions: [
      ['1h', '5m', 14.4],
      ['6h', '30m', 6],
    ],
  },
  {
    alert: 'OtelkitSloErrorBudgetSlowBurn',
    severity: 'warning',
    conditions: [
      ['1d', '2h', 3],
      ['3d', '6h', 1],
    ],
  },
];

interface Sli {
  kind: 'availability' | 'latency';
  objective: number;
  /** The share of bad requests over a window, per job. */
  errorRatio: (window: Window) => string;
  what: string;
}

const tidy = (n: number): number => Number(n.toPrecision(12));

function slis(slo: SloConfig): Sli[] {
  const duration = PROM.httpServer.requestDuration;
  const onRoute = eq(LABEL.route, slo.route);
  const requests = (w: Window) => sumBy(['job'], rate(sel(`${duration}_count`, onRoute), w));
  const out: Sli[] = [];
  if (slo.objective !== undefined) {
    const errors = (w: Window) => sumBy(['job'], rate(sel(`${duration}_count`, onRoute, SERVER_ERROR), w));
    out.push({
      kind: 'availability',
      objective: slo.objective,
      errorRatio: (w) => ratioOrZero(errors(w), requests(w)),
      what: `requests to ${slo.route} answered 5xx`,
    });
  }
  if (slo.latency) {
    const { threshold } = slo.latency;
    const fast = (w: Window) => sumBy(['job'], rate(sel(`${duration}_bucket`, onRoute, le(threshold)), w));
    out.push({
      kind: 'latency',
      objective: slo.latency.objective,
      errorRatio: (w) => `1 - ${fast(w)} / ${requests(w)}`,
      what: `requests to ${slo.route} slower than ${threshold} s`,
    });
  }
  return out;
}

function burnAlert(slo: SloConfig, sli: Sli, spec: BurnAlert): AlertingRule {
  const budget = tidy(1 - sli.objective);
  const series = (w: Window) => sel(`${SLO_RECORD}${w}`, eq('slo', slo.name), eq('sli', sli.kind));
  const expr = spec.conditions
    .map(([long, short, burn]) => {
      const limit = tidy(burn * budget);
      return `(${series(long)} > ${limit} and ${series(short)} > ${limit})`;
    })
    .join(' or ');
  const [[long, , burn]] = spec.conditions as [[Window, Window, number]];
  return {
    alert: spec.alert,
    expr,
    labels: { severity: spec.severity, slo: slo.name, sli: sli.kind },
    annotations: {
      summary: `SLO ${slo.name} (${sli.kind}, objective ${sli.objective}): {{ $labels.job }} burns its error budget`,
      description:
        `The share of ${sli.what} is ${burn} times or more what the objective allows over ${long} ` +
        `(or a slower burn over longer windows): at this rate the 30-day error budget ` +
        `(${tidy(budget * 100)}% of requests) runs out early.`,
      runbook:
        `Open the service dashboard on route ${slo.route}: error ratio and latency per route, and the outgoing ` +
        'calls it depends on. Find what changed when the burn started (a deploy, a dependency, traffic).',
    },
  };
}

export function sloRules(slos: SloConfig[]): RuleGroup[] {
  return slos.map((slo) => {
    const recording: RecordingRule[] = [];
    const alerting: AlertingRule[] = [];
    for (const sli of slis(slo)) {
      for (const w of WINDOWS)
        recording.push({
          record: `${SLO_RECORD}${w}`,
          expr: sli.errorRatio(w),
          labels: { slo: slo.name, sli: sli.kind },
        });
      for (const spec of BURN_ALERTS) alerting.push(burnAlert(slo, sli, spec));
    }
    return { name: `otelkit-slo-${slo.name}`, rules: [...recording, ...alerting] };
  });
}
