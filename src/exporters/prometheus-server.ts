/**
 * The standalone scrape server. Unlike exporter-prometheus's own server it binds
 * port 0 to a free port, reports the bound address, checks a bearer token, and
 * never keeps the process alive (unref).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { diag } from '@opentelemetry/api';
import type { PrometheusConfig } from '../config/types.js';
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

export function startPrometheusServer(reader: PrometheusReader, config: PrometheusConfig): RunningPrometheusServer {
  // Not `import ... from 'node:http'`: in an ES module that builds node:http's ESM facade,
  // which reads every export, and the WebSocket/MessageEvent getters among them load undici,
  // the largest part of the preload's start-up. The CommonJS module is the same object.
  const server = process.getBuiltinModule('node:http').createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === config.path) serveScrape(reader, config.token, req, res);
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
      configWarning(
        `the Prometheus endpoint could not listen on ${config.host}:${config.port} (${why}); ` +
          'set OTEL_EXPORTER_PROMETHEUS_PORT to a free port (0 picks one). The app keeps running without it',
      );
      resolve(undefined);
    });
    server.listen(config.port, config.host, () => {
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
