/**
 * node:cluster aggregation over the cluster's own IPC channel.
 *
 * The primary (when it runs otelkit with Prometheus) puts its pid in the
 * environment its workers inherit (cluster.fork copies process.env), so a worker
 * knows at once, with no round trip, that its primary serves the scrape: it opens
 * no port and answers the primary's collection requests instead. Under PM2 the
 * primary is PM2's own and never sets it: docs/multi-process.md says what works there.
 *
 * Messages are objects whose `cmd` starts with `NODE_`: Node delivers those as
 * 'internalMessage', never as 'message', so the app's own IPC listeners never see
 * otelkit's traffic, and listening for them does not keep a worker alive.
 */
import cluster, { type Worker } from 'node:cluster';
import { isMainThread } from 'node:worker_threads';
import type { ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { PeerHub, RequestPeers } from './hub.js';

export const PRIMARY_ENV = 'OTELKIT_CLUSTER_PRIMARY';
const HELLO = 'NODE_OTELKIT_HELLO';
const COLLECT = 'NODE_OTELKIT_COLLECT';
const METRICS = 'NODE_OTELKIT_METRICS';
const BYE = 'NODE_OTELKIT_BYE';
/** A worker's metricsHandler asks the primary for the merged scrape body. */
const SCRAPE = 'NODE_OTELKIT_SCRAPE';
const SCRAPE_BODY = 'NODE_OTELKIT_SCRAPE_BODY';
/** How long a worker's metricsHandler waits for the primary's body (which waits up to 1 s for the workers). */
const SCRAPE_TIMEOUT_MS = 10_000;

interface PeerMessage {
  cmd?: unknown;
  id?: number;
  metrics?: ScopeMetrics[];
  body?: string;
}

/** What serves a scrape body: a Prometheus reader, or the primary seen from a worker. */
export interface ScrapeSource {
  scrape(): Promise<Buffer>;
}

type InternalEmitter = { on(event: 'internalMessage', listener: (message: PeerMessage) => void): unknown };
type Send = (message: object, handle: undefined, callback: (error: Error | null) => void) => boolean;

const ignore = (): void => {};

/** True in a cluster worker whose primary runs otelkit and serves the scrape. */
export function isClusterMember(): boolean {
  return cluster.isWorker && process.env[PRIMARY_ENV] === String(process.ppid) && typeof process.send === 'function';
}

/** In the primary: the workers that run otelkit join `hub`; `source` answers their metricsHandler. */
export function serveClusterWorkers(hub: PeerHub, source: ScrapeSource | undefined): void {
  if (!cluster.isPrimary || !isMainThread) return;
  process.env[PRIMARY_ENV] = String(process.pid);
  const request: RequestPeers = (id, peers) => {
    for (const key of peers) {
      const worker = cluster.workers?.[Number(key)];
      if (worker?.isConnected()) (worker.send as unknown as Send)({ cmd: COLLECT, id }, undefined, ignore);
    }
  };
  const attach = (worker: Worker): void => {
    const key = String(worker.id);
    (worker.process as unknown as InternalEmitter).on('internalMessage', (message) => {
      if (message?.cmd === HELLO) hub.join(key, { worker: key }, request);
      else if (message?.cmd === METRICS && Array.isArray(message.metrics))
        hub.answer(key, message.id ?? 0, message.metrics);
      else if (message?.cmd === BYE && Array.isArray(message.metrics)) hub.leave(key, message.metrics);
      else if (message?.cmd === SCRAPE && source) {
        const reply = (body?: string) => {
          if (worker.isConnected())
            (worker.send as unknown as Send)({ cmd: SCRAPE_BODY, id: message.id, body }, undefined, ignore);
        };
        source.scrape().then(
          (body) => reply(body.toString('utf8')),
          () => reply(),
        );
      }
    });
  };
  for (const worker of Object.values(cluster.workers ?? {})) if (worker) attach(worker);
  cluster.on('fork', attach);
  // 'disconnect', not 'exit': every message the worker sent before its channel closed has been read by then.
  cluster.on('disconnect', (worker) => hub.leave(String(worker.id)));
}

/**
 * In a member worker: says hello, answers collection requests with `collect()`,
 * and on the way out sends its final totals when `collectNow` can make them.
 * Returns the scrape source for this worker's metricsHandler: the primary's merged body,
 * since a scrape of the app's shared port lands on any worker.
 */
export function answerClusterPrimary(
  collect: () => Promise<ScopeMetrics[]>,
  collectNow: () => ScopeMetrics[] | undefined,
): ScrapeSource {
  const send = process.send as unknown as Send;
  const post = (message: object): void => {
    try {
      if (process.connected) send.call(process, message, undefined, ignore);
    } catch {
      // the channel closed meanwhile: the primary keeps this worker's last answer
    }
  };
  const bodies = new Map<number, (body: string | undefined) => void>();
  let lastScrape = 0;
  (process as unknown as InternalEmitter).on('internalMessage', (message) => {
    if (message?.cmd === SCRAPE_BODY) bodies.get(message.id ?? 0)?.(message.body);
    if (message?.cmd !== COLLECT) return;
    collect().then(
      (metrics) => post({ cmd: METRICS, id: message.id, metrics }),
      () => {}, // the primary uses this worker's last answer
    );
  });
  process.on('exit', () => {
    // An exit listener that throws would change how the process ends.
    let metrics: ScopeMetrics[] | undefined;
    try {
      metrics = collectNow();
    } catch {
      // the primary keeps this worker's last answer
    }
    if (metrics) post({ cmd: BYE, metrics });
  });
  post({ cmd: HELLO });
  return {
    scrape: () =>
      new Promise<Buffer>((resolve, reject) => {
        const id = ++lastScrape;
        const settle = (body: string | undefined): void => {
          clearTimeout(timer);
          bodies.delete(id);
          if (body === undefined) reject(new Error('the cluster primary did not answer the scrape'));
          else resolve(Buffer.from(body, 'utf8'));
        };
        const timer = setTimeout(() => settle(undefined), SCRAPE_TIMEOUT_MS);
        timer.unref();
        bodies.set(id, settle);
        post({ cmd: SCRAPE, id });
      }),
  };
}
