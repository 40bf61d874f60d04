// The README's WebSocket and session table against the instrument constants the
// instrumentations create their instruments from (instrumentations/metric-names.ts):
// every constant has a row with its OTel name, the Prometheus name a scrape shows
// (derived as assets/ derives it; test/e2e/metric-names.test.ts checks that against
// a real scrape), its unit and type, and every row is a constant.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SESSION, WEBSOCKET } from '../../instrumentations/metric-names.js';
import { prometheusName } from '../../assets/prometheus-names.js';

const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
const section = readme.slice(
  readme.indexOf('<!-- section:websockets -->'),
  readme.indexOf('<!-- /section:websockets -->'),
);
const codes = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
const rows = section
  .split('\n')
  .filter((line) => line.startsWith('| `'))
  .map((line) => {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    const [name, prometheus] = codes(cells[0]!);
    return { name, prometheus, unit: codes(cells[1]!)[0], type: cells[2] };
  });
const instruments = [...Object.values(WEBSOCKET), ...Object.values(SESSION)];

describe('README WebSocket and session table', () => {
  it('has one row per instrument, no other', () => {
    expect(rows.map((r) => r.name).sort()).toEqual(instruments.map((i) => i.name).sort());
  });

  it.each(instruments.map((i) => [i.name, i] as const))('%s: Prometheus name, unit and type', (_n, i) => {
    expect(rows.find((r) => r.name === i.name)).toEqual({
      name: i.name,
      prometheus: prometheusName(i),
      unit: i.unit,
      type: i.kind,
    });
  });
});
