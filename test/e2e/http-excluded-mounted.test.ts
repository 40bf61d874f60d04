// Excluded paths are decided on the path a request came with. An Express router
// mounted on a path rewrites req.url for its handlers (`/api/health` becomes
// `/health`) and leaves it so when the handler answers, so a check made when the
// response ends would wrongly skip `/api/health` under the default `/health` exclusion.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register, type OtelkitHandle } from '../../index.js';
import { scrape } from '../helpers/prom-text.js';
import { labelKey as k, send, seriesOf } from '../fixtures/http-harness.js';

let otel: OtelkitHandle;
let metricsUrl: string;
let server: Server;
let base: string;

beforeAll(async () => {
  otel = register({
    prometheus: { host: '127.0.0.1', port: 0 },
    instrumentations: ['http-server'],
    http: { excludePaths: ['/health', '/internal/*'] },
    serviceName: 'http-excluded-mounted',
  });
  metricsUrl = (await otel.ready)!.url;
  const api = express.Router();
  api.get('/health', (_req, res) => void res.send('api health'));
  api.get('/internal/stats', (_req, res) => void res.send('api stats'));
  const app = express();
  app.use('/api', api);
  app.get('/health', (_req, res) => void res.send('health'));
  app.get('/internal/stats', (_req, res) => void res.send('stats'));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.close();
  await otel.shutdown();
});

describe('HTTP server: excluded paths under a mounted Express router', () => {
  it('/api/health, /api/internal/stats counted under their full routes; /health, /internal/stats are not', async () => {
    expect(
      await send(base, [
        ['GET', '/api/health'],
        ['GET', '/api/internal/stats'],
        ['GET', '/health'],
        ['GET', '/internal/stats'],
        ['GET', '/api/health'],
      ]),
    ).toEqual([200, 200, 200, 200, 200]);
    const counts = seriesOf(await scrape(metricsUrl), 'http_server_request_duration_seconds_count');
    const ok = (route: string) =>
      k({
        http_request_method: 'GET',
        http_response_status_code: '200',
        http_route: route,
        network_protocol_version: '1.1',
        url_scheme: 'http',
      });
    expect(counts).toEqual({ [ok('/api/health')]: 2, [ok('/api/internal/stats')]: 1 });
  });
});
