/**
 * worker_threads aggregation over one BroadcastChannel per process.
 *
 * A thread's otelkit never serves or exports: it says hello on the channel, answers
 * the main thread's collection requests with its cumulative metrics, and posts its
 * final totals when it exits. The main thread's otelkit (with Prometheus) listens on
 * the same channel and merges the answers into its scrape. Both ends are unref'd:
 * the channel keeps neither thread alive. otelkit's own OTLP export thread starts
 * without the app's preload and never calls register(), so it is not a peer.
 */
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';
import type { ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { DefaultInstrumentationName } from '../config/types.js';
import type { PeerHub, RequestPeers } from './hub.js';

const CHANNEL = 'otelkit.peers';
export const THREAD_HUB_ENV = 'OTELKIT_THREAD_HUB';

/**
 * True in a worker thread whose main thread runs otelkit with a scrape to join: that
 * otelkit put the process's pid in the environment, which a Worker copies when it is
 * created. Any other thread (a main thread without otelkit, a Worker given an env of
 * its own) runs otelkit on its own, as a process would.
 */
export function isThreadMember(): boolean {
  return !isMainThread && process.env[THREAD_HUB_ENV] === String(process.pid);
}

type ThreadMessage =
  | { op: 'hello'; thread: number }
  | { op: 'collect'; id: number }
  | { op: 'metrics'; thread: number; id: number; metrics: ScopeMetrics[] }
  | { op: 'bye'; thread: number; metrics?: ScopeMetrics[] };

function open(): BroadcastChannel {
  const channel = new BroadcastChannel(CHANNEL);
  (channel as unknown as { unref(): void }).unref();
  return channel;
}

/** In the main thread: threads that run otelkit join `hub`. */
export function serveThreads(hub: PeerHub): void {
  if (!isMainThread) return;
  process.env[THREAD_HUB_ENV] = String(process.pid);
  const channel = open();
  const request: RequestPeers = (id) => channel.postMessage({ op: 'collect', id } satisfies ThreadMessage);
  channel.onmessage = (event) => {
    const message = (event as { data: ThreadMessage }).data;
    if (!message || typeof message !== 'object' || !('thread' in message)) return;
    const key = String(message.thread);
    if (message.op === 'hello') hub.join(key, { 'thread.id': message.thread }, request, 'thread');
    else if (message.op === 'metrics') hub.answer(key, message.id, message.metrics);
    else if (message.op === 'bye') hub.leave(key, message.metrics);
  };
}

/** In a worker thread: says hello, answers the main thread, posts its final totals at exit. */
export function answerMainThread(
  collect: () => Promise<ScopeMetrics[]>,
  collectNow: () => ScopeMetrics[] | undefined,
): void {
  const channel = open();
  const post = (message: ThreadMessage): void => {
    try {
      channel.postMessage(message);
    } catch {
      // closed or not cloneable: the main thread keeps this thread's last answer
    }
  };
  channel.onmessage = (event) => {
    const message = (event as { data: ThreadMessage }).data;
    if (message?.op !== 'collect') return;
    collect().then(
      (metrics) => post({ op: 'metrics', thread: threadId, id: message.id, metrics }),
      () => {}, // the main thread uses this thread's last answer
    );
  };
  process.on('exit', () => {
    // An exit listener that throws would change how the thread ends.
    let metrics: ScopeMetrics[] | undefined;
    try {
      metrics = collectNow();
    } catch {
      // the main thread keeps this thread's last answer
    }
    post({ op: 'bye', thread: threadId, metrics });
  });
  post({ op: 'hello', thread: threadId });
}

/**
 * What a thread starts of the configured instrumentations: the runtime-process group
 * reads process-wide values (CPU time, RSS, uptime) that the main thread reports
 * already; summed over threads they would count the process several times.
 */
export function threadInstrumentations(names: readonly DefaultInstrumentationName[]): DefaultInstrumentationName[] {
  const expanded = names.flatMap((name) =>
    name === 'runtime' ? (['runtime-eventloop', 'runtime-gc', 'runtime-heap'] as const) : [name],
  );
  return expanded.filter((name) => name !== 'runtime-process');
}
