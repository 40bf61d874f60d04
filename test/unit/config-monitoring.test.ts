// The `slos` and `alerts` settings (used by `npx otelkit assets`): valid ones are
// resolved; each invalid one is one line naming it, the value and what is accepted.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { ALERT_DEFAULTS } from '../../src/config/alerts.js';
import { SLO_HISTOGRAM } from '../../src/config/slos.js';
import { SECONDS_BUCKETS } from '../../src/series-policy.js';
import { HTTP_SERVER } from '../../instrumentations/metric-names.js';
import type { OtelkitUserConfig } from '../../src/config/types.js';

const resolve = (config: OtelkitUserConfig, env: Record<string, string> = {}) =>
  resolveConfig(env, [{ label: 'otel.config.ts', config }]);

describe('slos', () => {
  it('reads the HTTP server duration histogram, by the name the instrumentation gives it', () => {
    expect(SLO_HISTOGRAM).toBe(HTTP_SERVER.requestDuration.name);
  });

  it('keeps valid SLOs as written', () => {
    const slos = [
      {
        name: 'checkout-availability',
        route: '/checkout',
        objective: 0.999,
        latency: { threshold: 0.25, objective: 0.99 },
      },
      { name: 'search.latency', route: '/search', latency: { threshold: 1, objective: 0.95 } },
    ];
    const { config, problems } = resolve({ slos });
    expect(problems).toEqual([]);
    expect(config.slos).toEqual(slos);
  });

  it.each([
    [{ name: 'a b', route: '/x', objective: 0.9 }, ['slos[0].name="a b"', 'letters, digits']],
    [{ name: 'x', route: '', objective: 0.9 }, ['slos[0] ("x").route=""', 'e.g. /checkout']],
    [{ name: 'x', route: '/x', objective: 1 }, ['objective=1', 'between 0 and 1']],
    [{ name: 'x', route: '/x' }, ['neither objective', 'at least one']],
    [{ name: 'x', route: '/x', target: 0.9 }, ['unknown keys target', 'name, route, objective, latency']],
    [
      { name: 'x', route: '/x', latency: { threshold: 0.3, objective: 0.99 } },
      [
        'latency.threshold=0.3 is not a bucket boundary of http.server.request.duration',
        '0.005, 0.01',
        "histogramBuckets['http.server.request.duration']",
      ],
    ],
    [{ name: 'x', route: '/x', latency: { threshold: 0.25, objective: 99 } }, ['latency.objective=99']],
  ])('%j: one line, the SLO left out', (slo, mentions) => {
    const { config, problems } = resolve({ slos: [slo as never] });
    expect(problems).toHaveLength(1);
    for (const m of mentions) expect(problems[0]).toContain(m);
    expect(problems[0]).toMatch(/^otel\.config\.ts: slos\[0\]/);
    expect(config.slos).toEqual([]);
  });

  it('takes latency thresholds from the configured buckets (config or env)', () => {
    const slo = { name: 'x', route: '/x', latency: { threshold: 0.3, objective: 0.99 } };
    const fromFile = resolve({ slos: [slo], histogramBuckets: { [SLO_HISTOGRAM]: [0.1, 0.3, 1] } });
    expect(fromFile.problems).toEqual([]);
    expect(fromFile.config.slos).toEqual([slo]);
    const fromEnv = resolve({ slos: [slo] }, { OTELKIT_HISTOGRAM_BUCKETS: `${SLO_HISTOGRAM}=0.3,3` });
    expect(fromEnv.problems).toEqual([]);
    const defaults = resolve({ slos: [{ ...slo, latency: { threshold: SECONDS_BUCKETS[3]!, objective: 0.9 } }] });
    expect(defaults.problems).toEqual([]);
  });

  it('a duplicate name and a non-array are reported', () => {
    const twice = resolve({
      slos: [
        { name: 'x', route: '/a', objective: 0.9 },
        { name: 'x', route: '/b', objective: 0.9 },
      ],
    });
    expect(twice.problems).toEqual(['otel.config.ts: slos[1].name="x" is used twice; leaving this SLO out']);
    expect(twice.config.slos).toHaveLength(1);
    expect(resolve({ slos: {} as never }).problems[0]).toContain('slos is invalid: expected an array');
  });
});

describe('alerts', () => {
  it('defaults, overridden per alert; false leaves one out; register() over the file', () => {
    const { config, problems } = resolveConfig({}, [
      { label: 'register()', config: { alerts: { httpErrorRatio: { for: '10m' } } } },
      {
        label: 'otel.config.ts',
        config: { alerts: { httpErrorRatio: { threshold: 0.02, for: '1m' }, heapGrowth: false } },
      },
    ]);
    expect(problems).toEqual([]);
    expect(config.alerts.httpErrorRatio).toEqual({ threshold: 0.02, for: '10m' });
    expect(config.alerts.heapGrowth).toBe(false);
    expect(config.alerts.targetDown).toEqual(ALERT_DEFAULTS.targetDown);
  });

  it.each([
    [{ nope: {} }, ['alerts.nope is not an alert', 'known: httpErrorRatio']],
    [{ httpErrorRatio: { threshold: -1 } }, ['alerts.httpErrorRatio.threshold=-1', 'greater than 0']],
    [{ httpErrorRatio: { for: '5 minutes' } }, ['alerts.httpErrorRatio.for="5 minutes"', 'e.g. 5m']],
    [{ targetDown: { threshold: 1 } }, ['alerts.targetDown.threshold', 'no threshold']],
    [{ httpErrorRatio: 3 }, ['alerts.httpErrorRatio is invalid', 'or false']],
  ])('%j: one line, the default kept', (alerts, mentions) => {
    const { config, problems } = resolve({ alerts: alerts as never });
    expect(problems).toHaveLength(1);
    for (const m of mentions) expect(problems[0]).toContain(m);
    expect(config.alerts.httpErrorRatio).toEqual(ALERT_DEFAULTS.httpErrorRatio);
  });
});
