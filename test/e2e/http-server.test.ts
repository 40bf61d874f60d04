// HTTP server metrics in real Express 5, Express 4 and Fastify apps started under
// the otelkit/register preload: exact counts per route template and status after
// a known sequence of requests, 404s on random paths adding no series, the scrape
// (standalone and mounted on the app) and excluded paths never counted.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/child.js';
import { scrape } from '../helpers/prom-text.js';
import { send, seriesOf, startFixture } from '../fixtures/http-harness.js';

afterAll(() => stopAll());

const SEQUENCE: [string, string][] = [
  ['GET', '/users/1'],
  ['GET', '/users/2'],
  ['GET', '/users/3'],
  ['POST', '/users'],
  ['GET', '/boom'],
  ['GET', '/throws'],
  ['GET', '/tenants/7/orders/9'],
  // Values that also start a literal segment ('/tenants/t'): never put back in the wrong place.
  ['GET', '/tenants/t/orders/1'],
  ['GET', '/api/items/5'],
  ['GET', '/orgs/1/members/2'],
  ['GET', '/orgs/3/members/4'],
  ['GET', '/orgs/o/teams/t/people/7'],
  ['GET', '/health'],
  ['GET', '/health?probe=1'],
  ['GET', '/internal/scrape'],
  ['PROPFIND', '/users/1'],
  ...Array.from({ length: 25 }, (): [string, string] => ['GET', `/random-${randomUUID()}`]),
];

const common = 'network_protocol_version=1.1,url_scheme=http';
const EXPECTED_COUNTS = {
  [`http_request_method=GET,http_response_status_code=200,http_route=/users/:id,${common}`]: 3,
  [`http_request_method=POST,http_response_status_code=201,http_route=/users,${common}`]: 1,
  [`error_type=500,http_request_method=GET,http_response_status_code=500,http_route=/boom,${common}`]: 1,
  [`error_type=500,http_request_method=GET,http_response_status_code=500,http_route=/throws,${common}`]: 1,
  [`http_request_method=GET,http_response_status_code=200,http_route=/tenants/:tid/orders/:oid,${common}`]: 2,
  [`http_request_method=GET,http_response_status_code=200,http_route=/api/items/:id,${common}`]: 1,
  [`http_request_method=GET,http_response_status_code=200,http_route=/orgs/:org/members/:mid,${common}`]: 2,
  [`http_request_method=GET,http_response_status_code=200,http_route=/orgs/:org/teams/:team/people/:pid,${common}`]: 1,
  // 25 random paths: one series, no http.route
  [`http_request_method=GET,http_response_status_code=404,${common}`]: 25,
  [`http_request_method=_OTHER,http_response_status_code=404,${common}`]: 1,
};

describe.each([
  ['Express 5 (ESM)', 'http-express5.mjs'],
  ['Express 4 (CJS)', 'http-express4.cjs'],
  ['Fastify 5 (ESM)', 'http-fastify.mjs'],
])('%s under the preload', (_name, fixture) => {
  it('counts each request once per route template and status; 404s, excluded paths, scrapes add nothing', async () => {
    const app = await startFixture(fixture);
    const t0 = performance.now();
    const statuses = await send(app.appUrl, SEQUENCE);
    const elapsed = (performance.now() - t0) / 1000;
    expect(statuses.slice(0, 12)).toEqual([200, 200, 200, 201, 500, 500, 200, 200, 200, 200, 200, 200]);
    expect(statuses.slice(15)).toEqual(Array(26).fill(404));
    await scrape(app.metricsUrl);
    await scrape(app.metricsUrl);
    const text = await scrape(app.metricsUrl);

    expect(seriesOf(text, 'http_server_request_duration_seconds_count')).toEqual(EXPECTED_COUNTS);
    // Buckets agree with the count; durations are positive, and the requests of a series (sent one
    // after another) took no longer than the client saw them all take.
    expect(seriesOf(text, 'http_server_request_duration_seconds_bucket', [], { le: '+Inf' })).toEqual(EXPECTED_COUNTS);
    for (const [key, sum] of Object.entries(seriesOf(text, 'http_server_request_duration_seconds_sum'))) {
      expect(sum, key).toBeGreaterThan(0);
      expect(sum, key).toBeLessThanOrEqual(elapsed);
    }
    // Nothing in flight once every response is done.
    expect(seriesOf(text, 'http_server_active_requests')).toEqual({
      'http_request_method=GET,url_scheme=http': 0,
      'http_request_method=POST,url_scheme=http': 0,
      'http_request_method=_OTHER,url_scheme=http': 0,
    });
    // Body sizes are off by default.
    expect(text).not.toContain('http_server_request_body_size');
  });
});
