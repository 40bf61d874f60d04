/**
 * The serving side of multi-process and multi-thread aggregation: it knows the
 * peers (cluster workers, worker threads) that run otelkit, asks them for their
 * cumulative metrics when a scrape comes, and merges their answers into its own.
 *
 * A scrape never waits long for a peer: it waits at most `timeoutMs`, and only for
 * the peers that answered every request they were sent (a stopped or busy peer is
 * waited for once, then still asked but not waited for until it catches up); a peer
 * that did not answer in time is merged with its last answer. A peer that leaves (its
 * process or thread ended) leaves its counters and histograms behind, summed into the
 * retired totals, so the service's counters never go backwards; its gauges and
 * up-down counters go with it (they describe a live process).
 *
 * Peers are of two kinds: threads of this process, and other processes (cluster
 * workers). A push export (OTLP) merges only the threads: each process exports itself.
 */
import { diag, type Attributes } from '@opentelemetry/api';
import type { ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { isTotal, MetricsMerger } from './merge.js';

/** How the hub reaches its peers: one per transport (cluster IPC, the threads' BroadcastChannel). */
export type RequestPeers = (requestId: number, peers: readonly string[]) => void;

/** `thread`: a worker thread of this process; `process`: another process (a cluster worker). */
export type PeerKind = 'thread' | 'process';
export const ALL_PEERS: readonly PeerKind[] = ['thread', 'process'];

interface Peer {
  kind: PeerKind;
  /** The attribute the peer's gauges carry, e.g. `{ worker: '3' }`. */
  label: Attributes;
  last?: ScopeMetrics[];
  /** The id of the last request sent to this peer, and of the last it answered (0: none yet). */
  asked: number;
  answered: number;
  request: RequestPeers;
}

export class PeerHub {
  private readonly peers = new Map<string, Peer>();
  private readonly gone = new Set<string>();
  private readonly retired: Record<PeerKind, ScopeMetrics[]> = { thread: [], process: [] };
  private lastRequest = 0;
  private readonly waiting = new Set<() => void>();
  /**
   * The label of the serving process's own gauges: none when it is the app's primary or
   * main thread; `{ worker }` when it is one cluster worker serving for the others
   * (elected.ts), whose gauges are one worker's among equals.
   */
  ownLabel: Attributes | undefined;
  /** While set, a scrape waits for it first: a new server waiting for its peers to join (elected.ts). */
  private held: Promise<void> | undefined;
  /** Called after each merge with the serving process's own metrics (elected.ts hands its totals over). */
  afterMerge: ((own: readonly ScopeMetrics[]) => void) | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** A peer said hello; `request` asks it (and the others of its transport) for metrics. */
  join(id: string, label: Attributes, request: RequestPeers, kind: PeerKind = 'process'): void {
    if (this.gone.has(id) || this.peers.has(id)) return;
    this.peers.set(id, { kind, label, asked: 0, answered: 0, request });
  }

  answer(id: string, requestId: number, scopeMetrics: ScopeMetrics[]): void {
    const peer = this.peers.get(id);
    if (!peer) return;
    peer.last = scopeMetrics;
    peer.answered = Math.max(peer.answered, requestId);
    for (const wake of [...this.waiting]) wake();
  }

  /** The peer ended: its totals (`final`, or its last answer) stay in every later merge. */
  leave(id: string, final?: ScopeMetrics[]): void {
    if (this.gone.has(id)) return;
    const peer = this.peers.get(id);
    this.peers.delete(id);
    this.gone.add(id);
    const totals = final ?? peer?.last;
    const kind = peer?.kind ?? 'process';
    if (totals)
      this.retired[kind] = new MetricsMerger().add(this.retired[kind]).add(totals, undefined, isTotal).result();
    for (const wake of [...this.waiting]) wake();
  }

  get size(): number {
    return this.peers.size;
  }

  /** `own` with the latest answers of the peers of `kinds` and their departed peers' totals merged in. */
  async mergeInto(own: ResourceMetrics, kinds: readonly PeerKind[] = ALL_PEERS): Promise<ResourceMetrics> {
    if (this.held) await this.held;
    if (this.isEmpty(kinds)) return own;
    await this.collect(kinds);
    const merged = this.mergeLast(own, kinds);
    try {
      this.afterMerge?.(own.scopeMetrics);
    } catch (err) {
      diag.error('otelkit: could not hand the totals over to the other cluster workers', err);
    }
    return merged;
  }

  /** `own` with the last answers already in (no request): for the synchronous export at exit. */
  mergeLast(own: ResourceMetrics, kinds: readonly PeerKind[] = ALL_PEERS): ResourceMetrics {
    if (this.isEmpty(kinds)) return own;
    // The own label marks one cluster worker among equals: only where the other workers are merged too.
    const ownLabel = kinds.includes('process') ? this.ownLabel : undefined;
    const merger = new MetricsMerger().add(own.scopeMetrics, ownLabel);
    for (const kind of kinds) merger.add(this.retired[kind]);
    for (const peer of this.peers.values()) {
      if (!peer.last || !kinds.includes(peer.kind)) continue;
      // This process's threads belong to its worker, as a member's threads do (its answer is labelled whole).
      merger.add(peer.last, ownLabel && peer.kind === 'thread' ? { ...ownLabel, ...peer.label } : peer.label);
    }
    return { resource: own.resource, scopeMetrics: merger.result() };
  }

  /**
   * The counters and histograms that would end with this process, as of `own`: its
   * own, its peers' except those asked by `survivors` (they live on), and the departed
   * peers'. The worker that serves next adopts them (elected.ts).
   */
  handover(own: readonly ScopeMetrics[], survivors: RequestPeers): ScopeMetrics[] {
    const merger = new MetricsMerger().add(this.retired.thread).add(this.retired.process).add(own, undefined, isTotal);
    for (const peer of this.peers.values())
      if (peer.request !== survivors && peer.last) merger.add(peer.last, peer.label, isTotal);
    return merger.result();
  }

  /** Scrapes wait for `until` (which must settle, and never reject) before they merge. */
  hold(until: Promise<void>): void {
    this.held = until;
    void until.then(() => {
      if (this.held === until) this.held = undefined;
    });
  }

  /** Keeps the totals a server before this one handed over, as if its peers had left here. */
  adopt(totals: readonly ScopeMetrics[]): void {
    this.retired.process = new MetricsMerger().add(this.retired.process).add(totals, undefined, isTotal).result();
  }

  private isEmpty(kinds: readonly PeerKind[]): boolean {
    return (
      !(this.ownLabel && kinds.includes('process')) &&
      kinds.every((kind) => this.retired[kind].length === 0) &&
      ![...this.peers.values()].some((peer) => kinds.includes(peer.kind))
    );
  }

  private collect(kinds: readonly PeerKind[]): Promise<void> {
    const id = ++this.lastRequest;
    const asked = [...this.peers].filter(([, peer]) => kinds.includes(peer.kind));
    // Wait only for the peers that answered everything they were asked; ask every one, so
    // that a peer that was busy catches up with this request and is waited for again.
    const awaited = asked.filter(([, peer]) => peer.answered >= peer.asked).map(([key]) => key);
    const byTransport = new Map<RequestPeers, string[]>();
    for (const [key, peer] of asked) {
      peer.asked = id;
      byTransport.set(peer.request, [...(byTransport.get(peer.request) ?? []), key]);
    }
    for (const [request, keys] of byTransport) {
      try {
        request(id, keys);
      } catch (err) {
        diag.error('otelkit: could not ask the cluster workers or threads for their metrics', err);
      }
    }
    if (awaited.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiting.delete(check);
        resolve();
      };
      const check = (): void => {
        if (awaited.every((key) => (this.peers.get(key)?.answered ?? id) >= id)) done();
      };
      const timer = setTimeout(done, this.timeoutMs);
      timer.unref();
      this.waiting.add(check);
      check();
    });
  }
}
