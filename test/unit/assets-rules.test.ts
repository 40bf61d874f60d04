// The generated rules' shape: every alert says what to do (summary, description,
// runbook, severity), settings reach the expressions and for:, and SLOs follow the
// SRE workbook's windows and burn rates. (promtool checks and tests them in e2e.)
import { describe, expect, it } from 'vitest';
import { ruleFiles } from '../../assets/rules/index.js';
import { SLO_RECORD } from '../../assets/rules/slo.js';
import type { AlertingRule, RecordingRule } from '../../assets/rules/types.js';
import { ALERT_NAMES, defaultAlerts, parseAlerts } from '../../src/config/alerts.js';

const rules = (files: ReturnType<typeof ruleFiles>) =>
  Object.values(files).flatMap((f) => f.groups.flatMap((g) => g.rules));
const alerts = (files: ReturnType<typeof ruleFiles>) => rules(files).filter((r): r is AlertingRule => 'alert' in r);

describe('generated rules', () => {
  it('one alert per setting, each with severity, summary, description and runbook text', () => {
    const found = alerts(ruleFiles({ alerts: defaultAlerts(), slos: [] }));
    expect(found).toHaveLength(ALERT_NAMES.length);
    for (const a of found) {
      expect(a.labels.severity, a.alert).toMatch(/^(critical|warning)$/);
      expect(a.annotations.summary, a.alert).toMatch(/\{\{ \$labels\.\w+ \}\}/);
      expect(a.annotations.description.length, a.alert).toBeGreaterThan(40);
      expect(a.annotations.runbook.length, a.alert).toBeGreaterThan(80);
      expect(a.expr, a.alert).not.toContain('NaN');
    }
  });

  it('thresholds and for: come from the alerts setting; false leaves an alert out', () => {
    const { alerts: settings, problems } = parseAlerts(
      { httpLatencyP99: { threshold: 0.5, for: '15m' }, breakerFlapping: { for: '1m' }, restarts: false },
      defaultAlerts(),
      'test',
    );
    expect(problems).toEqual([]);
    const found = alerts(ruleFiles({ alerts: settings, slos: [] }));
    const latency = found.find((a) => a.alert === 'OtelkitHttpRouteLatencyHigh')!;
    expect(latency.expr).toMatch(/ > 0\.5$/);
    expect(latency.for).toBe('15m');
    expect(found.find((a) => a.alert === 'OtelkitCircuitBreakerFlapping')!.for).toBe('1m');
    expect(found.find((a) => a.alert === 'OtelkitEventLoopDelayHigh')!.for).toBe('5m');
    expect(found.find((a) => a.alert === 'OtelkitProcessRestarting')).toBeUndefined();
    // `0s` is written as no for: at all.
    const defaults = alerts(ruleFiles({ alerts: defaultAlerts(), slos: [] }));
    expect(defaults.find((a) => a.alert === 'OtelkitProcessRestarting')!.for).toBeUndefined();
  });

  it('SLOs: seven windows per indicator, the workbook burn rates against 1 - objective', () => {
    const files = ruleFiles({
      alerts: defaultAlerts(),
      slos: [{ name: 'checkout', route: '/checkout', objective: 0.999, latency: { threshold: 0.25, objective: 0.99 } }],
    });
    const slo = files['otelkit-slos.rules.yml']!.groups;
    expect(slo.map((g) => g.name)).toEqual(['otelkit-slo-checkout']);
    const records = slo[0]!.rules.filter((r): r is RecordingRule => 'record' in r);
    expect(records.map((r) => `${r.labels!.sli} ${r.record.slice(SLO_RECORD.length)}`)).toEqual(
      ['availability', 'latency'].flatMap((sli) =>
        ['5m', '30m', '1h', '2h', '6h', '1d', '3d'].map((w) => `${sli} ${w}`),
      ),
    );
    expect(records[0]!.expr).toContain('http_route="/checkout", http_response_status_code=~"5.."}[5m]');
    expect(records[7]!.expr).toContain(
      'http_server_request_duration_seconds_bucket{http_route="/checkout", le="0.25"}[5m]',
    );
    const burn = slo[0]!.rules.filter((r): r is AlertingRule => 'alert' in r);
    expect(burn.map((a) => [a.alert, a.labels.sli, a.labels.severity])).toEqual([
      ['OtelkitSloErrorBudgetFastBurn', 'availability', 'critical'],
      ['OtelkitSloErrorBudgetSlowBurn', 'availability', 'warning'],
      ['OtelkitSloErrorBudgetFastBurn', 'latency', 'critical'],
      ['OtelkitSloErrorBudgetSlowBurn', 'latency', 'warning'],
    ]);
    // availability budget 0.001: 14.4x over 1h and 5m, 6x over 6h and 30m.
    expect(burn[0]!.expr).toBe(
      '(slo:sli_error:ratio_rate1h{slo="checkout", sli="availability"} > 0.0144 and ' +
        'slo:sli_error:ratio_rate5m{slo="checkout", sli="availability"} > 0.0144) or ' +
        '(slo:sli_error:ratio_rate6h{slo="checkout", sli="availability"} > 0.006 and ' +
        'slo:sli_error:ratio_rate30m{slo="checkout", sli="availability"} > 0.006)',
    );
    // latency budget 0.01: 3x over 1d and 2h, 1x over 3d and 6h.
    expect(burn[3]!.expr).toContain('ratio_rate1d{slo="checkout", sli="latency"} > 0.03 and');
    expect(burn[3]!.expr).toContain('ratio_rate6h{slo="checkout", sli="latency"} > 0.01)');
    expect(files['otelkit-slos.rules.yml']).toBeDefined();
    expect(ruleFiles({ alerts: defaultAlerts(), slos: [] })['otelkit-slos.rules.yml']).toBeUndefined();
  });
});
