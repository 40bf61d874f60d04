/**
 * Proves the Prometheus test tooling (promtool lint, a real Prometheus scraping a local
 * endpoint) against a tiny static exposition, before otelkit's own tests rely on it.
 * Skipped when the Debian `prometheus` package is not installed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hasPrometheus,
  hasPromtool,
  promtoolCheckMetrics,
  startPrometheus,
  stopAllPrometheus,
} from '../helpers/prometheus.js';

const GOOD = `# HELP demo_requests_total Requests served.
# TYPE demo_requests_total counter
demo_requests_total{route="/a"} 42
# HELP demo_request_duration_seconds Request duration.
# TYPE demo_request_duration_seconds histogram
demo_request_duration_seconds_bucket{le="0.1"} 1
demo_request_duration_seconds_bucket{le="1"} 2
demo_request_duration_seconds_bucket{le="+Inf"} 3
demo_request_duration_seconds_sum 3.5
demo_request_duration_seconds_count 3
# HELP target_info Target metadata
# TYPE target_info gauge
target_info{service_name="demo"} 1
`;

describe.skipIf(!hasPromtool())('promtoolCheckMetrics', () => {
  it('accepts a clean exposition', async () => {
    const r = await promtoolCheckMetrics(GOOD);
    expect(r).toMatchObject({ ok: true, code: 0, problems: [] });
  });

  it('reports what promtool 2.42 flags, one problem per line (exit 3)', async () => {
    const r = await promtoolCheckMetrics(
      [
        '# HELP demo_requests A counter without _total.',
        '# TYPE demo_requests counter',
        'demo_requests 1',
        '# TYPE demo_nohelp gauge',
        'demo_nohelp 1',
        '# HELP demo_latency_ms Abbreviated unit.',
        '# TYPE demo_latency_ms gauge',
        'demo_latency_ms 1',
        '# HELP demo_latency_milliseconds Non-base unit.',
        '# TYPE demo_latency_milliseconds gauge',
        'demo_latency_milliseconds 1',
        '# HELP demo_items_count Not a histogram.',
        '# TYPE demo_items_count gauge',
        'demo_items_count 1',
        '',
      ].join('\n'),
    );
    expect(r.ok).toBe(false);
    expect(r.code).toBe(3);
    expect(r.problems).toEqual(
      expect.arrayContaining([
        'demo_requests counter metrics should have "_total" suffix',
        'demo_nohelp no help text',
        'demo_latency_ms metric names should not contain abbreviated units',
        'demo_latency_milliseconds use base unit "seconds" instead of "milliseconds"',
        'demo_items_count non-histogram and non-summary metrics should not have "_count" suffix',
      ]),
    );
    expect(r.problems).toHaveLength(5);
  });

  it('reports unparseable text as exit 1', async () => {
    const r = await promtoolCheckMetrics('demo{ 3\n');
    expect(r).toMatchObject({ ok: false, code: 1 });
    expect(r.output).toMatch(/error while linting: text format parsing error/);
    const twice = await promtoolCheckMetrics(
      '# HELP a_total x\n# TYPE a_total counter\na_total 1\n# HELP a_total x\na_total 2\n',
    );
    expect(twice.code).toBe(1);
    expect(twice.output).toMatch(/second HELP line/);
  });
});

describe.skipIf(!hasPrometheus())('startPrometheus', () => {
  const TOKEN = 'scrape-token';
  let server: Server;
  let target: string;
  let scrapes = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end();
      scrapes++;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(GOOD);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    target = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });
  afterAll(async () => {
    await stopAllPrometheus();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('scrapes a local endpoint; up == 1 and values are queryable', async () => {
    const prom = await startPrometheus({
      scrapeTargets: [{ url: target, bearerToken: TOKEN, job: 'demo' }],
      scrapeInterval: '1s',
    });
    expect(prom.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const up = await prom.waitForQuery('up', undefined, 15_000);
    expect(up).toHaveLength(1);
    expect(up[0]).toMatchObject({ value: 1, metric: { job: 'demo', instance: new URL(target).host } });
    expect(scrapes).toBeGreaterThan(0);

    const reqs = await prom.query('demo_requests_total');
    expect(reqs).toHaveLength(1);
    expect(reqs[0]).toMatchObject({ value: 42, metric: { route: '/a', job: 'demo' } });
    const p50 = await prom.query('histogram_quantile(0.5, demo_request_duration_seconds_bucket)');
    expect(p50[0]!.value).toBeCloseTo(0.1 + (1 - 0.1) * ((1.5 - 1) / (2 - 1)), 5);
    expect((await prom.query('scalar(demo_request_duration_seconds_count)'))[0]!.value).toBe(3);

    const [t] = await prom.targets();
    expect(t).toMatchObject({ health: 'up', lastError: '', scrapeUrl: target });
    await prom.stop();
    await expect(fetch(`${prom.url}/-/ready`)).rejects.toThrow();
  });
});
