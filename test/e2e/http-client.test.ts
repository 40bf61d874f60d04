// Plain node:http apps, one ESM and one CommonJS, under the otelkit/register preload
// (no loader flags): server metrics with routes set by setHttpRoute, client metrics for
// outgoing http.get and fetch calls to a local backend (this test process), and the
// same series from both module systems.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll } from '../helpers/child.js';
import { scrape } from '../helpers/prom-text.js';
import { labelKey as k, send, seriesOf, startFixture } from '../fixtures/http-harness.js';

let backend: Server;
let backendPort: number;
let closedPort: number;

beforeAll(async () => {
  backend = createServer((req, res) => {
    res.statusCode = req.url === '/unavailable' ? 503 : 200;
    res.end('backend');
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  backendPort = (backend.address() as AddressInfo).port;
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  closedPort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
});
afterAll(async () => {
  await stopAll();
  backend.close();
});

const SEQUENCE: [string, string][] = [
  ['GET', '/users/1'],
  ['GET', '/users/2'],
  ['GET', '/boom'],
  ['GET', '/call'],
  ...Array.from({ length: 5 }, (_, i): [string, string] => ['GET', `/nothing/${i}`]),
];

async function run(fixture: string, preload: '--import' | '--require') {
  const app = await startFixture(fixture, {
    preload,
    env: { BACKEND_URL: `http://127.0.0.1:${backendPort}`, CLOSED_PORT: String(closedPort) },
  });
  expect(await send(app.appUrl, SEQUENCE)).toEqual([200, 200, 500, 200, 404, 404, 404, 404, 404]);
  const text = await scrape(app.metricsUrl);
  await app.child.stop();
  return {
    server: seriesOf(text, 'http_server_request_duration_seconds_count'),
    client: seriesOf(text, 'http_client_request_duration_seconds_count'),
    clientInf: seriesOf(text, 'http_client_request_duration_seconds_bucket', [], { le: '+Inf' }),
  };
}

describe('plain node:http apps', () => {
  let esm: Awaited<ReturnType<typeof run>>;
  let cjs: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    [esm, cjs] = await Promise.all([run('http-plain.mjs', '--import'), run('http-plain.cjs', '--require')]);
  });

  it('server: setHttpRoute templates, unmatched requests without http.route', () => {
    const common = { http_request_method: 'GET', network_protocol_version: '1.1', url_scheme: 'http' };
    expect(esm.server).toEqual({
      [k({ ...common, http_response_status_code: '200', http_route: '/users/:id' })]: 2,
      [k({ ...common, http_response_status_code: '500', http_route: '/boom', error_type: '500' })]: 1,
      [k({ ...common, http_response_status_code: '200', http_route: '/call' })]: 1,
      [k({ ...common, http_response_status_code: '404' })]: 5,
    });
  });

  it('client: http.get and fetch to one server share series; 5xx and connection errors carry error.type', () => {
    const to = (port: number) => ({
      http_request_method: 'GET',
      server_address: '127.0.0.1',
      server_port: String(port),
      url_scheme: 'http',
    });
    const expected = {
      // one http.get + one fetch
      [k({ ...to(backendPort), http_response_status_code: '200' })]: 2,
      [k({ ...to(backendPort), http_response_status_code: '503', error_type: '503' })]: 1,
      // one http.get + one fetch to a closed port
      [k({ ...to(closedPort), error_type: 'ECONNREFUSED' })]: 2,
    };
    expect(esm.client).toEqual(expected);
    expect(esm.clientInf).toEqual(expected);
  });

  it('an ESM app (--import) and a CommonJS app (--require) report the same series', () => {
    expect(cjs.server).toEqual(esm.server);
    expect(cjs.client).toEqual(esm.client);
  });
});
