// The merge rules and the hub's waiting rules, in process with hand-made metrics.
import { ValueType } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type MetricData,
  type ResourceMetrics,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it, vi } from 'vitest';
import { PeerHub } from '../../src/peers/hub.js';
import { MetricsMerger } from '../../src/peers/merge.js';

const T = [1, 0] as [number, number];
const descriptor = (name: string) => ({ name, description: '', unit: '', valueType: ValueType.DOUBLE });

function counter(name: string, value: number, monotonic = true): MetricData {
  return {
    descriptor: descriptor(name),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: monotonic,
    dataPoints: [{ startTime: T, endTime: T, attributes: { k: 'v' }, value }],
  };
}
function gauge(name: string, value: number): MetricData {
  return {
    descriptor: descriptor(name),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: [{ startTime: T, endTime: T, attributes: {}, value }],
  };
}
function histogram(name: string, boundaries: number[], counts: number[]): MetricData {
  const count = counts.reduce((a, b) => a + b, 0);
  return {
    descriptor: descriptor(name),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: [
      { startTime: T, endTime: T, attributes: {}, value: { buckets: { boundaries, counts }, count, sum: count } },
    ],
  };
}
const scope = (...metrics: MetricData[]): ScopeMetrics[] => [{ scope: { name: 's' }, metrics }];
const own = (...metrics: MetricData[]): ResourceMetrics => ({
  resource: emptyResource(),
  scopeMetrics: scope(...metrics),
});

function points(merged: ScopeMetrics[], name: string) {
  const metric = merged.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  return (metric?.dataPoints ?? []).map((p) => ({ attributes: p.attributes, value: p.value }));
}

describe('MetricsMerger', () => {
  it('sums counters, up-down counters and same-bucket histograms; gauges one per peer; inputs untouched', () => {
    const a = scope(counter('c', 2), counter('u', 5, false), gauge('g', 7), histogram('h', [1, 2], [1, 2, 3]));
    const b = scope(counter('c', 3), counter('u', -1, false), gauge('g', 9), histogram('h', [1, 2], [4, 0, 1]));
    const merged = new MetricsMerger().add(a).add(b, { worker: '2' }).add(b, { worker: '3' }).result();
    expect(points(merged, 'c')).toEqual([{ attributes: { k: 'v' }, value: 8 }]);
    expect(points(merged, 'u')).toEqual([{ attributes: { k: 'v' }, value: 3 }]);
    expect(points(merged, 'g')).toEqual([
      { attributes: {}, value: 7 },
      { attributes: { worker: '2' }, value: 9 },
      { attributes: { worker: '3' }, value: 9 },
    ]);
    const [h] = points(merged, 'h');
    expect(h!.value).toMatchObject({ buckets: { counts: [9, 2, 5] }, count: 16, sum: 16 });
    // the answers are kept and merged again at the next scrape: never modified
    expect((b[0]!.metrics[3]!.dataPoints[0]!.value as { count: number }).count).toBe(5);
    expect(b[0]!.metrics[0]!.dataPoints[0]!.value).toBe(3);
  });

  it('a histogram with other boundaries is kept apart, with the peer label, not summed into wrong buckets', () => {
    const merged = new MetricsMerger()
      .add(scope(histogram('h', [1, 2], [1, 1, 1])))
      .add(scope(histogram('h', [5], [2, 2])), { worker: '4' })
      .result();
    expect(points(merged, 'h').map((p) => [p.attributes, (p.value as { count: number }).count])).toEqual([
      [{}, 3],
      [{ worker: '4' }, 4],
    ]);
  });
});

describe('PeerHub', () => {
  it('merges every answer; a peer that does not answer is not waited for until it catches up, its last answer is used', async () => {
    // Fake timers: a scrape that waited for a silent peer would only end when the test advances them.
    vi.useFakeTimers();
    try {
      const hub = new PeerHub(50);
      const asked: string[] = [];
      let lastId = 0;
      const answers: Record<string, number> = { a: 1, b: 10 };
      const silent = new Set<string>();
      const request = (id: number, peers: readonly string[]) => {
        lastId = id;
        asked.push(...peers);
        for (const peer of peers)
          if (!silent.has(peer)) queueMicrotask(() => hub.answer(peer, id, scope(counter('c', answers[peer]!))));
      };
      const scrape = async () => points((await hub.mergeInto(own(counter('c', 100)))).scopeMetrics, 'c')[0]!.value;
      hub.join('a', { worker: 'a' }, request);
      hub.join('b', { worker: 'b' }, request);
      expect(await scrape()).toBe(111);

      // b stops answering: the scrape ends at the timeout, with b's last answer
      silent.add('b');
      answers.a = 2;
      answers.b = 20;
      const waited = scrape();
      await vi.advanceTimersByTimeAsync(50);
      expect(await waited).toBe(112);

      // the next scrape asks b again but does not wait for it (no timer advanced); b's last answer counts
      hub.join('c', { worker: 'c' }, request);
      answers.c = 1000;
      asked.length = 0;
      expect(await scrape()).toBe(1112);
      expect(asked.sort()).toEqual(['a', 'b', 'c']);

      // b catches up, answering the newest request late; from then on it is waited for again
      hub.answer('b', lastId, scope(counter('c', 30)));
      silent.delete('b');
      answers.b = 40;
      expect(await scrape()).toBe(1142);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a peer that leaves: counters and histograms stay in the totals, gauges and up-down counters go', async () => {
    const hub = new PeerHub(50);
    const request = (id: number) =>
      queueMicrotask(() => hub.answer('w', id, scope(counter('c', 5), counter('u', 3, false), gauge('g', 1))));
    hub.join('w', { worker: '1' }, request);
    await hub.mergeInto(own());
    hub.leave('w', scope(counter('c', 6), counter('u', 3, false), gauge('g', 1)));
    hub.leave('w', scope(counter('c', 600))); // a second goodbye (exit after bye) is ignored
    hub.answer('w', 99, scope(counter('c', 1000))); // and so is a late answer
    const merged = (await hub.mergeInto(own(counter('c', 1)))).scopeMetrics;
    expect(points(merged, 'c')[0]!.value).toBe(7);
    expect(points(merged, 'u')).toEqual([]);
    expect(points(merged, 'g')).toEqual([]);
  });

  it('an elected server: its gauges labelled; it hands over what ends with it; its successor adopts it', async () => {
    const server = new PeerHub(50);
    server.ownLabel = { worker: '1' };
    const members = (id: number, peers: readonly string[]) =>
      queueMicrotask(() => {
        for (const peer of peers) server.answer(peer, id, scope(counter('c', 10), gauge('g', 2)));
      });
    const threads = (id: number) => queueMicrotask(() => server.answer('t', id, scope(counter('c', 100))));
    server.join('m', { worker: '2' }, members);
    server.join('t', { 'thread.id': 1 }, threads);
    let handedOver: ScopeMetrics[] = [];
    server.afterMerge = (ownMetrics) => {
      handedOver = server.handover(ownMetrics, members);
    };
    const merged = (await server.mergeInto(own(counter('c', 1), gauge('g', 1)))).scopeMetrics;
    expect(points(merged, 'c')[0]!.value).toBe(111);
    expect(points(merged, 'g').map((p) => p.attributes.worker)).toEqual(['1', '2']);
    // what dies with the server: its own and its thread's counters, not the member's (it lives on), no gauges
    expect(points(handedOver, 'c')[0]!.value).toBe(101);
    expect(points(handedOver, 'g')).toEqual([]);

    // the member serves next: it adopts the handover; its own counter goes on from where it was
    const next = new PeerHub(50);
    next.ownLabel = { worker: '2' };
    next.adopt(handedOver);
    expect(points((await next.mergeInto(own(counter('c', 10)))).scopeMetrics, 'c')[0]!.value).toBe(111);
  });

  it("an elected server's own threads: their gauges carry its worker label too, as a member's threads do", async () => {
    const server = new PeerHub(50);
    server.ownLabel = { worker: '1' };
    server.join(
      't',
      { 'thread.id': 3 },
      (id) => queueMicrotask(() => server.answer('t', id, scope(gauge('g', 5)))),
      'thread',
    );
    const merged = (await server.mergeInto(own(gauge('g', 1)))).scopeMetrics;
    expect(points(merged, 'g').map((p) => p.attributes)).toEqual([{ worker: '1' }, { worker: '1', 'thread.id': 3 }]);
    // a push export merges the threads only: no worker label there
    const pushed = (await server.mergeInto(own(gauge('g', 1)), ['thread'])).scopeMetrics;
    expect(points(pushed, 'g').map((p) => p.attributes)).toEqual([{}, { 'thread.id': 3 }]);
  });

  it('a held hub: a scrape waits until the hold settles', async () => {
    const hub = new PeerHub(50);
    let release = () => {};
    hub.hold(new Promise<void>((resolve) => (release = resolve)));
    let done = false;
    const scrape = hub.mergeInto(own(counter('c', 1))).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    release();
    await scrape;
    expect(done).toBe(true);
  });
});
