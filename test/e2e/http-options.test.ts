// HTTP server options and edge cases, in process against a real scrape:
// body sizes, excluded paths (exact and prefix), aborted requests, the cardinality
// limit, dispose().
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register, setHttpRoute, instrumentHttpServer, type OtelkitHandle } from '../../index.js';
import { scrape } from '../helpers/prom-text.js';
import { labelKey as k, send, seriesOf } from '../fixtures/http-harness.js';

let otel: OtelkitHandle;
let metricsUrl: string;
let server: Server;
let base: string;
let hang: (() => void) | undefined;

beforeAll(async () => {
  otel = register({
    prometheus: { host: '127.0.0.1', port: 0 },
    instrumentations: ['http-server'],
    http: { bodySizes: true, excludePaths: ['/skip', '/internal/*'] },
    cardinalityLimit: 12,
    histogramBuckets: { 'http.server.response.body.size': [1, 4, 16] },
    serviceName: 'http-options',
  });
  metricsUrl = (await otel.ready)!.url;
  server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url.startsWith('/route/')) setHttpRoute(req, url); // deliberately one template per path: cardinality test
    if (url === '/hang') {
      hang?.();
      return; // never answered: the client aborts
    }
    if (url === '/echo') {
      setHttpRoute(req, '/echo');
      req.resume();
      req.on('end', () => res.end('hello')); // 5 bytes, Content-Length set by Node
      return;
    }
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.close();
  await otel.shutdown();
});

const common = { http_request_method: 'GET', network_protocol_version: '1.1', url_scheme: 'http' };

describe('HTTP server options', () => {
  it('body sizes (from Content-Length) when http.bodySizes is on', async () => {
    await fetch(`${base}/echo`, { method: 'POST', body: 'abc' }).then((r) => r.text());
    await fetch(`${base}/echo`, { method: 'POST', body: 'abcdefgh' }).then((r) => r.text());
    const text = await scrape(metricsUrl);
    const key = k({ ...common, http_request_method: 'POST', http_response_status_code: '200', http_route: '/echo' });
    expect(seriesOf(text, 'http_server_request_body_size_bytes_sum')).toEqual({ [key]: 11 });
    expect(seriesOf(text, 'http_server_request_body_size_bytes_count')).toEqual({ [key]: 2 });
    expect(seriesOf(text, 'http_server_response_body_size_bytes_sum')).toEqual({ [key]: 10 });
    // The configured buckets apply to the size histograms too.
    const route = { ...common, http_request_method: 'POST', http_response_status_code: '200', http_route: '/echo' };
    expect(seriesOf(text, 'http_server_response_body_size_bytes_bucket')).toEqual({
      [k({ ...route, le: '1' })]: 0,
      [k({ ...route, le: '4' })]: 0,
      [k({ ...route, le: '16' })]: 2,
      [k({ ...route, le: '+Inf' })]: 2,
    });
  });

  it('excluded paths: exact (query ignored) and prefix with *; near misses are counted', async () => {
    const before =
      seriesOf(await scrape(metricsUrl), 'http_server_request_duration_seconds_count')[
        k({ ...common, http_response_status_code: '200' })
      ] ?? 0;
    await send(base, [
      ['GET', '/skip'],
      ['GET', '/skip?x=1'],
      ['GET', '/internal/a'],
      ['GET', '/internal/b/c'],
      ['GET', '/skipped'],
      ['GET', '/internal'],
    ]);
    const after = seriesOf(await scrape(metricsUrl), 'http_server_request_duration_seconds_count')[
      k({ ...common, http_response_status_code: '200' })
    ];
    expect(after! - before).toBe(2); // /skipped and /internal
  });

  it('a request the client aborts: error.type=aborted, no status code, active_requests back to 0', async () => {
    const arrived = new Promise<void>((resolve) => (hang = resolve));
    const req = request(`${base}/hang`);
    req.on('error', () => {});
    req.end();
    await arrived;
    let text = await scrape(metricsUrl);
    expect(seriesOf(text, 'http_server_active_requests')[k({ http_request_method: 'GET', url_scheme: 'http' })]).toBe(
      1,
    );
    req.destroy();
    // The server sees the abort when the closed socket reaches it: wait for that, not for a fixed time.
    const activeNow = () =>
      seriesOf(text, 'http_server_active_requests')[k({ http_request_method: 'GET', url_scheme: 'http' })];
    do {
      await new Promise((resolve) => setTimeout(resolve, 10));
      text = await scrape(metricsUrl);
    } while (activeNow() !== 0);
    expect(seriesOf(text, 'http_server_request_duration_seconds_count')[k({ ...common, error_type: 'aborted' })]).toBe(
      1,
    );
  });

  it('past the cardinality limit new attribute sets share one overflow series', async () => {
    await send(
      base,
      Array.from({ length: 30 }, (_, i): [string, string] => ['GET', `/route/${i}`]),
    );
    const counts = seriesOf(await scrape(metricsUrl), 'http_server_request_duration_seconds_count');
    expect(Object.keys(counts)).toHaveLength(12);
    const overflow = counts[k({ otel_metric_overflow: 'true' })]!;
    const routed = Object.entries(counts).filter(([key]) => key.includes('http_route=/route/'));
    expect(overflow + routed.reduce((n, [, v]) => n + v, 0)).toBe(30);
    // Sizes go through the durations' series: a route has its own size series exactly when
    // it has its own duration series, and the overflow series holds the same requests.
    const sizes = seriesOf(await scrape(metricsUrl), 'http_server_response_body_size_bytes_count');
    const sizedRoutes = Object.entries(sizes).filter(([key]) => key.includes('http_route=/route/'));
    expect(Object.fromEntries(sizedRoutes)).toEqual(Object.fromEntries(routed));
    expect(sizes[k({ otel_metric_overflow: 'true' })]).toBe(overflow);
  });

  it('a second instrumentHttpServer(): no double counting; disposing it leaves the first running', async () => {
    const extra = instrumentHttpServer();
    const count = async () =>
      seriesOf(await scrape(metricsUrl), 'http_server_request_duration_seconds_count')[
        k({ ...common, http_request_method: 'POST', http_response_status_code: '200', http_route: '/echo' })
      ];
    const before = await count();
    await fetch(`${base}/echo`, { method: 'POST', body: 'x' }).then((r) => r.text());
    expect(await count()).toBe(before! + 1); // counted once, not twice
    extra.dispose();
    await fetch(`${base}/echo`, { method: 'POST', body: 'x' }).then((r) => r.text());
    expect(await count()).toBe(before! + 2); // the default instrumentation still runs
  });
});
