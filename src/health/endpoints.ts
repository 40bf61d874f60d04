/**
 * The endpoints beside the scrape: liveness, readiness and the /stats snapshot, over
 * node:http req/res, for the standalone server and for handlers mounted on the app.
 * The Prometheus token, when set, applies to each endpoint not listed in
 * `health.open` (liveness only, by default: orchestrators probe it without a secret).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { diag } from '@opentelemetry/api';
import type { OtelkitConfig } from '../config/types.js';
import { bearerMatches, notFound } from '../exporters/prometheus-handler.js';
import { statsHolder } from '../stats/stats-service.js';
import { firstLine } from '../util/errors.js';
import { runHealthChecks } from './checks.js';

export type EndpointName = 'live' | 'ready' | 'stats';

const JSON_TYPE = 'application/json; charset=utf-8';

/** Which endpoint `path` is under `config`, if any. */
export function endpointAt(config: OtelkitConfig, path: string): EndpointName | undefined {
  const h = config.health;
  if (path === h.livePath) return 'live';
  if (path === h.readyPath) return 'ready';
  if (path === h.statsPath) return 'stats';
  return undefined;
}

export function serveEndpoint(
  name: EndpointName,
  config: OtelkitConfig | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const token = config?.prometheus.token;
  if (token !== undefined && !config!.health.open.includes(name) && !bearerMatches(req.headers.authorization, token)) {
    res
      .writeHead(401, { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'text/plain' })
      .end('unauthorized\n');
    return;
  }
  if (name === 'live') sendJson(req, res, 200, { status: 'pass' });
  else if (name === 'stats') serveStats(req, res);
  else
    runHealthChecks()
      .then((readiness) => sendJson(req, res, readiness.status === 'pass' ? 200 : 503, readiness))
      .catch((err: unknown) => diag.error('otelkit: could not answer a readiness request', err));
}

function serveStats(req: IncomingMessage, res: ServerResponse): void {
  const service = statsHolder().service;
  if (!service) {
    notFound(res);
    return;
  }
  try {
    sendJson(req, res, 200, service.get());
  } catch (err) {
    diag.error('otelkit: computing /stats failed', err);
    sendJson(req, res, 500, { error: firstLine(err) });
  }
}

function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  // Another handler (a timeout middleware, say) may have answered meanwhile.
  if (res.headersSent || res.writableEnded) return;
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': text.length, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : text);
}
