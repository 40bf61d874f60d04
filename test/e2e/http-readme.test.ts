// The README's metric tables (HTTP and runtime sections) against what otelkit really
// exports: every documented metric exists with that name, unit, type and no other
// attributes; every HTTP/runtime metric otelkit exports is documented; the Prometheus
// names in the tables are the ones a real scrape shows.
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/defaults.js';
import { startDefaultInstrumentations } from '../../src/instrumentations.js';
import { publishMeter } from '../../src/meter-handoff.js';
import { createInstrumentationProducer } from '../../src/histograms/producer.js';
import { stopAll } from '../helpers/child.js';
import { scrape } from '../helpers/prom-text.js';
import { families, send, startFixture } from '../fixtures/http-harness.js';

interface Row {
  name: string;
  prometheus: string;
  unit: string;
  type: string;
  attributes: string[];
}

/** Rows of every `| Metric | Unit | Type | Attributes | … |` table in the given README sections. */
function readmeRows(sections: string[]): Row[] {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const rows: Row[] = [];
  for (const section of sections) {
    const body = readme.slice(
      readme.indexOf(`<!-- section:${section} -->`),
      readme.indexOf(`<!-- /section:${section} -->`),
    );
    for (const line of body.split('\n')) {
      if (!line.startsWith('| `')) continue;
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      const codes = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      const [name, prometheus] = codes(cells[0]!);
      const unit = codes(cells[1]!)[0];
      if (!name || !prometheus || !unit) continue; // another kind of table
      rows.push({ name, prometheus, unit, type: cells[2]!, attributes: codes(cells[3] ?? '') });
    }
  }
  // "as `x`": the attributes of row x
  for (const row of rows) {
    if (row.attributes.length === 1 && rows.some((r) => r.name === row.attributes[0]))
      row.attributes = rows.find((r) => r.name === row.attributes[0])!.attributes;
  }
  return rows;
}

const rows = readmeRows(['http', 'runtime']);

function typeOf(m: MetricData): string {
  if (m.dataPointType === DataPointType.HISTOGRAM) return 'histogram';
  if (m.dataPointType === DataPointType.GAUGE) return 'gauge';
  if (m.dataPointType === DataPointType.SUM) return m.isMonotonic ? 'counter' : 'updowncounter';
  return 'exponential histogram';
}

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

describe('README metric tables', () => {
  const exported = new Map<string, { unit: string; type: string; attributes: Set<string> }>();
  let server: Server;
  let stop: () => void;

  beforeAll(async () => {
    const config = { ...defaultConfig(), http: { ...defaultConfig().http, bodySizes: true } };
    const producer = createInstrumentationProducer();
    const reader = new TestReader({ metricProducers: [producer] });
    producer.bind(reader);
    const provider = new MeterProvider({ readers: [reader] });
    publishMeter({ meter: provider.getMeter('otelkit'), config });
    stop = startDefaultInstrumentations(config).dispose;

    server = createServer((req, res) => {
      res.statusCode = req.url === '/fail' ? 503 : 200;
      req.resume();
      req.on('end', () => res.end('body'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await send(base, [
      ['GET', '/a'],
      ['POST', '/a'],
      ['GET', '/fail'],
    ]);
    await new Promise<void>((resolve) => request(`${base}/a`, (r) => r.resume().on('end', resolve)).end());
    await fetch('http://127.0.0.1:47/').catch(() => {}); // connection refused: error.type
    let garbage: unknown[] = [];
    for (let i = 0; i < 300_000; i++) garbage.push({ i });
    garbage = [];
    await new Promise((resolve) => setTimeout(resolve, 150)); // GC observer, event-loop samples

    const { resourceMetrics } = await reader.collect();
    for (const m of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)) {
      const attributes = new Set(m.dataPoints.flatMap((p) => Object.keys(p.attributes)));
      exported.set(m.descriptor.name, { unit: m.descriptor.unit, type: typeOf(m), attributes });
    }
  });
  afterAll(async () => {
    stop?.();
    server?.close();
    await stopAll();
  });

  it('documents the HTTP and runtime metrics in tables', () => {
    expect(rows.length).toBeGreaterThan(20);
    expect(rows.map((r) => r.name)).toContain('http.server.request.duration');
  });

  it.each(rows.map((r) => [r.name, r] as const))('%s: name, unit, type and attributes as exported', (_name, row) => {
    const m = exported.get(row.name);
    expect(m, `${row.name} is not exported`).toBeDefined();
    expect(m!.unit).toBe(row.unit);
    expect(m!.type).toBe(row.type);
    for (const a of m!.attributes) expect(row.attributes, `${row.name} has attribute ${a}`).toContain(a);
  });

  it('every HTTP and runtime metric otelkit exports is in a table', () => {
    const documented = new Set(rows.map((r) => r.name));
    const mine = [...exported.keys()].filter((n) => /^(http|nodejs|v8js|process)\./.test(n));
    expect(mine.filter((n) => !documented.has(n))).toEqual([]);
  });

  it('the HTTP server duration carries every documented attribute in this traffic', () => {
    const server = exported.get('http.server.request.duration')!;
    expect([...server.attributes].sort()).toEqual([
      'error.type',
      'http.request.method',
      'http.response.status_code',
      'network.protocol.version',
      'url.scheme',
    ]);
    // http.route is covered by the framework tests; here no route is set.
    const client = exported.get('http.client.request.duration')!;
    expect([...client.attributes].sort()).toEqual(
      rows.find((r) => r.name === 'http.client.request.duration')!.attributes.sort(),
    );
  });

  it('the Prometheus names in the tables are what a real scrape (under the preload) shows', async () => {
    const app = await startFixture('http-runtime.mjs', {
      nodeArgs: ['--expose-gc'],
      env: { OTELKIT_HTTP_BODY_SIZES: 'true' },
    });
    await send(app.appUrl, [['POST', '/call']]);
    const types = families(await scrape(app.metricsUrl));
    const promType = (t: string) => (t === 'updowncounter' ? 'gauge' : t);
    for (const row of rows) {
      const family = row.type === 'counter' ? row.prometheus.replace(/_total$/, '') : row.prometheus;
      expect(types.get(row.prometheus) ?? types.get(family), `${row.prometheus} in the scrape`).toBe(
        promType(row.type),
      );
    }
    const documented = new Set(rows.flatMap((r) => [r.prometheus, r.prometheus.replace(/_total$/, '')]));
    const mine = [...types.keys()].filter((n) => /^(http|nodejs|v8js|process)_/.test(n));
    expect(mine.filter((n) => !documented.has(n))).toEqual([]);
  });
});
