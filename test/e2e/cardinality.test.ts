// The cardinality limit across collections (src/exporters/cumulative.ts): with
// cumulative export the SDK would merge every cycle's attribute sets into the
// reported history without a cap; otelkit lets the SDK aggregate synchronous
// instruments in delta and cumulates with the spec's cap. Checked through real
// scrapes and a real OTLP receiver (cumulative preference) at the same time.
import { metrics, type Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  AggregationType,
  DataPointType,
  InstrumentType,
  MeterProvider,
  MetricReader,
  type ExponentialHistogram,
  type ExponentialHistogramMetricData,
  type MetricReaderOptions,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CumulativeState, Cumulation, addExponential } from '../../src/exporters/cumulative.js';
import { instrumentCircuitBreaker, type OtelkitHandle } from '../../index.js';
import { registerBothExporters } from '../helpers/both-exporters.js';
import { pointsMatching, type MetricRecord, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { findSamples, parsePrometheus, sampleValue, scrape, type Sample } from '../helpers/prom-text.js';

const LIMIT = 5;
const OVERFLOW = { otel_metric_overflow: 'true' };
let otel: OtelkitHandle;
let receiver: OtlpReceiver;
let url: string;

beforeAll(async () => {
  ({ otel, receiver, url } = await registerBothExporters('cumulative', {
    cardinalityLimit: LIMIT,
    // A view: its storage is shared by both readers (MeterSharedState), unlike the others.
    histogramBuckets: { 'viewed.latency': [1, 2, 3], 'viewed.burst': [1, 2, 3] },
    serviceName: 'cardinality-test',
  }));
});
afterAll(async () => {
  await otel.shutdown();
  await receiver.close();
});

const meter = () => metrics.getMeter('cardinality-test', '1.0.0');

/** One Prometheus scrape and one OTLP export (cumulative), in that order. */
async function collect(): Promise<{ prom: Sample[]; otlp: (name: string) => MetricRecord }> {
  const prom = parsePrometheus(await scrape(url));
  const before = receiver.requests.length;
  await otel.forceFlush();
  expect(receiver.requests.length).toBeGreaterThan(before);
  const last = receiver.requests.at(-1)!;
  return {
    prom,
    otlp: (name) => {
      const found = last.metrics.filter((m) => m.name === name);
      expect(found, `${name} in the last OTLP export`).toHaveLength(1);
      return found[0]!;
    },
  };
}

const isOverflow = (labels: Record<string, unknown>) =>
  labels.otel_metric_overflow === 'true' || labels['otel.metric.overflow'] === true;

describe('the cardinality limit holds across collections', () => {
  it('counter, 4 new attribute sets per collection: max 5 series, first 4 keep counting, rest overflow', async () => {
    const counter = meter().createCounter('tenant.hits');
    let adds = 0;
    let startTimes: number[] | undefined;
    for (let round = 0; round < 4; round++) {
      // New attribute sets first: the SDK fills its per-cycle storage in arrival
      // order, and the known ones must still not land in the overflow point.
      for (let i = 0; i < 4; i++) {
        counter.add(1, { tenant: `t${4 * round + i}` });
        adds++;
      }
      if (round > 0) {
        for (let i = 0; i < 4; i++) {
          counter.add(1, { tenant: `t${i}` });
          adds++;
        }
      }
      const { prom, otlp } = await collect();

      const samples = findSamples(prom, 'tenant_hits_total');
      expect(samples.length).toBeLessThanOrEqual(LIMIT);
      for (let i = 0; i < 4; i++) expect(sampleValue(prom, 'tenant_hits_total', { tenant: `t${i}` })).toBe(round + 1);
      const overflow = round === 0 ? 0 : sampleValue(prom, 'tenant_hits_total', OVERFLOW);
      expect(overflow).toBe(4 * round);
      expect(samples.reduce((s, x) => s + x.value, 0)).toBe(adds);

      const record = otlp('tenant.hits');
      expect(record).toMatchObject({ type: 'sum', isMonotonic: true, temporality: 'cumulative' });
      expect(record.points.length).toBeLessThanOrEqual(LIMIT);
      for (let i = 0; i < 4; i++) expect(pointsMatching(record, { tenant: `t${i}` })[0]!.value).toBe(round + 1);
      expect(record.points.reduce((s, p) => s + p.value!, 0)).toBe(adds);
      if (round > 0) expect(record.points.filter((p) => isOverflow(p.attributes))).toHaveLength(1);
      // Start times stay put (a cumulative series that never resets).
      const starts = [0, 1, 2, 3].map((i) => pointsMatching(record, { tenant: `t${i}` })[0]!.startTimeUnixNano);
      if (startTimes) expect(starts).toEqual(startTimes);
      startTimes = starts;
    }
  });

  it('a histogram: same bound, counts and sums add up, per series and in total', async () => {
    const histogram = meter().createHistogram('job.duration', { unit: 's' });
    let records = 0;
    let total = 0;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 4; i++) {
        histogram.record(0.2, { job: `j${4 * round + i}` });
        records++;
        total += 0.2;
      }
      if (round > 0) {
        for (let i = 0; i < 4; i++) {
          histogram.record(2, { job: `j${i}` });
          records++;
          total += 2;
        }
      }
      const { prom, otlp } = await collect();
      const counts = findSamples(prom, 'job_duration_seconds_count');
      expect(counts.length).toBeLessThanOrEqual(LIMIT);
      expect(counts.reduce((s, x) => s + x.value, 0)).toBe(records);
      expect(findSamples(prom, 'job_duration_seconds_sum').reduce((s, x) => s + x.value, 0)).toBeCloseTo(total, 9);
      for (let i = 0; i < 4; i++) {
        expect(sampleValue(prom, 'job_duration_seconds_count', { job: `j${i}` })).toBe(round + 1);
        expect(sampleValue(prom, 'job_duration_seconds_sum', { job: `j${i}` })).toBeCloseTo(0.2 + 2 * round, 9);
        expect(sampleValue(prom, 'job_duration_seconds_bucket', { job: `j${i}`, le: '0.25' })).toBe(1);
        expect(sampleValue(prom, 'job_duration_seconds_bucket', { job: `j${i}`, le: '+Inf' })).toBe(round + 1);
      }
      if (round > 0) expect(sampleValue(prom, 'job_duration_seconds_count', OVERFLOW)).toBe(4 * round);

      const record = otlp('job.duration');
      expect(record).toMatchObject({ type: 'histogram', temporality: 'cumulative' });
      expect(record.points.length).toBeLessThanOrEqual(LIMIT);
      expect(record.points.reduce((s, p) => s + p.count!, 0)).toBe(records);
      const first = pointsMatching(record, { job: 'j0' })[0]!;
      expect(first).toMatchObject({ count: round + 1, min: 0.2, max: round ? 2 : 0.2 });
      expect(first.bucketCounts!.reduce((a, b) => a + b, 0)).toBe(round + 1);
    }
  });

  it('a histogram with a view (one storage shared by both readers): both see every measurement, capped', async () => {
    const histogram = meter().createHistogram('viewed.latency', { unit: 's' });
    let records = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) {
        histogram.record(2.5, { route: `r${4 * round + i}` });
        records++;
      }
      const { prom, otlp } = await collect();
      const counts = findSamples(prom, 'viewed_latency_seconds_count');
      expect(counts.length).toBeLessThanOrEqual(LIMIT);
      expect(counts.reduce((s, x) => s + x.value, 0)).toBe(records);
      expect(findSamples(prom, 'viewed_latency_seconds_bucket', { route: 'r0' }).map((s) => s.labels.le)).toEqual([
        '1',
        '2',
        '3',
        '+Inf',
      ]);
      const record = otlp('viewed.latency');
      expect(record.points.length).toBeLessThanOrEqual(LIMIT);
      expect(record.points.reduce((s, p) => s + p.count!, 0)).toBe(records);
    }
  });

  // The SDK fills its per-cycle storage in arrival order: with only the bare limit
  // there, a burst of new attribute sets would push a known one into the SDK's
  // overflow point before otelkit's cumulation sees it. A view carries its own limit
  // (its storage is not the reader's), so it must get the same headroom.
  for (const [kind, name, promName] of [
    ['a histogram without a view', 'plain.burst', 'plain_burst_seconds'],
    ['a view-configured histogram (histogramBuckets)', 'viewed.burst', 'viewed_burst_seconds'],
  ] as const) {
    it(`${kind}: known attribute sets keep their series through ${LIMIT} new ones in one interval`, async () => {
      const histogram = meter().createHistogram(name, { unit: 's' });
      for (let i = 0; i < LIMIT - 1; i++) histogram.record(0.5, { key: `k${i}` });
      await collect();
      // One interval: LIMIT new attribute sets first, then the known ones again.
      for (let i = 0; i < LIMIT; i++) histogram.record(0.5, { key: `new${i}` });
      for (let i = 0; i < LIMIT - 1; i++) histogram.record(0.5, { key: `k${i}` });
      const { prom, otlp } = await collect();
      for (let i = 0; i < LIMIT - 1; i++)
        expect(sampleValue(prom, `${promName}_count`, { key: `k${i}` }), `k${i}`).toBe(2);
      expect(sampleValue(prom, `${promName}_count`, OVERFLOW)).toBe(LIMIT);
      expect(findSamples(prom, `${promName}_count`)).toHaveLength(LIMIT);
      const record = otlp(name);
      for (let i = 0; i < LIMIT - 1; i++) expect(pointsMatching(record, { key: `k${i}` })[0]!.count, `k${i}`).toBe(2);
      expect(record.points.filter((p) => isOverflow(p.attributes)).map((p) => p.count)).toEqual([LIMIT]);
    });
  }

  it('an up-down counter adds its deltas back up, past the limit too', async () => {
    const queue = meter().createUpDownCounter('queue.depth');
    const expected = new Map<string, number>();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 6; i++) {
        const q = `q${i}`;
        const delta = i % 2 ? -1 : 2;
        queue.add(delta, { q });
        expected.set(q, (expected.get(q) ?? 0) + delta);
      }
      const { prom, otlp } = await collect();
      for (let i = 0; i < 4; i++) expect(sampleValue(prom, 'queue_depth', { q: `q${i}` })).toBe(expected.get(`q${i}`));
      // q4 and q5 are past the limit: their sum is in the overflow series.
      expect(sampleValue(prom, 'queue_depth', OVERFLOW)).toBe(expected.get('q4')! + expected.get('q5')!);
      const record = otlp('queue.depth');
      expect(record).toMatchObject({ isMonotonic: false, temporality: 'cumulative' });
      expect(pointsMatching(record, { q: 'q1' })[0]!.value).toBe(expected.get('q1'));
    }
  });

  it('a synchronous gauge keeps the last value of every attribute set it reports', async () => {
    const gauge = meter().createGauge('pool.size');
    gauge.record(3, { pool: 'a' });
    gauge.record(4, { pool: 'b' });
    let { prom } = await collect();
    expect(sampleValue(prom, 'pool_size', { pool: 'a' })).toBe(3);
    gauge.record(7, { pool: 'a' });
    const next = await collect();
    prom = next.prom;
    expect(sampleValue(prom, 'pool_size', { pool: 'a' })).toBe(7);
    expect(sampleValue(prom, 'pool_size', { pool: 'b' })).toBe(4);
    expect(pointsMatching(next.otlp('pool.size'), { pool: 'a' })[0]!.value).toBe(7);
  });

  it('observable counter, up-down counter and gauge read their cumulative values', async () => {
    let ticks = 0;
    meter()
      .createObservableCounter('ticks')
      .addCallback((r) => r.observe(ticks, { src: 'x' }));
    meter()
      .createObservableUpDownCounter('inflight')
      .addCallback((r) => r.observe(10 - ticks, { src: 'x' }));
    meter()
      .createObservableGauge('temperature')
      .addCallback((r) => r.observe(20 + ticks, { src: 'x' }));
    for (let round = 1; round <= 3; round++) {
      ticks = round * 5;
      const { prom, otlp } = await collect();
      expect(sampleValue(prom, 'ticks_total', { src: 'x' })).toBe(ticks);
      expect(sampleValue(prom, 'inflight', { src: 'x' })).toBe(10 - ticks);
      expect(sampleValue(prom, 'temperature', { src: 'x' })).toBe(20 + ticks);
      expect(pointsMatching(otlp('ticks'), { src: 'x' })[0]).toMatchObject({ value: ticks });
      expect(otlp('ticks').temporality).toBe('cumulative');
      expect(pointsMatching(otlp('inflight'), { src: 'x' })[0]).toMatchObject({ value: 10 - ticks });
      expect(pointsMatching(otlp('temperature'), { src: 'x' })[0]).toMatchObject({ value: 20 + ticks });
    }
  });

  it('an observable counter past the limit stays bounded (the SDK caps it) and exact for the known sets', async () => {
    let round = 0;
    meter()
      .createObservableCounter('async.hits')
      .addCallback((r) => {
        for (let i = 0; i < 4 * (round + 1); i++) r.observe(10 * (round + 1), { k: `k${i}` });
      });
    for (; round < 3; round++) {
      const { prom, otlp } = await collect();
      expect(findSamples(prom, 'async_hits_total').length).toBeLessThanOrEqual(LIMIT);
      expect(sampleValue(prom, 'async_hits_total', { k: 'k0' })).toBe(10 * (round + 1));
      expect(otlp('async.hits').points.length).toBeLessThanOrEqual(LIMIT);
    }
  });

  it("otelkit's own duration histograms (instrumentation producer) are not double counted, keep min/max", async () => {
    const breaker = instrumentCircuitBreaker({}, { name: 'card' });
    for (let round = 1; round <= 3; round++) {
      breaker.recordCall('success', 0.3);
      const { prom, otlp } = await collect();
      expect(sampleValue(prom, 'circuit_breaker_call_duration_seconds_count', { circuit_breaker_name: 'card' })).toBe(
        round,
      );
      expect(
        sampleValue(prom, 'circuit_breaker_call_duration_seconds_sum', { circuit_breaker_name: 'card' }),
      ).toBeCloseTo(0.3 * round, 9);
      const point = pointsMatching(otlp('circuit_breaker.call.duration'), { 'circuit_breaker.name': 'card' })[0]!;
      expect(point).toMatchObject({ count: round, min: 0.3, max: 0.3 });
    }
  });

  it('an OTLP export the receiver rejects loses nothing: the next cumulative export carries it', async () => {
    const counter = meter().createCounter('rejected.hits');
    counter.add(2, { a: '1' });
    receiver.respond = () => ({ httpStatus: 400, message: 'rejected for the test' });
    await otel.forceFlush();
    receiver.respond = undefined;
    counter.add(3, { a: '1' });
    const { prom, otlp } = await collect();
    expect(pointsMatching(otlp('rejected.hits'), { a: '1' })[0]!.value).toBe(5);
    expect(sampleValue(prom, 'rejected_hits_total', { a: '1' })).toBe(5);
  });

  it('concurrent scrapes neither lose nor double count', async () => {
    const counter = meter().createCounter('concurrent.hits');
    counter.add(1, { a: '1' });
    const texts = await Promise.all([scrape(url), scrape(url), scrape(url)]);
    for (const text of texts) expect(sampleValue(text, 'concurrent_hits_total', { a: '1' })).toBe(1);
    counter.add(2, { a: '1' });
    expect(sampleValue(await scrape(url), 'concurrent_hits_total', { a: '1' })).toBe(3);
  });
});

// ---------------------------------------------------------------------------
// CumulativeState on its own.

class TestReader extends MetricReader {
  constructor(options?: MetricReaderOptions) {
    super(options);
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

function exponential(rm: ResourceMetrics, name: string): ExponentialHistogramMetricData | undefined {
  return rm.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name) as
    | ExponentialHistogramMetricData
    | undefined;
}

describe('CumulativeState', () => {
  it('exponential histograms (per-cycle scales and bucket ranges) cumulate exactly as the SDK cumulates', async () => {
    const aggregationSelector = (type: InstrumentType) =>
      type === InstrumentType.HISTOGRAM
        ? { type: AggregationType.EXPONENTIAL_HISTOGRAM }
        : { type: AggregationType.DEFAULT };
    const cumulative = new TestReader({ aggregationSelector });
    const delta = new TestReader({
      aggregationSelector,
      aggregationTemporalitySelector: () => AggregationTemporality.DELTA,
    });
    const provider = new MeterProvider({ readers: [cumulative, delta] });
    const h = provider.getMeter('m').createHistogram('x');
    const state = new CumulativeState(LIMIT);
    const rounds: number[][] = [
      [1, 1.1, 1.5, 1.9], // narrow: a fine scale
      [0.001, 3, 1000, 1e6], // wide: must downscale
      [0, 7, 7.5], // a zero
      [1e-9, 1e9], // wider still
      [1.2, 1.3],
    ];
    for (const values of rounds) {
      for (const v of values) h.record(v, { a: 'b' });
      const expected = exponential((await cumulative.collect()).resourceMetrics, 'x')!;
      const deltaResult = (await delta.collect()).resourceMetrics;
      expect(exponential(deltaResult, 'x')!.aggregationTemporality).toBe(AggregationTemporality.DELTA);
      const got = exponential(state.cumulate(deltaResult), 'x')!;
      expect(got.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
      expect(got.dataPointType).toBe(DataPointType.EXPONENTIAL_HISTOGRAM);
      const want = expected.dataPoints[0]!.value;
      const have = got.dataPoints[0]!.value;
      expect({ ...have, sum: undefined }).toEqual({ ...want, sum: undefined });
      expect(have.sum).toBeCloseTo(want.sum!, 6);
      expect(got.dataPoints[0]!.startTime).toEqual(expected.dataPoints[0]!.startTime);
    }
    await provider.shutdown();
  });

  it("an exponential histogram with only zeros does not drag the other's scale down", () => {
    const zeros: ExponentialHistogram = {
      count: 2,
      sum: 0,
      scale: 0,
      zeroCount: 2,
      positive: { offset: 0, bucketCounts: [] },
      negative: { offset: 0, bucketCounts: [] },
      min: 0,
      max: 0,
    };
    const fine: ExponentialHistogram = {
      count: 1,
      sum: 1.5,
      scale: 20,
      zeroCount: 0,
      positive: { offset: 613_566, bucketCounts: [1] },
      negative: { offset: 0, bucketCounts: [] },
      min: 1.5,
      max: 1.5,
    };
    expect(addExponential(zeros, fine)).toMatchObject({
      count: 3,
      scale: 20,
      zeroCount: 2,
      positive: { offset: 613_566, bucketCounts: [1] },
      min: 0,
      max: 1.5,
    });
  });

  it('reports every stream at every collection, as of that collection, even with nothing new', () => {
    const state = new CumulativeState(LIMIT);
    const resource = {} as ResourceMetrics['resource'];
    const sum = (value: number, attributes: Attributes, end: number): ResourceMetrics => ({
      resource,
      scopeMetrics: [
        {
          scope: { name: 's' },
          metrics: [
            {
              descriptor: { name: 'c', description: '', unit: '', valueType: 1 },
              aggregationTemporality: AggregationTemporality.DELTA,
              dataPointType: DataPointType.SUM,
              isMonotonic: true,
              dataPoints: [{ startTime: [end - 1, 0], endTime: [end, 0], attributes, value }],
            },
          ],
        },
      ],
    });
    state.cumulate(sum(2, { a: 1 }, 10));
    const quiet = state.cumulate({ resource, scopeMetrics: [] });
    const point = quiet.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!;
    expect(point.value).toBe(2);
    expect(point.startTime).toEqual([9, 0]);
    expect(point.endTime[0]).toBeGreaterThanOrEqual(10);
    // Output objects are snapshots: a later collection does not change them.
    state.cumulate(sum(5, { a: 1 }, 20));
    expect(point.value).toBe(2);
  });

  it('SDK per-cycle cap leaves headroom; async instruments keep the bare limit and cumulative temporality', () => {
    const c = new Cumulation(() => AggregationTemporality.CUMULATIVE, 5);
    expect(c.sdkTemporality(InstrumentType.COUNTER)).toBe(AggregationTemporality.DELTA);
    expect(c.sdkTemporality(InstrumentType.OBSERVABLE_COUNTER)).toBe(AggregationTemporality.CUMULATIVE);
    expect(c.sdkCardinalityLimit(InstrumentType.HISTOGRAM)).toBe(10);
    expect(c.sdkCardinalityLimit(InstrumentType.OBSERVABLE_GAUGE)).toBe(5);
    // A delta preference: only the up-down counter (cumulative under it) is converted.
    const delta = new Cumulation(
      (t) =>
        t === InstrumentType.UP_DOWN_COUNTER || t === InstrumentType.OBSERVABLE_UP_DOWN_COUNTER
          ? AggregationTemporality.CUMULATIVE
          : AggregationTemporality.DELTA,
      5,
    );
    expect(delta.sdkTemporality(InstrumentType.COUNTER)).toBe(AggregationTemporality.DELTA);
    expect(delta.sdkCardinalityLimit(InstrumentType.COUNTER)).toBe(5);
    expect(delta.sdkTemporality(InstrumentType.UP_DOWN_COUNTER)).toBe(AggregationTemporality.DELTA);
    expect(delta.sdkCardinalityLimit(InstrumentType.UP_DOWN_COUNTER)).toBe(10);
  });
});
