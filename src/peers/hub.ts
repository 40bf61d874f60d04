/**
 * The serving side of multi-process and multi-thread aggregation: it knows the
 * peers (cluster workers, worker threads) that run otelkit, asks them for their
 * cumulative metrics when a scrape comes, and merges their answers into its own.
 *
 * A scrape never waits long for a peer: it waits at most `timeoutMs`, and only for
 * the peers that answered the previous request (a stopped or busy peer is waited
 * for once, then not until it answers again); a peer that did not answer in time
 * is merged with its last answer. A peer that leaves (its process or thread ended)
 * leaves its counters and histograms behind, summed into the `retired` totals, so
 * the service's counters never go backwards; its gauges and up-down counters go
 * with it (they describe a live process).
 */
import { diag, type Attributes } from '@opentelemetry/api';
import type { ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { isTotal, MetricsMerger } from './merge.js';

/** How the hub reaches its peers: one per kind (cluster IPC, the threads' BroadcastChannel). */
export type RequestPeers = (requestId: number, peers: readonly string[]) => void;

interface Peer {
  /** The attribute the peer's gauges carry, e.g. `{ worker: '3' }`. */
  label: Attributes;
  last?: ScopeMetrics[];
  /** The id of the last request this peer answered (0: none yet). */
  answered: number;
  request: RequestPeers;
}

export class PeerHub {
  private readonly peers = new Map<string, Peer>();
  private readonly gone = new Set<string>();
  private retired: ScopeMetrics[] = [];
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

  /** A peer said hello; `request` asks it (and the others of its kind) for metrics. */
  join(id: string, label: Attributes, request: RequestPeers): void {
    if (this.gone.has(id) || this.peers.has(id)) return;
    // Joined now: waited for from the next request on, as if it had answered the last one.
    this.peers.set(id, { label, answered: this.lastRequest, request });
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
    if (totals) this.retired = new MetricsMerger().add(this.retired).add(totals, undefined, isTotal).result();
    for (const wake of [...this.waiting]) wake();
  }

  get size(): number {
    return this.peers.size;
  }

  /** `own` with every peer's latest answer and the departed peers' totals merged in. */
  async mergeInto(own: ResourceMetrics): Promise<ResourceMetrics> {
    if (this.held) await this.held;
    if (this.peers.size === 0 && this.retired.length === 0 && !this.ownLabel) return own;
    await this.collect();
    const merger = new MetricsMerger().add(own.scopeMetrics, this.ownLabel).add(this.retired);
    for (const peer of this.peers.values()) if (peer.last) merger.add(peer.last, peer.label);
    const merged = { resource: own.resource, scopeMetrics: merger.result() };
    try {
      this.afterMerge?.(own.scopeMetrics);
    } catch (err) {
      diag.error('otelkit: could not hand the totals over to the other cluster workers', err);
    }
    return merged;
  }

  /**
   * The counters and histograms that would end with this process, as of `own`: its
   * own, its peers' except those asked by `survivors` (they live on), and the departed
   * peers'. The worker that serves next adopts them (elected.ts).
   */
  handover(own: readonly ScopeMetrics[], survivors: RequestPeers): ScopeMetrics[] {
    const merger = new MetricsMerger().add(this.retired).add(own, undefined, isTotal);
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
    this.retired = new MetricsMerger().add(this.retired).add(totals, undefined, isTotal).result();
  }

  private collect(): Promise<void> {
    const previous = this.lastRequest;
    const id = ++this.lastRequest;
    const awaited = [...this.peers].filter(([, p]) => p.answered >= previous).map(([key]) => key);
    if (awaited.length === 0) return Promise.resolve();
    const byKind = new Map<RequestPeers, string[]>();
    for (const key of awaited) {
      const request = this.peers.get(key)!.request;
      byKind.set(request, [...(byKind.get(request) ?? []), key]);
    }
    for (const [request, keys] of byKind) {
      try {
        request(id, keys);
      } catch (err) {
        diag.error('otelkit: could not ask the cluster workers or threads for their metrics', err);
      }
    }
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
