/**
 * Where this otelkit stands among the app's processes and threads, and the wiring
 * for it (docs/multi-process.md):
 * - a worker thread whose main thread runs otelkit (with Prometheus) joins it: no
 *   server, no export of its own;
 * - a cluster worker whose primary runs otelkit joins the primary: no server of its
 *   own (OTLP, when configured, it still exports itself);
 * - anything else serves: with Prometheus it merges in the threads that joined it
 *   and, as a cluster primary, the workers that did;
 * - cluster workers whose primary does not run otelkit (PM2) elect one of them to
 *   serve for all (elected.ts).
 */
import type { ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { OtelkitConfig } from '../config/types.js';
import type { PrometheusReader } from '../exporters/prometheus-reader.js';
import type { RunningPrometheusServer } from '../exporters/prometheus-server.js';
import type { PrometheusAddress } from '../handle.js';
import { answerClusterPrimary, isClusterMember, serveClusterWorkers, type ScrapeSource } from './cluster.js';
import { electionSocketPath, electsServer, runElection } from './elected.js';
import { PeerHub } from './hub.js';
import { answerMainThread, isThreadMember, serveThreads, threadInstrumentations } from './threads.js';

export type PeerRole = 'thread' | 'cluster-worker' | 'server';

/** How long a scrape waits for the peers' answers before it uses their previous ones. */
export const PEER_TIMEOUT_MS = 1000;

export function peerRole(): PeerRole {
  if (isThreadMember()) return 'thread';
  return isClusterMember() ? 'cluster-worker' : 'server';
}

/** The configuration as this role runs it. */
export function configForRole(config: OtelkitConfig, role: PeerRole): OtelkitConfig {
  if (role === 'thread') {
    return {
      ...config,
      exporters: ['prometheus'],
      prometheus: { ...config.prometheus, server: false },
      instrumentations: threadInstrumentations(config.instrumentations),
    };
  }
  if (role === 'cluster-worker') return { ...config, prometheus: { ...config.prometheus, server: false } };
  return config;
}

/**
 * Who joins a serving otelkit: its worker threads when it has an export to merge them
 * into (the scrape, or a cumulative push export); cluster workers for the scrape only,
 * since each worker pushes its own OTLP.
 */
function joiners(config: OtelkitConfig): { threads: boolean; workers: boolean } {
  const scrape = config.exporters.includes('prometheus');
  const push = config.exporters.some((name) => pushMergesThreads(name, config));
  return { threads: scrape || push, workers: scrape };
}

/** A push exporter merges the threads when it exports cumulative: the threads answer with cumulative metrics. */
export function pushMergesThreads(exporter: string, config: OtelkitConfig): boolean {
  return exporter === 'console' || (exporter === 'otlp' && config.otlp.temporality === 'cumulative');
}

/** The hub a serving otelkit merges its peers with; undefined when no peer can join it. */
export function createHub(config: OtelkitConfig, role: PeerRole): PeerHub | undefined {
  return role !== 'thread' && joiners(config).threads ? new PeerHub(PEER_TIMEOUT_MS) : undefined;
}

/**
 * Starts listening to peers (hub) and answering the server (members). Returns what
 * `metricsHandler` serves: the reader, or in a cluster worker the primary's merged scrape.
 */
export function joinPeers(
  role: PeerRole,
  hub: PeerHub | undefined,
  reader: PrometheusReader | undefined,
  config: OtelkitConfig,
): ScrapeSource | undefined {
  if (hub) {
    const join = joiners(config);
    if (join.threads) serveThreads(hub);
    if (join.workers) serveClusterWorkers(hub, reader);
  }
  if (!reader || role === 'server') return reader;
  const { collect, collectNow } = answers(hub, reader);
  if (role === 'thread') {
    answerMainThread(collect, collectNow);
    return reader;
  }
  return answerClusterPrimary(collect, collectNow);
}

/** What a member answers its server with: its cumulative metrics, its own threads' merged in. */
function answers(hub: PeerHub | undefined, reader: PrometheusReader) {
  return {
    collect: async (): Promise<ScopeMetrics[]> => {
      const { resourceMetrics } = await reader.collect();
      return (hub ? await hub.mergeInto(resourceMetrics) : resourceMetrics).scopeMetrics;
    },
    collectNow: (): ScopeMetrics[] | undefined => reader.collectNow()?.scopeMetrics,
  };
}

/**
 * In a cluster worker whose primary does not run otelkit, with a fixed Prometheus port:
 * the socket path its workers elect their server through (elected.ts); else undefined.
 */
export function electionPath(config: OtelkitConfig, role: PeerRole): string | undefined {
  return electsServer(config, role === 'server') ? electionSocketPath(config.prometheus.port) : undefined;
}

/** Serves for the other workers, or joins the one that does. Returns a function that stops it. */
export function joinElection(
  path: string,
  config: OtelkitConfig,
  server: RunningPrometheusServer,
  hub: PeerHub,
  reader: PrometheusReader,
  onServing: (address: PrometheusAddress) => void,
): () => void {
  return runElection({ path, server, hub, config: config.prometheus, ...answers(hub, reader), onServing });
}
