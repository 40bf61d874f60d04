// metricsHandler mounted on a cluster app's own (shared) port: whichever worker a scrape
// lands on, it answers with the primary's merged scrape, so the totals are the service's.
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startChild, stopAll } from '../helpers/child.js';
import { findSamples, sampleValue } from '../helpers/prom-text.js';
import { hasPromtool, promtoolCheckMetrics } from '../helpers/prometheus.js';

afterEach(() => stopAll());

/** One GET on a fresh connection (no keep-alive), so the primary hands each to the next worker. */
function get(port: number, path: string): Promise<{ status: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }));
      })
      .on('error', reject);
  });
}

describe('metricsHandler in cluster workers', () => {
  it("every scrape of the app's port has the whole service's totals, whichever worker answers", async () => {
    const child = startChild({
      args: ['--import', 'otelkit/register', 'test/fixtures/cluster-handler-app.mjs'],
      env: { OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: '0', WORKERS: '3' },
      maxLifetimeMs: 120_000,
    });
    const { port } = await child.waitForJson<{ port: number }>((v) => 'port' in v, 30_000);
    for (let i = 0; i < 30; i++) expect((await get(port, '/')).status).toBe(200);

    // Six scrapes on fresh connections: round-robin puts them on every worker at least once.
    for (let i = 0; i < 6; i++) {
      const { status, type, body } = await get(port, '/metrics');
      expect(status).toBe(200);
      expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(sampleValue(body, 'work_items_total')).toBe(30);
      expect(
        findSamples(body, 'work_worker_id')
          .map((s) => s.labels.worker)
          .sort(),
      ).toEqual(['1', '2', '3']);
      expect(findSamples(body, 'target_info')).toHaveLength(1);
      if (i === 0 && hasPromtool()) expect((await promtoolCheckMetrics(body)).problems).toEqual([]);
    }
    expect(child.stderr).not.toContain('otelkit:');
  });
});
