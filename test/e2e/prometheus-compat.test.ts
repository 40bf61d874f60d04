// Prometheus compatibility options (issue 15): a name prefix, resource attributes as
// labels, the otel_scope_* labels left out; checked line by line in real scrapes of
// an app under the preload, and with promtool. Bad values: one line each, app runs.
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/child.js';
import {
  hasPrometheus,
  hasPromtool,
  promtoolCheckMetrics,
  startPrometheus,
  stopAllPrometheus,
} from '../helpers/prometheus.js';
import { scrape } from '../helpers/prom-text.js';
import { startFixture } from '../fixtures/http-harness.js';

afterAll(() => Promise.all([stopAll(), stopAllPrometheus()]));

const BASE_ENV = { OTEL_SERVICE_NAME: 'checkout', OTELKIT_INSTRUMENTATIONS: 'none' };
const ALL_OPTIONS = {
  ...BASE_ENV,
  OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod',
  OTELKIT_PROMETHEUS_PREFIX: 'myapp',
  OTELKIT_PROMETHEUS_RESOURCE_LABELS: 'service.name,deployment.environment.name',
  OTELKIT_PROMETHEUS_SCOPE_LABELS: 'false',
};
const samples = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
const otelkitLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('otelkit: '));

describe('Prometheus compatibility options', () => {
  it('by default: no prefix, the scope labels, no resource labels', async () => {
    const app = await startFixture('prometheus-compat.mjs', { env: BASE_ENV });
    const text = await scrape(app.metricsUrl);
    expect(samples(text)).toContain(
      'orders_placed_total{payment_method="card",otel_scope_name="compat-app",otel_scope_version="1.2.3"} 3',
    );
    await app.child.stop();
  });

  it('prefix, resource labels and no scope labels, together', async () => {
    const app = await startFixture('prometheus-compat.mjs', { env: ALL_OPTIONS });
    const text = await scrape(app.metricsUrl);
    const lines = samples(text);
    const env = 'deployment_environment_name="prod"';
    expect(lines).toContain(`myapp_orders_placed_total{payment_method="card",service_name="checkout",${env}} 3`);
    // The metric's own service.name wins over the resource's.
    expect(lines).toContain(`myapp_jobs_done_total{service_name="billing",${env}} 1`);
    expect(lines).toEqual(
      expect.arrayContaining([
        `myapp_task_duration_seconds_count{service_name="checkout",${env}} 2`,
        `myapp_task_duration_seconds_sum{service_name="checkout",${env}} 2.5`,
        `myapp_task_duration_seconds_bucket{service_name="checkout",${env},le="0.1"} 0`,
        `myapp_task_duration_seconds_bucket{service_name="checkout",${env},le="1"} 1`,
        `myapp_task_duration_seconds_bucket{service_name="checkout",${env},le="+Inf"} 2`,
      ]),
    );
    expect(text).toContain('# TYPE myapp_orders_placed_total counter\n');
    // target_info keeps its name (Prometheus and the OpenTelemetry spec look for it by that name)
    expect(text).toContain('# TYPE target_info gauge\n');
    expect(lines.find((l) => l.startsWith('target_info{'))).toContain('service_name="checkout"');
    expect(text).not.toContain('myapp_target_info');
    expect(text).not.toContain('otel_scope_');
    // every sample but target_info has the prefix
    expect(lines.filter((l) => !l.startsWith('myapp_') && !l.startsWith('target_info{'))).toEqual([]);
    if (hasPromtool()) expect(await promtoolCheckMetrics(text)).toMatchObject({ ok: true, problems: [] });

    await scrape(app.metricsUrl);
    const clash = app.child.stderr.split('\n').filter((l) => l.includes('jobs.done has its own service.name'));
    expect(clash).toHaveLength(1); // once, not per scrape
    await app.child.stop();
  });

  it('a resource label the resource lacks: one line, and the series go without it', async () => {
    const app = await startFixture('prometheus-compat.mjs', {
      env: { ...BASE_ENV, OTELKIT_PROMETHEUS_RESOURCE_LABELS: 'deployment.environment.name,service.name' },
    });
    await scrape(app.metricsUrl);
    const text = await scrape(app.metricsUrl);
    expect(samples(text)).toContain(
      'orders_placed_total{payment_method="card",service_name="checkout",' +
        'otel_scope_name="compat-app",otel_scope_version="1.2.3"} 3',
    );
    // once, though two scrapes met it
    expect(otelkitLines(app.child.stderr).filter((l) => l.includes('resourceLabels'))).toEqual([
      'otelkit: prometheus.resourceLabels (OTELKIT_PROMETHEUS_RESOURCE_LABELS) names deployment.environment.name, ' +
        'which the resource does not have; set it (OTEL_RESOURCE_ATTRIBUTES, say) or the series carry no such label',
    ]);
    await app.child.stop();
  });

  it('bad values: one line each, and the app runs on the defaults', async () => {
    const app = await startFixture('prometheus-compat.mjs', {
      env: {
        ...BASE_ENV,
        OTELKIT_PROMETHEUS_PREFIX: 'my-app',
        OTELKIT_PROMETHEUS_RESOURCE_LABELS: 'service.name,le',
        OTELKIT_PROMETHEUS_SCOPE_LABELS: 'off',
        OTELKIT_RUNTIME_NAMES: 'prometheus',
      },
    });
    const text = await scrape(app.metricsUrl);
    expect(samples(text)).toContain(
      'orders_placed_total{payment_method="card",otel_scope_name="compat-app",otel_scope_version="1.2.3"} 3',
    );
    const lines = otelkitLines(app.child.stderr);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^otelkit: OTELKIT_PROMETHEUS_PREFIX="my-app" is invalid: expected letters, digits/);
    expect(lines[1]).toMatch(/^otelkit: OTELKIT_PROMETHEUS_RESOURCE_LABELS="service.name,le" is invalid: .*le is/);
    expect(lines[2]).toBe(
      'otelkit: OTELKIT_PROMETHEUS_SCOPE_LABELS="off" is invalid: expected true or false; using true',
    );
    expect(lines[3]).toBe(
      'otelkit: OTELKIT_RUNTIME_NAMES="prometheus" is invalid: expected one of otel, prom-client; using otel',
    );
    expect(app.child.exit).toBeUndefined();
    await app.child.stop();
  });
});

describe.skipIf(!hasPrometheus())('a real Prometheus', () => {
  it('ingests the scrape with every option on, a metric with its own service.name included', async () => {
    const app = await startFixture('prometheus-compat.mjs', { env: ALL_OPTIONS });
    const prometheus = await startPrometheus({ scrapeTargets: [{ url: app.metricsUrl, job: 'compat' }] });
    const [own] = await prometheus.waitForQuery('myapp_jobs_done_total', undefined, 30_000);
    expect(own!.metric).toEqual({
      __name__: 'myapp_jobs_done_total',
      service_name: 'billing',
      deployment_environment_name: 'prod',
      job: 'compat',
      instance: new URL(app.metricsUrl).host,
    });
    const orders = await prometheus.query('myapp_orders_placed_total{service_name="checkout"}');
    expect(orders.map((s) => s.value)).toEqual([3]);
    expect((await prometheus.targets()).map((t) => [t.health, t.lastError])).toEqual([['up', '']]);
    await prometheus.stop();
    await app.child.stop();
  });
});
