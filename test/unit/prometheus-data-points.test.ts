import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { describe, expect, it } from 'vitest';
import { withFastDataPoints } from '../../src/exporters/prometheus-data-points.js';
import { withUnitSuffixes } from '../../src/exporters/unit-suffix.js';
import { prometheusCorpus } from '../helpers/prometheus-corpus.js';

type Options = ConstructorParameters<typeof PrometheusSerializer>;

describe('withFastDataPoints: the same bytes as PrometheusSerializer', () => {
  it.each<[string, Options, boolean]>([
    ['defaults', [undefined, false, undefined, false, false], false],
    ['defaults, unit suffixes', [undefined, false, undefined, false, false], true],
    ['prefix', ['app', false, undefined, false, false], true],
    ['no scope labels', [undefined, false, undefined, false, true], true],
    ['no scope labels, prefix, no unit suffixes', ['my_app', false, undefined, false, true], false],
  ])('%s', async (_name, options, unitSuffixes) => {
    const corpus = await prometheusCorpus();
    const metrics = unitSuffixes ? withUnitSuffixes(corpus) : corpus;
    const expected = new PrometheusSerializer(...options).serialize(metrics);
    const fast = withFastDataPoints(new PrometheusSerializer(...options));
    // Twice: the label caches must not change the second scrape.
    expect(fast.serialize(metrics)).toBe(expected);
    expect(fast.serialize(metrics)).toBe(expected);
    // The corpus reaches every branch it is meant to cover.
    expect(expected).toContain('quo\\"te');
    expect(expected).toContain('new\\nline');
    expect(expected).toContain('back\\\\slash');
    expect(expected).toContain('le="mine"');
    expect(expected).toContain('le="+Inf"');
    expect(expected).toMatch(/infinite_bounds(_bytes)?_bucket\{.*le="\+Inf"\} 3\n(?!infinite_bounds(_bytes)?_bucket)/);
    expect(expected).toContain('+Inf\n');
    expect(expected).toContain('-Inf\n');
    expect(expected).toContain(' NaN\n');
  });

  it('leaves a serializer with timestamps as it is', () => {
    const serializer = new PrometheusSerializer(undefined, true);
    const before = (serializer as unknown as { _serializeSingularDataPoint: unknown })._serializeSingularDataPoint;
    withFastDataPoints(serializer);
    expect((serializer as unknown as { _serializeSingularDataPoint: unknown })._serializeSingularDataPoint).toBe(
      before,
    );
  });
});
