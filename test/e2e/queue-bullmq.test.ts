// BullMQ against a real Redis (redis-server on a free loopback port): scripted job
// sequences with exact counts, durations checked against the jobs' own times, a
// worker process killed mid-job (a stall), and a hung Redis that must not stall a scrape.
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { Queue, Worker, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentQueue, register, type OtelkitHandle } from '../../index.js';
import { startChild, stopAll } from '../helpers/child.js';
import { hasPromtool, promtoolCheckMetrics } from '../helpers/prometheus.js';
import { findSamples, parsePrometheus, sampleValue, scrape, type Sample } from '../helpers/prom-text.js';
import { hasRedis, startRedis, type RedisServer } from '../helpers/redis.js';

class PaymentError extends Error {}

/** What the processor saw of each attempt: BullMQ's own times, to compute the expected metrics from. */
interface Attempt {
  id: string;
  kind: string;
  attemptsMade: number;
  attemptsStarted: number;
  timestamp: number;
  delay: number;
  processedOn: number;
}

const warnings: string[] = [];
diag.setLogger(
  {
    error: (m) => warnings.push(m),
    warn: (m) => warnings.push(m),
    info: () => {},
    debug: () => {},
    verbose: () => {},
  },
  DiagLogLevel.WARN,
);
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

let redis: RedisServer;
let otel: OtelkitHandle;
let url: string;
const closers: Array<() => Promise<unknown>> = [];
const read = async (): Promise<Sample[]> => parsePrometheus(await scrape(url));
const queueLabels = (name: string) => ({ messaging_system: 'bullmq', messaging_destination_name: name });

/** Polls `check` until it returns true, bounded by a deadline; no fixed sleep decides anything. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const attempts = (s: Sample[], name: string) =>
  Object.fromEntries(
    findSamples(s, 'queue_job_attempts_total', queueLabels(name)).map((x) => [
      [x.labels.queue_job_outcome, x.labels.error_type].filter(Boolean).join(':'),
      x.value,
    ]),
  );
const jobs = (s: Sample[], name: string) =>
  Object.fromEntries(findSamples(s, 'queue_jobs', queueLabels(name)).map((x) => [x.labels.queue_job_state, x.value]));

const attemptsSeen: Attempt[] = [];
let queue: Queue;
let worker: Worker;

beforeAll(async () => {
  if (!hasRedis()) return;
  redis = await startRedis();
  const connection = redis.connection;
  queue = new Queue('emails', { connection });
  worker = new Worker(
    'emails',
    async (job: Job) => {
      attemptsSeen.push({
        id: job.id!,
        kind: job.data.kind,
        attemptsMade: job.attemptsMade,
        attemptsStarted: job.attemptsStarted,
        timestamp: job.timestamp,
        delay: job.opts.delay ?? 0,
        processedOn: job.processedOn!,
      });
      if (job.data.kind === 'fail') throw new PaymentError('card declined');
      if (job.data.kind === 'flaky' && job.attemptsMade === 0) throw new TypeError('first try fails');
      return 'sent';
    },
    { connection, autorun: false, concurrency: 1 },
  );
  closers.push(
    () => worker.close(),
    () => queue.close(),
  );
  // Instrumented before register(): counted from the start, reported once registered.
  instrumentQueue({ queue, worker });
  otel = register({ prometheus: { host: '127.0.0.1', port: 0 }, instrumentations: [], serviceName: 'bullmq-test' });
  url = (await otel.ready)!.url;
});

afterAll(async () => {
  await stopAll();
  for (const close of closers.reverse()) await close().catch(() => {});
  await otel?.shutdown();
  await redis?.stop();
});

describe.skipIf(!hasRedis())('instrumentQueue: BullMQ with a real Redis', () => {
  it('succeed, fail, retry then succeed, delayed: exact counts, jobs by state, durations from the jobs', async () => {
    const handle = instrumentQueue(worker, { name: 'emails' });
    expect(instrumentQueue(worker)).toBe(handle); // twice: the first handle, nothing counted twice
    await queue.addBulk([
      { name: 'ok', data: { kind: 'ok' } },
      { name: 'ok', data: { kind: 'ok' } },
      { name: 'ok', data: { kind: 'ok' } },
      { name: 'fail', data: { kind: 'fail' } },
      { name: 'flaky', data: { kind: 'flaky' }, opts: { attempts: 2 } },
    ]);
    await queue.add('later', { kind: 'delayed' }, { delay: 300 });

    const before = await read();
    expect(jobs(before, 'emails')).toEqual({
      waiting: 5,
      active: 0,
      delayed: 1,
      prioritized: 0,
      'waiting-children': 0,
      completed: 0,
      failed: 0,
      paused: 0,
    });
    expect(attempts(before, 'emails')).toEqual({ completed: 0, stalled: 0 });

    const t0 = Date.now();
    void worker.run();
    await until('5 completed and 1 failed job', async () => {
      const c = await queue.getJobCounts('completed', 'failed');
      return c.completed === 5 && c.failed === 1;
    });
    const span = (Date.now() - t0) / 1000;

    const s = await read();
    const labels = { ...queueLabels('emails'), messaging_operation_name: 'process' };
    expect(sampleValue(s, 'messaging_client_consumed_messages_total', labels)).toBe(7);
    expect(attempts(s, 'emails')).toEqual({
      completed: 5,
      stalled: 0,
      'failed:PaymentError': 1,
      'retried:PaymentError': 0,
      'failed:TypeError': 0,
      'retried:TypeError': 1,
    });
    expect(jobs(s, 'emails')).toMatchObject({ waiting: 0, active: 0, delayed: 0, completed: 5, failed: 1 });

    // Waits: first starts only, from created (or delayed until) to started, exactly as BullMQ recorded them.
    const firstStarts = attemptsSeen.filter((a) => a.attemptsStarted === 1);
    expect(firstStarts.map((a) => a.kind).sort()).toEqual(['delayed', 'fail', 'flaky', 'ok', 'ok', 'ok']);
    const expectedWait = firstStarts.reduce((sum, a) => sum + (a.processedOn - a.timestamp - a.delay) / 1000, 0);
    expect(attemptsSeen.find((a) => a.kind === 'delayed')!.delay).toBe(300);
    expect(sampleValue(s, 'queue_job_wait_duration_seconds_count', queueLabels('emails'))).toBe(6);
    expect(sampleValue(s, 'queue_job_wait_duration_seconds_sum', queueLabels('emails'))).toBeCloseTo(expectedWait, 6);

    // Processing durations: completed and failed-for-good ones are finishedOn - processedOn of the job.
    const finished = await Promise.all(
      attemptsSeen.filter((a) => a.kind !== 'flaky' || a.attemptsMade === 1).map((a) => queue.getJob(a.id)),
    );
    const seconds = (j: Job | undefined) => (j!.finishedOn! - j!.processedOn!) / 1000;
    const done = finished.filter((j) => j!.data.kind !== 'fail');
    const duration = (errorType?: string) => ({ ...labels, ...(errorType ? { error_type: errorType } : {}) });
    const ok = findSamples(s, 'messaging_process_duration_seconds_sum', labels).filter((x) => !x.labels.error_type);
    expect(ok.map((x) => x.value)).toEqual([
      expect.closeTo(
        done.reduce((a, j) => a + seconds(j), 0),
        6,
      ),
    ]);
    expect(sampleValue(s, 'messaging_process_duration_seconds_count', duration('PaymentError'))).toBe(1);
    expect(sampleValue(s, 'messaging_process_duration_seconds_sum', duration('PaymentError'))).toBeCloseTo(
      seconds(finished.find((j) => j!.data.kind === 'fail')),
      6,
    );
    // The retried attempt has no finishedOn: timed up to the failed event, within what the test observed.
    expect(sampleValue(s, 'messaging_process_duration_seconds_count', duration('TypeError'))).toBe(1);
    const retried = sampleValue(s, 'messaging_process_duration_seconds_sum', duration('TypeError'));
    expect(retried).toBeGreaterThanOrEqual(0);
    expect(retried).toBeLessThanOrEqual(span);

    if (hasPromtool()) {
      const lint = await promtoolCheckMetrics(await scrape(url));
      expect(lint.problems).toEqual([]);
    }
  });

  it('a worker process killed mid-job: the job stalls, is counted once, and is processed again', async () => {
    const connection = redis.connection;
    const stallQueue = new Queue('reports', { connection });
    closers.push(() => stallQueue.close());
    instrumentQueue(stallQueue);
    const child = startChild({ args: ['test/fixtures/bullmq-stall-worker.mjs', 'reports', String(redis.port)] });
    await stallQueue.add('report', { n: 1 });
    const { started } = await child.waitForJson<{ started: string }>((v) => 'started' in v, 30_000);
    child.kill('SIGKILL');
    await child.exited;

    let processed = 0;
    const rescuer = new Worker('reports', async () => void processed++, {
      connection,
      stalledInterval: 300,
      lockDuration: 1000,
    });
    closers.push(() => rescuer.close());
    instrumentQueue(rescuer);
    await until(
      'the stalled job to complete',
      async () => (await stallQueue.getJobCounts('completed')).completed === 1,
    );
    expect(processed).toBe(1);
    const job = await stallQueue.getJob(started);
    expect(job!.finishedOn).toBeGreaterThan(0);

    const s = await read();
    expect(attempts(s, 'reports')).toEqual({ completed: 1, stalled: 1 });
    expect(sampleValue(s, 'messaging_client_consumed_messages_total', queueLabels('reports'))).toBe(1);
    expect(jobs(s, 'reports')).toMatchObject({ active: 0, completed: 1, failed: 0 });
  });

  it('dispose() removes the listeners; instrumenting again continues the counts', async () => {
    const q = new Queue('dispose', { connection: redis.connection });
    const w = new Worker('dispose', async () => 'ok', { connection: redis.connection, autorun: false });
    closers.push(
      () => w.close(),
      () => q.close(),
    );
    const listeners = () => ['active', 'completed', 'failed', 'stalled'].map((e) => w.listenerCount(e));
    const before = listeners();
    const h = instrumentQueue({ queue: q, worker: w });
    expect(listeners()).toEqual(before.map((n) => n + 1));
    await q.add('a', {});
    void w.run();
    await until('one completed job', async () => (await q.getJobCounts('completed')).completed === 1);
    expect(attempts(await read(), 'dispose')).toEqual({ completed: 1, stalled: 0 });
    h.dispose();
    expect(listeners()).toEqual(before);
    // Disposed: a job now is not counted, and the queue's series are no longer reported as changing.
    await q.add('b', {});
    await until('two completed jobs', async () => (await q.getJobCounts('completed')).completed === 2);
    instrumentQueue({ queue: q, worker: w });
    await q.add('c', {});
    await until('three completed jobs', async () => (await q.getJobCounts('completed')).completed === 3);
    const s = await read();
    expect(attempts(s, 'dispose')).toEqual({ completed: 2, stalled: 0 });
    expect(jobs(s, 'dispose')).toMatchObject({ completed: 3 });
  });
});

describe.skipIf(!hasRedis())('instrumentQueue: a hung Redis', () => {
  let hung: RedisServer;
  beforeAll(async () => {
    hung = await startRedis();
  });
  afterAll(async () => {
    await hung?.stop();
  });

  it('a scrape does not wait: last counts stay, the failure is told once, fresh counts return', async () => {
    const q = new Queue('hung', { connection: hung.connection });
    await q.add('x', {});
    instrumentQueue(q, { jobCountsTimeoutMs: 1500 });
    await until('the job counts', async () => jobs(await read(), 'hung').waiting === 1);

    warnings.length = 0;
    hung.pause(); // SIGSTOP: Redis answers nothing until resumed
    try {
      for (let i = 0; i < 3; i++) {
        // Each scrape returns while Redis cannot answer: the read gave up after 1.5 s, or (while the first
        // call is unanswered) did not start. The SDK repeats the last value of a series it has seen.
        const s = await read();
        expect(jobs(s, 'hung')).toMatchObject({ waiting: 1 });
        expect(attempts(s, 'hung')).toEqual({ completed: 0, stalled: 0 }); // the rest of the collection is there
      }
      const told = warnings.filter((w) => w.includes('"hung"'));
      expect(told).toHaveLength(1);
      expect(told[0]).toMatch(/failed \(no answer within 1500 ms\)/);
    } finally {
      hung.resume();
    }
    await q.add('y', {});
    await until('fresh job counts', async () => jobs(await read(), 'hung').waiting === 2);
    expect(warnings.filter((w) => w.includes('"hung"') && w.includes('works again'))).toHaveLength(1);
    expect(unhandled).toEqual([]);
    await q.close();
  });
});
