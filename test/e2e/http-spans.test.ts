// The opt-in instrumentation-http mode in an ESM app with no loader hook: its spans
// appear (server, and client through a named `import { get } from 'node:http'`),
// otelkit's metrics are unchanged and instrumentation-http's own metrics are not exported.
import { afterAll, expect, it } from 'vitest';
import { stopAll } from '../helpers/child.js';
import { scrape } from '../helpers/prom-text.js';
import { families, labelKey as k, send, seriesOf, startFixture } from '../fixtures/http-harness.js';

afterAll(() => stopAll());

it('instrumentation-http spans in an ESM app, otelkit metrics unchanged, no duplicate metric families', async () => {
  const app = await startFixture('http-spans.mjs');
  expect(app.child.stdout).toContain('"namedGetWrapped":true');
  await send(app.appUrl, [
    ['GET', '/a'],
    ['GET', '/call'],
  ]);
  const spans = (await (await fetch(`${app.appUrl}/spans`)).json()) as {
    name: string;
    kind: number;
    attributes: Record<string, unknown>;
  }[];
  const SERVER = 1;
  const CLIENT = 2;
  expect(
    spans
      .filter((s) => s.kind === SERVER)
      .map((s) => s.attributes['url.path'] ?? s.attributes['http.target'])
      .sort(),
  ).toEqual(['/a', '/call', '/inner']);
  expect(spans.filter((s) => s.kind === CLIENT)).toHaveLength(1);

  const text = await scrape(app.metricsUrl);
  const common = {
    http_request_method: 'GET',
    network_protocol_version: '1.1',
    url_scheme: 'http',
    http_response_status_code: '200',
  };
  // /a, /call, /inner and /spans, once each, through otelkit's own instruments
  expect(seriesOf(text, 'http_server_request_duration_seconds_count')).toEqual({ [k(common)]: 4 });
  const names = [...families(text).keys()].filter((n) => n.startsWith('http_'));
  expect(names.sort()).toEqual([
    'http_client_request_duration_seconds',
    'http_server_active_requests',
    'http_server_request_duration_seconds',
  ]);
});
