// Express 4 and 5 under the preload: a handler inside a router or sub-app that fails
// (throws, calls next(err), or, in Express 5, rejects) and whose error is answered
// outside that router, by an app-level error middleware or by Express's final
// handler, is recorded with the full route template, as its successful siblings are.
// Express restores req.baseUrl (and req.app) on the way out of the routers, so the
// mount prefix cannot be read off the request at that point.
import { afterAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/child.js';
import { scrape } from '../helpers/prom-text.js';
import { send, seriesOf, startFixture } from '../fixtures/http-harness.js';

afterAll(() => stopAll());

const common = 'network_protocol_version=1.1,url_scheme=http';
const ok = (route: string) => `http_request_method=GET,http_response_status_code=200,http_route=${route},${common}`;
const failed = (route: string, status = 500) =>
  `error_type=${status},http_request_method=GET,http_response_status_code=${status},http_route=${route},${common}`;
const rejected = (route: string) =>
  `http_request_method=GET,http_response_status_code=400,http_route=${route},${common}`;

/** Requests in order, with the status each gets and the route it must be recorded under. */
function sequence(v5: boolean): [path: string, status: number, key: string][] {
  const async = (path: string, route: string): [string, number, string][] => (v5 ? [[path, 500, failed(route)]] : []);
  return [
    ['/top/1', 500, failed('/top/:x')],
    ['/api/ok/1', 200, ok('/api/ok/:x')],
    ['/api/boom/1', 500, failed('/api/boom/:x')],
    ['/api/next/1', 500, failed('/api/next/:x')],
    ...async('/api/async/1', '/api/async/:x'),
    ['/api/invalid/1', 400, rejected('/api/invalid/:x')],
    ['/plain/1', 500, failed('/plain/:x')],
    // mergeParams, first request to the route an error
    ['/orgs/o1/boom/b', 500, failed('/orgs/:org/boom/:x')],
    ['/orgs/o2/next/b', 500, failed('/orgs/:org/next/:x')],
    ['/orgs/o2/invalid/b', 400, rejected('/orgs/:org/invalid/:x')],
    ...async('/orgs/o1/async/b', '/orgs/:org/async/:x'),
    ['/orgs/o1/ok/1', 200, ok('/orgs/:org/ok/:x')],
    // no mergeParams
    ['/teams/t1/boom/1', 500, failed('/teams/:team/boom/:x')],
    ['/teams/t2/next/1', 500, failed('/teams/:team/next/:x')],
    // two routers with a parameter each; values that also start a literal segment
    ['/accounts/a/projects/p/boom/1', 500, failed('/accounts/:account/projects/:project/boom/:x')],
    ['/accounts/a/projects/p/ok/1', 200, ok('/accounts/:account/projects/:project/ok/:x')],
    // Express 4: matched per request (see the fixture)
    ['/regions/r/boom/1', 500, failed('/regions/:region/boom/:x')],
    ['/regions/r/next/1', 500, failed('/regions/:region/next/:x')],
    ['/regions/r/ok/1', 200, ok('/regions/:region/ok/:x')],
    // Express does not link an app to its sub-apps: otelkit learns of one when it
    // answers a request itself (here /sub/ok), then finds its routes from the parent.
    ['/sub/ok/1', 200, ok('/sub/ok/:x')],
    ['/sub/boom/1', 500, failed('/sub/boom/:x')],
    ['/sub/next/1', 500, failed('/sub/next/:x')],
    ['/sub/invalid/1', 400, rejected('/sub/invalid/:x')],
    ...async('/sub/async/1', '/sub/async/:x'),
    ['/sub/deep/d1/boom/1', 500, failed('/sub/deep/:d/boom/:x')],
    // a router answering its own errors (already had its prefix)
    ['/guarded/boom/1', 502, failed('/guarded/boom/:x', 502)],
    ['/guarded/ok/1', 200, ok('/guarded/ok/:x')],
  ];
}

describe.each([
  ['Express 5', 'express'],
  ['Express 4', 'express4'],
])('%s: errors answered outside their router keep the full route template', (_name, module) => {
  it.each(['default', 'middleware'])('answered by %s', async (errors) => {
    const app = await startFixture('http-express-errors.cjs', { env: { EXPRESS: module, ERRORS: errors } });
    const steps = sequence(module === 'express');
    const statuses = await send(
      app.appUrl,
      steps.map(([path]) => ['GET', path]),
    );
    expect(statuses).toEqual(steps.map(([, status]) => status));
    const expected: Record<string, number> = {};
    for (const [, , key] of steps) expected[key] = (expected[key] ?? 0) + 1;
    const text = await scrape(app.metricsUrl);
    expect(seriesOf(text, 'http_server_request_duration_seconds_count')).toEqual(expected);
  });
});
