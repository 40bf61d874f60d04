// promtool parses otelkit's faster data-point lines on the whole byte-identity corpus
// (test/unit/prometheus-data-points.test.ts compares the bytes with the serializer's).
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { describe, expect, it } from 'vitest';
import { withFastDataPoints } from '../../src/exporters/prometheus-data-points.js';
import { withUnitSuffixes } from '../../src/exporters/unit-suffix.js';
import { prometheusCorpus } from '../helpers/prometheus-corpus.js';
import { hasPromtool, promtoolCheckMetrics } from '../helpers/prometheus.js';

describe.skipIf(!hasPromtool())('the faster data-point lines under promtool', () => {
  it('parses the corpus (lint remarks about the corpus names aside)', async () => {
    const text = withFastDataPoints(new PrometheusSerializer()).serialize(
      withUnitSuffixes(await prometheusCorpus({ parseable: true })),
    );
    expect(text.split('\n').length).toBeGreaterThan(200);
    const result = await promtoolCheckMetrics(text);
    // Exit 1 / "error while linting" is an unparseable exposition; 3 is lint (e.g. the corpus's
    // up-down counter named balance_total), which is about names the corpus picks on purpose.
    expect(result.output).not.toContain('error while linting');
    expect(result.code === 0 || result.code === 3).toBe(true);
  });
});
