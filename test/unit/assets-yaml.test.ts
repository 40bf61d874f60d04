// assets/yaml.ts writes what a YAML library reads back as the same value.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { toYaml, type YamlValue } from '../../assets/yaml.js';

describe('toYaml', () => {
  const value: YamlValue = {
    groups: [
      {
        name: 'otelkit-http',
        interval: '30s',
        rules: [
          {
            alert: 'OtelkitHttpErrors',
            expr: 'sum by (job) (rate(x_total{a="b", c=~"5.."}[5m])) > 0.05',
            for: '5m',
            labels: { severity: 'warning', quantile: '0.99', on: 'yes' },
            annotations: { summary: 'Route {{ $labels.http_route }}: errors', runbook: 'Line one.\nLine "two".' },
          },
        ],
      },
    ],
    numbers: [0, 1.5, -2, 1e-9],
    strings: ['true', 'null', '3', '', ' lead', 'a: b', 'x #y', '- dash', '*star', 'plain text', 'rules/*.yml'],
    numberLike: ['1.5', '0x1f', '1e3', '.5', '1_000', '0o17', '.inf', '-2', '5m', "it's", 'a > 0.5', '(x) or y'],
    flags: { yes: true, no: false, none: null },
    empty: { list: [], map: {} },
    nested: [[1, 2], ['a']],
    'key with space': 'v',
  };

  it('round-trips through a YAML parser', () => {
    expect(parse(toYaml(value))).toEqual(value);
  });

  it('writes PromQL with quotes as a literal block, names plain, the comment on top', () => {
    const text = toYaml(
      { rules: [{ record: 'job:x:rate5m', expr: 'rate(x{a="b"}[5m])' }] },
      'Generated.\nDo not edit.',
    );
    expect(text).toBe(
      '# Generated.\n# Do not edit.\nrules:\n  - record: job:x:rate5m\n    expr: |-\n      rate(x{a="b"}[5m])\n',
    );
  });

  it('refuses numbers YAML cannot carry', () => {
    expect(() => toYaml({ x: Number.NaN })).toThrow(/not a finite number/);
  });
});
