/**
 * Real Prometheus tooling for tests (Debian `prometheus` package, 2.42: `promtool` and
 * `prometheus`, installed by .ci/run). Tests should skip when the binaries are absent:
 *   describe.skipIf(!hasPromtool())(…)  /  describe.skipIf(!hasPrometheus())(…)
 * Everything binds 127.0.0.1; every wait is bounded. Test-only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './find-binary.js';
import { freePort } from './free-port.js';

export const PROMTOOL = findBinary('promtool');
export const PROMETHEUS = findBinary('prometheus');
export const hasPromtool = (): boolean => PROMTOOL !== undefined;
export const hasPrometheus = (): boolean => PROMETHEUS !== undefined;

// ---------------------------------------------------------------------------
// promtool check metrics

export interface PromtoolResult {
  /** true when promtool found nothing to complain about (exit code 0). */
  ok: boolean;
  /** promtool's exit code: 0 clean, 3 lint problems, 1 unparseable exposition. */
  code: number | null;
  /** stdout + stderr. */
  output: string;
  /** One entry per reported problem line (e.g. `foo counter metrics should have "_total" suffix`). */
  problems: string[];
}

/**
 * Lints a Prometheus text exposition with `promtool check metrics` (fed on stdin).
 * What promtool 2.42 flags (exit 3): counters without `_total`; missing HELP ("no help text");
 * `_count`/`_sum`/`_bucket` suffixes on non-histogram/summary metrics; abbreviated units
 * (`_ms`, `_secs`…); non-base units (`_milliseconds` → "use base unit seconds").
 * Unparseable text (bad syntax, a second HELP/TYPE for one name) is exit 1, "error while linting".
 * It does not flag duplicate series.
 */
export function promtoolCheckMetrics(text: string, timeoutMs = 10_000): Promise<PromtoolResult> {
  if (!PROMTOOL) return Promise.reject(new Error('promtool is not installed (apt-get install prometheus)'));
  return new Promise((resolve, reject) => {
    const proc = spawn(PROMTOOL, ['check', 'metrics'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '' },
    });
    let output = '';
    proc.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    proc.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`promtool check metrics timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.on('close', (code) => {
      clearTimeout(timer);
      const problems = output
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      resolve({ ok: code === 0, code, output, problems });
    });
    proc.stdin.on('error', () => {}); // EPIPE if promtool bails early
    proc.stdin.end(text);
  });
}

// ---------------------------------------------------------------------------
// A real Prometheus server

export interface ScrapeTarget {
  /** e.g. `http://127.0.0.1:9464/metrics` (path and query string are honoured). */
  url: string;
  /** Sent as `Authorization: Bearer …`. */
  bearerToken?: string;
  /** Job name; default `target0`, `target1`, … */
  job?: string;
  /** Extra target labels. */
  labels?: Record<string, string>;
}

export interface PrometheusOptions {
  /** `host:port`, a URL, or a ScrapeTarget. Each target is its own job. */
  scrapeTargets: Array<string | ScrapeTarget>;
  /** Prometheus duration ('1s', '500ms') or milliseconds. Default '1s'. scrape_timeout = interval. */
  scrapeInterval?: string | number;
  /** Max wait for /-/ready. Default 30 s. */
  readyTimeoutMs?: number;
  /** Extra command-line flags, e.g. ['--enable-feature=native-histograms']. */
  extraArgs?: string[];
  /** Absolute paths of rule files to load; rules are evaluated every scrape interval. */
  ruleFiles?: string[];
}

export interface PromSample {
  metric: Record<string, string>;
  value: number;
  /** Seconds since the epoch. */
  timestamp: number;
}

export interface PrometheusTarget {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  lastScrape: string;
}

export interface PrometheusServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly configPath: string;
  readonly dataDir: string;
  /** The config written for this server (YAML, which is JSON here). */
  readonly config: string;
  /**
   * Instant query; vector and scalar results as samples (NaN/±Inf as numbers).
   * Throws on API errors and matrix results.
   */
  query(promql: string): Promise<PromSample[]>;
  /** The raw `data` of /api/v1/query. */
  queryRaw(promql: string): Promise<{ resultType: string; result: unknown }>;
  /**
   * Polls `query(promql)` until the result is non-empty and satisfies `predicate`; the first
   * scrape only happens ~6 s after start. Rejects after timeoutMs with the last result and target health.
   */
  waitForQuery(
    promql: string,
    predicate?: (samples: PromSample[]) => boolean,
    timeoutMs?: number,
  ): Promise<PromSample[]>;
  /** Active targets from /api/v1/targets. */
  targets(): Promise<PrometheusTarget[]>;
  /** Prometheus' own log (stderr), for assertion messages. */
  logs(): string;
  stop(): Promise<void>;
}

const running = new Set<PrometheusServer>();

/** Stops every Prometheus still running (afterAll-friendly). */
export async function stopAllPrometheus(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

function duration(d: string | number | undefined): string {
  if (d === undefined) return '1s';
  if (typeof d === 'number') return d % 1000 === 0 ? `${d / 1000}s` : `${Math.round(d)}ms`;
  return d;
}

function buildConfig(targets: Array<string | ScrapeTarget>, interval: string, ruleFiles: string[] = []): string {
  const scrapeConfigs = targets.map((t, i) => {
    const target: ScrapeTarget =
      typeof t === 'string' ? { url: /^[a-z]+:\/\//i.test(t) ? t : `http://${t}/metrics` } : t;
    const u = new URL(target.url);
    const params: Record<string, string[]> = {};
    for (const [k, v] of u.searchParams) (params[k] ??= []).push(v);
    const job: Record<string, unknown> = {
      job_name: target.job ?? `target${i}`,
      scrape_interval: interval,
      scrape_timeout: interval,
      scheme: u.protocol.replace(':', ''),
      metrics_path: u.pathname || '/metrics',
      static_configs: [{ targets: [u.host], labels: target.labels ?? {} }],
    };
    if (Object.keys(params).length) job.params = params;
    if (target.bearerToken) job.authorization = { type: 'Bearer', credentials: target.bearerToken };
    return job;
  });
  // YAML is a superset of JSON.
  return JSON.stringify(
    {
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      rule_files: ruleFiles,
      scrape_configs: scrapeConfigs,
    },
    null,
    2,
  );
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Starts `prometheus` on 127.0.0.1 with a temp config and data dir; resolves once /-/ready answers 200. */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  if (!PROMETHEUS) throw new Error('prometheus is not installed (apt-get install prometheus)');
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options);
    } catch (e) {
      lastError = e as Error;
      if (!/address already in use/i.test(lastError.message)) throw lastError;
    }
  }
  throw lastError!;
}

async function startOnce(options: PrometheusOptions): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'otelkit-prom-'));
  const dataDir = join(dir, 'data');
  const configPath = join(dir, 'prometheus.yml');
  const interval = duration(options.scrapeInterval);
  const config = buildConfig(options.scrapeTargets, interval, options.ruleFiles);
  writeFileSync(configPath, config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;

  const proc: ChildProcess = spawn(
    PROMETHEUS!,
    [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...(options.extraArgs ?? []),
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } },
  );
  let log = '';
  proc.stdout!.on('data', (c: Buffer) => (log += c.toString('utf8')));
  proc.stderr!.on('data', (c: Buffer) => (log += c.toString('utf8')));
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    proc.on('close', () => {
      exited = true;
      resolve();
    });
    proc.on('error', (e) => {
      log += `\nspawn error: ${e.message}`;
      exited = true;
      resolve();
    });
  });
  const killOnExit = () => proc.kill('SIGKILL');
  process.once('exit', killOnExit);

  let stopped = false;
  const stop = async () => {
    if (stopped) return exitPromise;
    stopped = true;
    running.delete(server);
    process.removeListener('exit', killOnExit);
    if (!exited) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(url + path, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
    if (body.status !== 'success')
      throw new Error(`Prometheus ${path}: ${body.errorType ?? res.status}: ${body.error ?? ''}`);
    return body.data;
  };
  const queryRaw = (promql: string) =>
    api<{ resultType: string; result: unknown }>(`/api/v1/query?query=${encodeURIComponent(promql)}`);
  const query = async (promql: string): Promise<PromSample[]> => {
    const data = await queryRaw(promql);
    if (data.resultType === 'vector') {
      return (data.result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((r) => ({
        metric: r.metric,
        timestamp: r.value[0],
        value: Number(r.value[1]),
      }));
    }
    if (data.resultType === 'scalar') {
      const [ts, v] = data.result as [number, string];
      return [{ metric: {}, timestamp: ts, value: Number(v) }];
    }
    throw new Error(`query(${promql}) returned a ${data.resultType}; use queryRaw`);
  };
  const targets = async (): Promise<PrometheusTarget[]> =>
    (await api<{ activeTargets: PrometheusTarget[] }>('/api/v1/targets')).activeTargets;

  const server: PrometheusServer = {
    url,
    port,
    configPath,
    dataDir,
    config,
    query,
    queryRaw,
    targets,
    logs: () => log,
    async waitForQuery(promql, predicate = () => true, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let last: PromSample[] | string = [];
      while (Date.now() < deadline) {
        try {
          last = await query(promql);
          if (last.length > 0 && predicate(last)) return last;
        } catch (e) {
          last = (e as Error).message;
        }
        await sleep(250);
      }
      const t = await targets().catch(() => []);
      throw new Error(
        `Prometheus: ${promql} did not match within ${timeoutMs} ms; last: ${JSON.stringify(last)}; targets: ` +
          JSON.stringify(t.map((x) => ({ url: x.scrapeUrl, health: x.health, lastError: x.lastError }))),
      );
    },
    stop,
  };
  running.add(server);

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`prometheus exited before becoming ready:\n${log.slice(-3000)}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready within ${options.readyTimeoutMs ?? 30_000} ms:\n${log.slice(-3000)}`);
    }
    await sleep(100);
  }
}
