// Metrics covering every instrument type, label escaping case and unit-suffix rule, collected
// by a real MeterProvider: the corpus on which otelkit's Prometheus output must stay
// byte-identical to exporter-prometheus's PrometheusSerializer.
import {
  AggregationType,
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  MeterProvider,
  type MetricData,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const TRICKY_VALUES: Record<string, unknown>[] = [
  {},
  { route: '/users/:id', method: 'GET' },
  { path: 'back\\slash' },
  { path: 'new\nline' },
  { path: 'quo"te' },
  { path: 'all \\ \n " at once\\' },
  { path: '' },
  { 'http.method': 'POST', 'a-b': 1, a__c: true, ünï: 'código', 'x.y.z': 'ok' },
  { list: ['a', 'b"c'], n: -0, big: 1e21 },
];

/**
 * Label names the serializer passes on although Prometheus rejects them (a leading digit; two
 * names that sanitize to one): the bytes must still match, but promtool cannot parse them.
 */
const INVALID_FOR_PROMETHEUS: Record<string, unknown>[] = [{ '9lives': 2.5, 'a-b': 1, a__b: true }];

export async function prometheusCorpus({ parseable = false } = {}): Promise<ResourceMetrics> {
  const reader = new TestReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'corpus', 'weird.attr': 'a"b\\c\nd' }),
    readers: [reader],
    views: [{ instrumentName: 'exp.latency', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const a = provider.getMeter('scope-a', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });
  const b = provider.getMeter('scope-b');

  const requests = a.createCounter('http.requests', { description: 'Requests.\nWith a newline and a \\.' });
  const jobs = a.createCounter('jobs_total', { unit: '{job}' });
  const cpu = a.createCounter('cpu.time', { unit: 's' });
  const depth = a.createUpDownCounter('queue.depth', { unit: '{item}' });
  const notTotal = a.createUpDownCounter('balance_total', { unit: 'By' });
  const temperature = a.createGauge('temperature', { unit: '1' });
  const rate = a.createGauge('9rate-per.sec', { unit: 'By/s' });
  const latency = a.createHistogram('http.latency', { unit: 's' });
  const size = a.createHistogram('body.size', { unit: 'By', advice: { explicitBucketBoundaries: [0, 100, 1000] } });
  const noBuckets = a.createHistogram('plain.histogram', { unit: 'ms', advice: { explicitBucketBoundaries: [] } });
  const exponential = a.createHistogram('exp.latency', { unit: 's' });
  // The same name from two scopes: one family, metadata once.
  const requestsB = b.createCounter('http.requests', { description: 'Requests.\nWith a newline and a \\.' });

  const attributeSets = parseable ? TRICKY_VALUES : [...TRICKY_VALUES, ...INVALID_FOR_PROMETHEUS];
  for (const [i, attrs] of attributeSets.entries()) {
    const attributes = attrs as Record<string, string>;
    requests.add(i + 1, attributes);
    jobs.add(0.5 * i, attributes);
    cpu.add(1 / 3, attributes);
    depth.add(i - 4, attributes);
    notTotal.add(-i, attributes);
    latency.record(i / 7, attributes);
    latency.record(20, attributes);
    size.record(i * 300, attributes);
    noBuckets.record(i, attributes);
    exponential.record(i + 0.5, attributes);
    requestsB.add(2, attributes);
  }
  // A point attribute named le, next to the le the serializer adds (Prometheus rejects that too).
  if (!parseable) latency.record(0.1, { le: 'mine' });
  temperature.record(Infinity, { side: 'hot' });
  temperature.record(-Infinity, { side: 'cold' });
  temperature.record(Number.NaN, { side: 'unknown' });
  temperature.record(0.1 + 0.2, { side: 'float' });
  rate.record(12345678901234, {});

  const observed = a.createObservableCounter('process.cpu.seconds', { unit: 's' });
  observed.addCallback((r) => {
    r.observe(1.5, { 'cpu.mode': 'user' });
    r.observe(0.25, { 'cpu.mode': 'system' });
  });
  const observedGauge = b.createObservableGauge('heap.used', { unit: 'By', description: '' });
  observedGauge.addCallback((r) => r.observe(1024 * 1024, { space: 'new "space"' }));
  const observedUpDown = b.createObservableUpDownCounter('active.handles');
  observedUpDown.addCallback((r) => r.observe(3));

  const { resourceMetrics } = await reader.collect();
  await resourceMetrics.resource.waitForAsyncAttributes?.();
  await provider.shutdown();
  // The SDK drops an Infinity bucket boundary; other producers (otelkit's own histograms among
  // them) may hand one over, with a count for it and one more after it.
  const template = resourceMetrics.scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === 'body.size')!;
  const point = template.dataPoints[0] as DataPoint<Histogram>;
  resourceMetrics.scopeMetrics[0]!.metrics.push({
    ...template,
    descriptor: { ...template.descriptor, name: 'infinite.bounds' },
    dataPoints: [{ ...point, value: { ...point.value, buckets: { boundaries: [1, Infinity], counts: [1, 2, 3] } } }],
  } as MetricData);
  return resourceMetrics;
}
