// PM2's cluster mode without PM2: a plain primary (no otelkit) forks workers started
// with the preload. The workers race for the metrics port; the one that gets it
// serves one merged scrape for all, and when it dies another takes over.
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startChild, stopAll, type Child } from '../helpers/child.js';
import { findSamples, sampleValue, scrape } from '../helpers/prom-text.js';
import { hasPromtool, promtoolCheckMetrics } from '../helpers/prometheus.js';
import { freePort } from '../helpers/free-port.js';

const dirs: string[] = [];
afterEach(async () => {
  await stopAll();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface WorkerLine {
  worker: number;
  pid: number;
  serving: boolean;
  /** PM2's instance id, with PM2_APPS. */
  pmId?: string;
}

async function startApp(tmp: string, env: Record<string, string> = {}) {
  const port = await freePort();
  const child = startChild({
    args: ['test/fixtures/pm2-like-app.mjs'],
    env: {
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
      TMPDIR: tmp,
      ...env,
    },
    maxLifetimeMs: 150_000,
  });
  const { primary, control } = await child.waitForJson<{ primary: number; control: string }>(
    (v) => 'control' in v,
    30_000,
  );
  const workers: WorkerLine[] = [];
  await child.waitForLine((line) => {
    if (line.startsWith('{"worker"')) workers.push(JSON.parse(line) as WorkerLine);
    return workers.length === 4;
  }, 30_000);
  return { child, primary, control, port, url: `http://127.0.0.1:${port}/metrics`, workers };
}

const total = (text: string) => sampleValue(text, 'work_items_total', { route: 'work' });
const count = (text: string) => sampleValue(text, 'work_size_bytes_count');
const targetPid = (text: string) => Number(findSamples(text, 'target_info')[0]!.labels.process_pid);

async function tryScrape(url: string): Promise<string | undefined> {
  try {
    return await scrape(url);
  } catch {
    return undefined; // no server between two elections
  }
}

/** Scrapes until `done` holds (bounded); every successful scrape's total goes into `seen`. */
async function scrapeUntil(url: string, done: (text: string) => boolean, seen: number[] = []): Promise<string> {
  const deadline = Date.now() + 45_000;
  let last: string | undefined;
  for (;;) {
    last = (await tryScrape(url)) ?? last;
    if (last !== undefined) {
      seen.push(total(last));
      if (done(last)) return last;
    }
    if (Date.now() > deadline) throw new Error(`no scrape matched in time; last one:\n${last}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function expectMonotonic(values: number[]): void {
  for (let i = 1; i < values.length; i++)
    expect(values[i], `scrape ${i}: ${values.join(',')}`).toBeGreaterThanOrEqual(values[i - 1]!);
}

async function waitExited(child: Child, worker: number): Promise<void> {
  await child.waitForLine(`{"exited":${worker},`, 20_000);
}

describe("PM2's cluster mode: a primary without otelkit", () => {
  it('the workers elect one server that merges them all; when it dies another takes over', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'otelkit-pm2-'));
    dirs.push(tmp);
    const { child, primary, control, port, url, workers } = await startApp(tmp);
    expect(workers.filter((w) => w.serving)).toHaveLength(1);
    const server = workers.find((w) => w.serving)!;
    // what each worker has added and recorded, as the fixture does it
    const totals = new Map(workers.map((w) => [w.worker, { items: 10 * w.worker, values: w.worker }]));
    const sum = (ids: number[]) => ids.reduce((s, id) => s + totals.get(id)!.items, 0);
    const values = (ids: number[]) => ids.reduce((s, id) => s + totals.get(id)!.values, 0);
    const add = async (n: number) => {
      const { workers: ids } = (await (await fetch(`${control}/add?n=${n}`)).json()) as { workers: number[] };
      for (const id of ids) {
        totals.get(id)!.items += n;
        totals.get(id)!.values += 1;
      }
    };
    const all = workers.map((w) => w.worker).sort((a, b) => a - b);
    const seen: number[] = [];

    let text = await scrapeUntil(url, (t) => total(t) === sum(all) && count(t) === values(all), seen);
    expect(total(text)).toBe(100);
    expect(count(text)).toBe(10);
    expect(sampleValue(text, 'work_size_bytes_bucket', { le: '150' })).toBe(10);
    expect(sampleValue(text, 'work_workers')).toBe(4);
    // gauges: one series per worker, the server's own labelled like the others'
    const ids = findSamples(text, 'work_worker_id').map((s) => [s.labels.worker, s.value]);
    expect(ids.sort()).toEqual(all.map((id) => [String(id), id]));
    const uptime = findSamples(text, 'process_uptime_seconds').map((s) => s.labels.worker);
    expect(uptime.sort()).toEqual(all.map(String));
    expect(findSamples(text, 'target_info')).toHaveLength(1);
    expect(targetPid(text)).toBe(server.pid);
    if (hasPromtool()) expect((await promtoolCheckMetrics(text)).problems).toEqual([]);
    // the side channel: a socket only this user can reach, named after the primary and the port
    expect(statSync(join(tmp, `otelkit-${primary}-${port}.sock`)).mode & 0o777).toBe(0o600);

    for (let round = 1; round <= 3; round++) {
      await add(round);
      await scrapeUntil(url, (t) => total(t) === sum(all) && count(t) === values(all), seen);
    }

    // A member killed: its totals stay with the server, its gauges go.
    const member = workers.find((w) => !w.serving)!;
    process.kill(member.pid, 'SIGKILL');
    await waitExited(child, member.worker);
    text = await scrapeUntil(url, (t) => sampleValue(t, 'work_workers') === 3, seen);
    expect(total(text)).toBe(sum(all));
    expect(findSamples(text, 'work_worker_id').map((s) => Number(s.labels.worker))).not.toContain(member.worker);
    expectMonotonic(seen);

    // The server killed: another worker gets the port and answers for the whole service
    // again. The dead server's totals (its own, and the killed member's it kept) were
    // handed over at its last scrape: the counters go on from there, never backwards.
    const survivors = all.filter((id) => id !== member.worker && id !== server.worker);
    const survivorPids = survivors.map((id) => workers.find((w) => w.worker === id)!.pid);
    // One survivor is busy when the server dies, so the other one wins the port and
    // serves before the busy one has joined it: the scrapes meanwhile wait for it
    // rather than show the service's counters without it.
    await fetch(`${control}/block?worker=${survivors[0]}&ms=1500`);
    process.kill(server.pid, 'SIGKILL');
    await waitExited(child, server.worker);
    text = await scrapeUntil(url, (t) => targetPid(t) !== server.pid && sampleValue(t, 'work_workers') === 2, seen);
    expect(targetPid(text)).toBe(survivorPids[1]);
    expect(total(text)).toBe(sum(all));
    expect(count(text)).toBe(values(all));
    expect(
      findSamples(text, 'work_worker_id')
        .map((s) => Number(s.labels.worker))
        .sort(),
    ).toEqual(survivors);

    await add(5);
    text = await scrapeUntil(url, (t) => total(t) === sum(all) && count(t) === values(all), seen);
    expectMonotonic(seen);
    expect(findSamples(text, 'target_info')).toHaveLength(1);
    if (hasPromtool()) expect((await promtoolCheckMetrics(text)).problems).toEqual([]);

    // The new server exits normally with increments no scrape has seen: it hands its
    // final totals over at exit, and the last worker serves them.
    await add(3);
    await fetch(`${control}/exit?worker=${survivors[1]}`);
    await waitExited(child, survivors[1]!);
    text = await scrapeUntil(url, (t) => targetPid(t) === survivorPids[0] && sampleValue(t, 'work_workers') === 1);
    expect(total(text)).toBe(sum(all));
    expect(count(text)).toBe(values(all));
    // the workers that lost an election said nothing
    expect(child.stderr).not.toContain('otelkit:');
  });

  it("PM2's environment: gauges labelled with pm_id; another app's workers on the same port do not merge", async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'otelkit-pm2-'));
    dirs.push(tmp);
    const { child, url, workers } = await startApp(tmp, { PM2_APPS: '2' });
    const server = workers.find((w) => w.serving)!;
    const app = Number(server.pmId) % 2;
    const mine = workers.filter((w) => Number(w.pmId) % 2 === app);
    const text = await scrapeUntil(url, (t) => findSamples(t, 'work_worker_id').length === 2);
    const gauges = findSamples(text, 'work_worker_id').map((s) => [s.labels.worker, s.value]);
    expect(gauges.sort()).toEqual(mine.map((w) => [w.pmId, w.worker]).sort());
    expect(total(text)).toBe(mine.reduce((sum, w) => sum + 10 * w.worker, 0));
    // the other app's workers find no server of theirs, and say so once each
    let told = 0;
    const line = (l: string) => l.includes('no otelkit worker answers on') && ++told === 2;
    await child.waitForLine(line, 30_000, { stream: 'stderr' });
    expect(findSamples(await scrape(url), 'work_worker_id')).toHaveLength(2);
  });

  it('a socket path too long for the system: one line, and the first worker serves its own metrics', async () => {
    const base = mkdtempSync(join(tmpdir(), 'otelkit-pm2-'));
    dirs.push(base);
    const tmp = join(base, 'x'.repeat(110));
    mkdirSync(tmp);
    const { child, url, workers } = await startApp(tmp);
    const serving = workers.filter((w) => w.serving);
    expect(serving).toHaveLength(1);
    let refused = 0;
    await child.waitForLine((l) => l.includes('could not listen') && ++refused === 3, 15_000, { stream: 'stderr' });
    expect(child.stderrLines.filter((l) => l.includes('could not listen'))).toHaveLength(3);
    expect(child.stderrLines.find((l) => l.includes('could not listen'))).toContain(
      'cluster worker whose primary does not run otelkit',
    );
    expect(child.stderrLines.filter((l) => l.includes('socket path'))).toHaveLength(4);
    const text = await scrape(url);
    expect(sampleValue(text, 'work_worker_id')).toBe(serving[0]!.worker);
    expect(total(text)).toBe(10 * serving[0]!.worker);
  });
});
