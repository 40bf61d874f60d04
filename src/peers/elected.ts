/**
 * PM2's case: cluster workers whose primary does not run otelkit still agree on one
 * scrape for the whole service (docs/multi-process.md#pm2).
 *
 * The metrics port elects the server: each worker tries the exclusive listen, and the
 * one that gets it serves the scrape and is the hub for the others. They join it
 * through a local socket (socket-peers.ts) whose path every worker derives from the
 * same two things: its parent's pid (PM2's daemon, or the app's primary) and the port.
 * When the server ends, its members' connections close and each tries the port again
 * after a short random delay: one wins and opens the socket, the others join it. The
 * winner keeps the totals the server before it handed over at its last scrape, so
 * the service's counters go on from there.
 * Nothing here runs per request: only at start, at each scrape (the hub's request)
 * and when a worker comes or goes.
 */
import cluster from 'node:cluster';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { diag } from '@opentelemetry/api';
import type { ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { OtelkitConfig } from '../config/types.js';
import type { RunningPrometheusServer } from '../exporters/prometheus-server.js';
import type { PrometheusAddress } from '../handle.js';
import { configWarning, warnOnce } from '../log.js';
import type { PeerHub } from './hub.js';
import { answerSocketServer, serveSocketPeers } from './socket-peers.js';

/** sun_path holds 108 bytes on Linux and 104 on macOS, the trailing NUL included. */
const MAX_SOCKET_PATH = 103;
/** After this many attempts in a row found no server on the socket, one line says so. */
const WARN_AFTER = 6;
/** The longest wait between two attempts while no server answers. */
const MAX_DELAY_MS = 5000;

/**
 * True for a cluster worker that serves on its own (its primary does not run otelkit)
 * with a fixed Prometheus port: the workers race for that port. With port 0 each
 * worker gets a port of its own, and there is nothing to elect.
 */
export function electsServer(config: OtelkitConfig, serving: boolean): boolean {
  const { prometheus } = config;
  return (
    serving &&
    cluster.isWorker &&
    isMainThread &&
    config.exporters.includes('prometheus') &&
    prometheus.server &&
    prometheus.port !== 0
  );
}

/**
 * Where the server worker listens for the others: the same for every worker of one
 * app under one primary with one port. PM2's daemon is the primary of all its apps,
 * so there the app's name (PM2 sets `name` and `pm_id` in each worker's environment)
 * is part of it: workers of another app on the same port do not merge into this one.
 * Undefined (after one line) when the path is too long for a socket.
 */
export function electionSocketPath(port: number): string | undefined {
  const app = process.env.pm_id !== undefined ? process.env.name : undefined;
  const name = `otelkit-${process.ppid}-${port}${app ? `-${fnv1a(app)}` : ''}`;
  if (process.platform === 'win32') return `\\\\.\\pipe\\${name}`;
  const path = join(tmpdir(), `${name}.sock`);
  if (Buffer.byteLength(path) <= MAX_SOCKET_PATH) return path;
  configWarning(
    `the cluster workers cannot share one Prometheus endpoint: the socket path ${path} is longer than ` +
      `${MAX_SOCKET_PATH} bytes (set TMPDIR to a shorter directory); the first worker serves its own metrics only`,
  );
  return undefined;
}

/** A short, stable name for a string (FNV-1a, 32 bits): no crypto module to load at start-up. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16);
}

/**
 * The `worker` label of this worker's gauges: PM2's `pm_id` (what `pm2 ls` shows, kept
 * when PM2 restarts the instance), else the cluster worker's id, as when the app's
 * own primary serves.
 */
function workerLabel(): string {
  return process.env.pm_id ?? String(cluster.worker?.id ?? process.pid);
}

export interface Election {
  path: string;
  server: RunningPrometheusServer;
  hub: PeerHub;
  config: OtelkitConfig['prometheus'];
  /** This worker's metrics (its threads' merged in), for the server's requests. */
  collect: () => Promise<ScopeMetrics[]>;
  /** Its final totals, synchronously, at exit. */
  collectNow: () => ScopeMetrics[] | undefined;
  /** This worker got the port (at start, or after the server before it ended). */
  onServing: (address: PrometheusAddress) => void;
}

const failed = (err: unknown): void =>
  diag.error('otelkit: the cluster workers could not elect their Prometheus server', err);

/** Serves or joins, after the first listen settles. Returns a function that stops it all. */
export function runElection(election: Election): () => void {
  const { path, server, hub, config } = election;
  const worker = workerLabel();
  let stopped = false;
  let misses = 0;
  let timer: NodeJS.Timeout | undefined;
  let close: (() => void) | undefined;
  /** What the server before this worker would leave behind, as of its last scrape. */
  let handedOver: { totals: ScopeMetrics[]; members: number } | undefined;

  const serve = (address: PrometheusAddress): void => {
    hub.ownLabel = { worker };
    if (handedOver) hub.adopt(handedOver.totals);
    // This worker was one of its predecessor's members: the others are expected back.
    const expected = handedOver ? handedOver.members - 1 : 0;
    handedOver = undefined;
    election.onServing(address);
    serveSocketPeers(hub, path, expected, election.collectNow).then((closeServer) => {
      if (stopped) closeServer?.();
      else close = closeServer;
    }, failed);
  };
  const member = (): void => {
    close = answerSocketServer(path, {
      worker,
      collect: election.collect,
      collectNow: election.collectNow,
      onHandover: (totals, members) => {
        handedOver = { totals, members };
      },
      onClose: (joined) => {
        close = undefined;
        if (joined) {
          misses = 0;
          diag.info('otelkit: the cluster worker that served the Prometheus endpoint is gone; trying the port');
        } else if (++misses === WARN_AFTER) {
          warnOnce(
            'elected-no-server',
            `the Prometheus endpoint could not listen on ${config.host}:${config.port} (the address is already ` +
              `in use), and no otelkit worker answers on ${path}: is another app or program on that port? ` +
              'Give this app its own OTEL_EXPORTER_PROMETHEUS_PORT (or each worker its own: PM2 increment_var), ' +
              'see docs/multi-process.md#pm2. This worker keeps trying the port',
          );
        }
        later();
      },
    });
  };
  const settled = (address: PrometheusAddress | undefined): void => {
    if (stopped) return;
    // Called from a promise: a throw would be an unhandled rejection, which ends the app.
    try {
      if (address) serve(address);
      else if (server.inUse) member();
      // Any other failure was said in one line: this worker serves nothing, as before.
    } catch (err) {
      failed(err);
    }
  };
  const later = (): void => {
    if (stopped) return;
    const ms = Math.min(MAX_DELAY_MS, 50 * 2 ** misses) * (0.5 + Math.random());
    timer = setTimeout(() => server.listenAgain().then(settled, failed), ms);
    timer.unref();
  };

  server.listening.then((address) => {
    if (!address && server.inUse)
      diag.info(`otelkit: another cluster worker serves ${config.host}:${config.port}; joining it through ${path}`);
    settled(address);
  }, failed);
  return () => {
    stopped = true;
    clearTimeout(timer);
    close?.();
  };
}
