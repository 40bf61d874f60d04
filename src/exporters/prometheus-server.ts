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
  /** True when the last listen failed because the address is in use. */
  readonly inUse: boolean;
  /**
   * Listens again after a failed listen (a cluster worker's re-election, peers/elected.ts);
   * resolves like `listening`, undefined at once after close().
   */
  listenAgain(): Promise<PrometheusAddress | undefined>;
  close(): Promise<void>;
}

export interface PrometheusServerOptions {
  /**
   * Say nothing when the address is in use: a cluster worker that elects its server
   * (peers/elected.ts) joins the worker that got the port instead.
   */
  quietWhenInUse?: boolean;
}

export function startPrometheusServer(
  reader: PrometheusReader,
  otelkit: OtelkitConfig,
  options: PrometheusServerOptions = {},
): RunningPrometheusServer {
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
  let inUse = false;
  /** The listen under way: settled by the one 'listening' or 'error' listener below. */
  let pending: ((err?: NodeJS.ErrnoException) => void) | undefined;
  // `on`, not `once`: later errors (EMFILE on accept, say) must not reach the app as throws.
  server.on('error', (err: NodeJS.ErrnoException) => {
    const settle = pending;
    pending = undefined;
    if (settle) settle(err);
    else diag.error('otelkit: Prometheus endpoint error', err);
  });
  server.on('listening', () => {
    const settle = pending;
    pending = undefined;
    settle?.();
  });

  const listen = (): Promise<PrometheusAddress | undefined> =>
    new Promise((resolve) => {
      if (closed) return resolve(undefined);
      pending = (err) => {
        if (err) {
          inUse = err.code === 'EADDRINUSE';
          if (!(inUse && options.quietWhenInUse)) warnCouldNotListen(config, err);
          return resolve(undefined);
        }
        inUse = false;
        if (closed) {
          // shutdown() came before the bind finished: do not leave the port open.
          server.close();
          return resolve(undefined);
        }
        const { address, port } = server.address() as AddressInfo;
        const host = address.includes(':') ? `[${address}]` : address;
        resolve({ host: address, port, url: `http://${host}:${port}${config.path}` });
      };
      // In a cluster worker (here only when the primary does not run otelkit: PM2, say) a
      // shared port would hand each scrape to a random worker, which answers with its own
      // metrics only: counters would jump between workers' values. Exclusive, one worker
      // gets the port and serves for all (docs/multi-process.md#pm2).
      server.listen({ port: config.port, host: config.host, exclusive: cluster.isWorker });
    });

  return {
    server,
    listening: listen(),
    get inUse() {
      return inUse;
    },
    listenAgain: listen,
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The one line a failed listen gives (for a cluster worker: why, and what to do under PM2). */
function warnCouldNotListen(config: OtelkitConfig['prometheus'], err: NodeJS.ErrnoException): void {
  const why = err.code === 'EADDRINUSE' ? 'the address is already in use' : firstLine(err);
  const fix = cluster.isWorker
    ? 'this is a cluster worker whose primary does not run otelkit (PM2, say): give each worker its own ' +
      'OTEL_EXPORTER_PROMETHEUS_PORT (PM2: increment_var), see docs/multi-process.md'
    : 'set OTEL_EXPORTER_PROMETHEUS_PORT to a free port (0 picks one)';
  configWarning(
    `the Prometheus endpoint could not listen on ${config.host}:${config.port} (${why}); ` +
      `${fix}. The app keeps running without it`,
  );
}
