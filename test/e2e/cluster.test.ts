// A real node:cluster app under the preload: the primary serves one scrape for the
// whole service while 4 workers behind one port take load; a worker killed and
// replaced leaves its counts behind; the app's own IPC messages are untouched.
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startChild, stopAll, type Child } from '../helpers/child.js';
import { findSamples, sampleValue, scrape } from '../helpers/prom-text.js';
import { hasPromtool, promtoolCheckMetrics } from '../helpers/prometheus.js';

afterEach(() => stopAll());

interface WorkerLine {
  worker: number;
  pid: number;
  port: number;
  /** The worker's own scrape endpoint, when it has one. */
  metricsUrl: string | null;
}

async function startCluster(env: Record<string, string> = {}) {
  const child = startChild({
    args: ['--import', 'otelkit/register', 'test/fixtures/cluster-app.mjs'],
    env: { OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: '0', ...env },
    maxLifetimeMs: 120_000,
  });
  const { metricsUrl } = await child.waitForJson<{ metricsUrl: string }>((v) => 'metricsUrl' in v, 30_000);
  const workers = await workerLines(child, 4);
  return { child, metricsUrl, workers, port: workers[0]!.port };
}

async function workerLines(child: Child, count: number, after: WorkerLine[] = []): Promise<WorkerLine[]> {
  const seen = new Set(after.map((w) => w.worker));
  const found: WorkerLine[] = [];
  await child.waitForLine((line) => {
    if (!line.startsWith('{"worker"')) return false;
    const w = JSON.parse(line) as WorkerLine;
    if (!seen.has(w.worker) && !found.some((f) => f.worker === w.worker)) found.push(w);
    return found.length === count;
  }, 30_000);
  return found;
}

/** One request on a fresh connection (no keep-alive), so the primary spreads them over the workers. */
function hit(port: number, path = '/'): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        res.resume().on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

/** `n` requests, at most `concurrency` at a time. */
async function load(port: number, n: number, concurrency = 8): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) {
      next++;
      await hit(port);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

const total = (text: string) => sampleValue(text, 'work_items_total', { route: 'work' });

/**
 * Scrapes until the total is `expected` (a worker that missed a collection request is
 * merged with its previous answer until it answers again); every scrape goes into `seen`.
 */
async function scrapeUntil(url: string, expected: number, seen: number[]): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const text = await scrape(url);
    seen.push(total(text));
    if (total(text) === expected || attempt === 50) return text;
    await new Promise((r) => setTimeout(r, 200));
  }
}

function expectMonotonic(values: number[]): void {
  for (let i = 1; i < values.length; i++)
    expect(values[i], `scrape ${i}: ${values.join(',')}`).toBeGreaterThanOrEqual(values[i - 1]!);
}

describe('node:cluster under the preload', () => {
  it('4 workers behind one port under load: 10 scrapes, exact totals, never backwards, promtool-clean', async () => {
    const { child, metricsUrl, port } = await startCluster();
    const seen: number[] = [];
    let sent = 0;
    for (let round = 1; round <= 10; round++) {
      // scrapes while the load runs: only ever forward
      const during = load(port, 60);
      seen.push(total(await scrape(metricsUrl)));
      await during;
      sent += 60;
      const text = await scrapeUntil(metricsUrl, sent, seen);
      expect(total(text)).toBe(sent);
      expect(sampleValue(text, 'work_size_bytes_count')).toBe(sent);
      expect(sampleValue(text, 'work_size_bytes_bucket', { le: '150' })).toBe(sent);
      expect(sampleValue(text, 'work_size_bytes_bucket', { le: '50' })).toBe(0);
      expect(sampleValue(text, 'work_size_bytes_sum')).toBe(100 * sent);
      if (round === 1 || round === 10) {
        // up-down counters are summed, gauges are one series per worker
        expect(sampleValue(text, 'work_workers')).toBe(4);
        const ids = findSamples(text, 'work_worker_id').map((s) => [s.labels.worker, s.value]);
        expect(ids.sort()).toEqual([
          ['1', 1],
          ['2', 2],
          ['3', 3],
          ['4', 4],
        ]);
        // the runtime gauges too: the primary's own (no label) and one per worker
        expect(
          findSamples(text, 'process_uptime_seconds')
            .map((s) => s.labels.worker ?? 'primary')
            .sort(),
        ).toEqual(['1', '2', '3', '4', 'primary']);
        expect(findSamples(text, 'target_info')).toHaveLength(1);
        if (hasPromtool()) expect((await promtoolCheckMetrics(text)).problems).toEqual([]);
      }
    }
    expectMonotonic(seen);
    // the HTTP server metrics of the workers are summed too
    const http = findSamples(await scrape(metricsUrl), 'http_server_request_duration_seconds_count');
    expect(http.reduce((sum, s) => sum + s.value, 0)).toBe(sent);
    // the workers' own listening port is shared as cluster does; otelkit opened none in them
    expect(child.stderr).not.toContain('could not listen');
    expect(child.stdout).not.toContain('"unexpected"');
    expect(child.stdoutLines.filter((l) => l.startsWith('{"echoed"'))).toHaveLength(4);
  });

  it('a worker killed and replaced: counts stay, gauges go; one that exits sends its final totals', async () => {
    const { child, metricsUrl, port, workers } = await startCluster({ REPLACE: '1' });
    const seen: number[] = [];
    await load(port, 200);
    let text = await scrapeUntil(metricsUrl, 200, seen);
    expect(total(text)).toBe(200);

    const victim = workers[0]!;
    process.kill(victim.pid, 'SIGKILL');
    await child.waitForLine(`{"exited":${victim.worker},`, 15_000);
    const [replacement] = await workerLines(child, 1, workers);
    seen.push(total(await scrape(metricsUrl)));

    await load(port, 200);
    text = await scrapeUntil(metricsUrl, 400, seen);
    expect(total(text)).toBe(400);
    expect(sampleValue(text, 'work_size_bytes_count')).toBe(400);
    expect(sampleValue(text, 'work_workers')).toBe(4);
    const ids = findSamples(text, 'work_worker_id').map((s) => Number(s.labels.worker));
    expect(ids).not.toContain(victim.worker);
    expect(ids).toContain(replacement!.worker);
    expect(ids).toHaveLength(4);
    expectMonotonic(seen);
    if (hasPromtool()) expect((await promtoolCheckMetrics(text)).problems).toEqual([]);

    // A worker that exits normally sends its final totals: with no scrape between the
    // requests and its exit, its share of these 100 reaches the totals only that way.
    await load(port, 100);
    const exits = child.stdoutLines.filter((l) => l.startsWith('{"exited"')).length;
    await hit(port, '/exit');
    await child.waitForLine((l) => l.startsWith('{"exited"') && l.includes('"code":0'), 15_000);
    expect(child.stdoutLines.filter((l) => l.startsWith('{"exited"')).length).toBe(exits + 1);
    text = await scrapeUntil(metricsUrl, 501, seen);
    expect(total(text)).toBe(501);
    expectMonotonic(seen);
  });
});
