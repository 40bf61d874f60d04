/**
 * The standalone scrape server. Unlike exporter-prometheus's own server it binds
 * port 0 to a free port, reports the bound address, checks a bearer token, and
 * never keeps the process alive (unref). It also answers the health and /stats
 * endpoints (health/endpoints.ts).
 */
import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { diag } from '@opentelemetry/api';
import type { OtelkitConfig } from '../config/types.js';
import { endpointAt, serveEndpoint } from '../health/endpoints.js';
import type { PrometheusAddress } from '../handle.js';
import { configWarning } from '../log.js';
import { markOwnServer } from '../own-traffic.js';
import { firstLine } from '../util/errors.js';
import { notFound, serveScrape } from './prometheus-handler.js';
import type { PrometheusReader } from './prometheus-reader.js';

export interface RunningPrometheusServer {
  server: Server;
  /** Resolves with the bound address, or undefined when binding failed (already logged). */
  listening: Promise<PrometheusAddress | undefined>;
  close(): Promise<void>;
}

export function startPrometheusServer(reader: PrometheusReader, otelkit: OtelkitConfig): RunningPrometheusServer {
  const config = otelkit.prometheus;
  // Not `import ... from 'node:http'`: in an ES module that builds node:http's ESM facade,
  // which reads every export, and the WebSocket/MessageEvent getters among them load undici,
  // the largest part of the preload's start-up. The CommonJS module is the same object.
  const server = process.getBuiltinModule('node:http').createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const endpoint = path === config.path ? undefined : endpointAt(otelkit, path);
    if (path === config.path) serveScrape(reader, config.token, req, res);
    else if (endpoint) serveEndpoint(endpoint, otelkit, req, res);
    else notFound(res);
  });
  markOwnServer(server);
  // Neither the listener nor a scraper's keep-alive connection may hold the process open.
  server.unref();
  server.on('connection', (socket) => socket.unref());

  let closed = false;
  let bound = false;
  const listening = new Promise<PrometheusAddress | undefined>((resolve) => {
    // `on`, not `once`: later errors (EMFILE on accept, say) must not reach the app as throws.
    server.on('error', (err: NodeJS.ErrnoException) => {
      if (bound) {
        diag.error('otelkit: Prometheus endpoint error', err);
        return;
      }
      const why = err.code === 'EADDRINUSE' ? 'the address is already in use' : firstLine(err);
      const fix = cluster.isWorker
        ? 'this is a cluster worker whose primary does not run otelkit (PM2, say): give each worker its own ' +
          'OTEL_EXPORTER_PROMETHEUS_PORT (PM2: increment_var), see docs/multi-process.md'
        : 'set OTEL_EXPORTER_PROMETHEUS_PORT to a free port (0 picks one)';
      configWarning(
        `the Prometheus endpoint could not listen on ${config.host}:${config.port} (${why}); ` +
          `${fix}. The app keeps running without it`,
      );
      resolve(undefined);
    });
    // In a cluster worker (here only when the primary does not run otelkit: PM2, say) a
    // shared port would hand each scrape to a random worker, which answers with its own
    // metrics only: counters would jump between workers' values. Exclusive, the first
    // worker gets the port and the others say so (docs/multi-process.md).
    server.listen({ port: config.port, host: config.host, exclusive: cluster.isWorker }, () => {
      bound = true;
      if (closed) {
        // shutdown() came before the bind finished: do not leave the port open.
        server.close();
        return resolve(undefined);
      }
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      resolve({ host: address, port, url: `http://${host}:${port}${config.path}` });
    });
  });

  return {
    server,
    listening,
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
