// TLS: a node:https server reports url.scheme=https (server metrics and active
// requests), and https.get / fetch over TLS report client url.scheme=https and the
// default port 443 rules (here an explicit port). Certificate made with openssl.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { register, setHttpRoute, type OtelkitHandle } from '../../index.js';
import { scrape } from '../helpers/prom-text.js';
import { labelKey as k, seriesOf } from '../fixtures/http-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'otelkit-tls-'));
const openssl = spawnSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    join(dir, 'k.pem'),
    '-out',
    join(dir, 'c.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
  ],
  { stdio: 'ignore' },
);

let otel: OtelkitHandle;
let server: Server;
let port: number;

beforeAll(async () => {
  otel = register({
    prometheus: { host: '127.0.0.1', port: 0 },
    instrumentations: ['http-server', 'http-client'],
    serviceName: 'https',
  });
  await otel.ready;
  if (openssl.status !== 0) return;
  server = createServer(
    { key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) },
    (req, res) => {
      setHttpRoute(req, '/secure');
      res.end('tls');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server?.close();
  await otel.shutdown();
});

it.skipIf(openssl.status !== 0)('https server and clients report url.scheme=https', async () => {
  await new Promise<void>((resolve, reject) =>
    get({ host: '127.0.0.1', port, path: '/x', rejectUnauthorized: false }, (r) => r.resume().on('end', resolve)).on(
      'error',
      reject,
    ),
  );
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // fetch has no per-call option for a self-signed certificate
  try {
    await (await fetch(`https://127.0.0.1:${port}/y`)).text();
  } finally {
    delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  }
  const text = await scrape(otel.prometheusAddress!.url);
  expect(seriesOf(text, 'http_server_request_duration_seconds_count')).toEqual({
    [k({
      http_request_method: 'GET',
      http_response_status_code: '200',
      http_route: '/secure',
      network_protocol_version: '1.1',
      url_scheme: 'https',
    })]: 2,
  });
  expect(seriesOf(text, 'http_server_active_requests')).toEqual({
    [k({ http_request_method: 'GET', url_scheme: 'https' })]: 0,
  });
  expect(seriesOf(text, 'http_client_request_duration_seconds_count')).toEqual({
    [k({
      http_request_method: 'GET',
      http_response_status_code: '200',
      server_address: '127.0.0.1',
      server_port: String(port),
      url_scheme: 'https',
    })]: 2,
  });
});
