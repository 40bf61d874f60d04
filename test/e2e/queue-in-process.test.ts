// In-process queues through a real scrape: p-queue (tasks timed through its wrapped
// add(), size and pending) and the generic adapter (wrap(), jobStarted/jobFinished).
import PQueue from 'p-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instrumentQueue, register, type OtelkitHandle } from '../../index.js';
import { otelkitState } from '../../src/state.js';
import { findSamples, parsePrometheus, sampleValue, scrape, type Sample } from '../helpers/prom-text.js';

let otel: OtelkitHandle;
let url: string;
const read = async (): Promise<Sample[]> => parsePrometheus(await scrape(url));
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

const labels = (system: string, name: string) => ({ messaging_system: system, messaging_destination_name: name });
const attempts = (s: Sample[], system: string, name: string) =>
  Object.fromEntries(
    findSamples(s, 'queue_job_attempts_total', labels(system, name)).map((x) => [
      [x.labels.queue_job_outcome, x.labels.error_type].filter(Boolean).join(':'),
      x.value,
    ]),
  );
const jobs = (s: Sample[], system: string, name: string) =>
  Object.fromEntries(
    findSamples(s, 'queue_jobs', labels(system, name)).map((x) => [x.labels.queue_job_state, x.value]),
  );
const consumed = (s: Sample[], system: string, name: string) =>
  sampleValue(s, 'messaging_client_consumed_messages_total', labels(system, name));
const waits = (s: Sample[], system: string, name: string) => ({
  count: sampleValue(s, 'queue_job_wait_duration_seconds_count', labels(system, name)),
  sum: sampleValue(s, 'queue_job_wait_duration_seconds_sum', labels(system, name)),
});
const duration = (s: Sample[], what: 'count' | 'sum', system: string, name: string, errorType?: string) =>
  findSamples(s, `messaging_process_duration_seconds_${what}`, labels(system, name))
    .filter((x) => x.labels.error_type === errorType)
    .reduce((a, x) => a + x.value, 0);

function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Seconds on the clock the instrumentation uses. */
const now = () => performance.now() / 1000;

beforeAll(async () => {
  otel = register({ prometheus: { host: '127.0.0.1', port: 0 }, instrumentations: [], serviceName: 'queue-test' });
  url = (await otel.ready)!.url;
});
afterAll(() => otel.shutdown());

describe('instrumentQueue: p-queue', () => {
  it('tasks that succeed, reject and throw: counts, waits bounded by what the test saw, size and pending', async () => {
    const queue = new PQueue({ concurrency: 1, autoStart: false });
    instrumentQueue(queue, { name: 'thumbnails' });
    const hold = gate();
    const firstRunning = gate();
    const added: number[] = [];
    const started: number[] = [];
    const add = (task: () => unknown) => {
      added.push(now());
      return queue.add(async () => {
        started.push(now());
        return task();
      });
    };
    const results = Promise.allSettled([
      add(async () => {
        firstRunning.open();
        await hold.opened;
        return 'a';
      }),
      add(() => 'b'),
      add(async () => {
        throw new RangeError('too big');
      }),
      (added.push(now()),
      queue.add(() => {
        started.push(now());
        throw new TypeError('sync throw'); // thrown by the task itself; p-queue turns it into a rejection
      })),
    ]);
    expect(jobs(await read(), 'p-queue', 'thumbnails')).toEqual({ waiting: 4, active: 0 });

    queue.start();
    await firstRunning.opened;
    expect(jobs(await read(), 'p-queue', 'thumbnails')).toEqual({ waiting: 3, active: 1 });
    const released = now();
    hold.open();
    const settled = await results;
    expect(settled.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).name))).toEqual([
      'a',
      'b',
      'RangeError',
      'TypeError',
    ]);

    const s = await read();
    expect(consumed(s, 'p-queue', 'thumbnails')).toBe(4);
    expect(attempts(s, 'p-queue', 'thumbnails')).toEqual({
      completed: 2,
      stalled: 0,
      'failed:RangeError': 1,
      'retried:RangeError': 0,
      'failed:TypeError': 1,
      'retried:TypeError': 0,
    });
    expect(jobs(s, 'p-queue', 'thumbnails')).toEqual({ waiting: 0, active: 0 });
    expect(duration(s, 'count', 'p-queue', 'thumbnails')).toBe(2);
    expect(duration(s, 'count', 'p-queue', 'thumbnails', 'RangeError')).toBe(1);
    // Each wait lies between 0 and the test's own add-to-start span; the last three waited at least for the hold.
    const w = waits(s, 'p-queue', 'thumbnails');
    expect(w.count).toBe(4);
    expect(w.sum).toBeLessThanOrEqual(started.reduce((a, t, i) => a + (t - added[i]!), 0) + 1e-6);
    expect(w.sum).toBeGreaterThanOrEqual(added.slice(1).reduce((a, t) => a + (released - t), 0));
  });

  it('add() returns the promise of p-queue: clear() leaves nothing unhandled; nothing counted', async () => {
    const queue = new PQueue({ autoStart: false });
    instrumentQueue(queue, { name: 'cleared' });
    void queue.add(async () => 'never');
    void queue.add(async () => 'never');
    expect(jobs(await read(), 'p-queue', 'cleared')).toEqual({ waiting: 2, active: 0 });
    queue.clear();
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    expect(unhandled).toEqual([]);
    const s = await read();
    expect(consumed(s, 'p-queue', 'cleared')).toBe(0);
    expect(jobs(s, 'p-queue', 'cleared')).toEqual({ waiting: 0, active: 0 });
  });

  it('addAll() goes through the wrapped add(); instrumenting twice counts once; dispose() restores add()', async () => {
    const queue = new PQueue({ concurrency: 2 });
    const add = queue.add;
    const handle = instrumentQueue(queue, { name: 'batch' });
    expect(instrumentQueue(queue, { name: 'batch' })).toBe(handle);
    expect(await queue.addAll([async () => 1, () => 2, async () => 3])).toEqual([1, 2, 3]);
    expect(consumed(await read(), 'p-queue', 'batch')).toBe(3);
    handle.dispose();
    expect(queue.add).toBe(add);
    expect(Object.keys(queue)).not.toContain('add');
    await queue.add(async () => 4);
    expect(consumed(await read(), 'p-queue', 'batch')).toBe(3);
  });
});

describe('instrumentQueue: generic queues', () => {
  it('wrap(): each call is a job; same this, arguments, value, throw and rejection; active while running', async () => {
    const backlog = [1, 2, 3];
    const mailer = instrumentQueue({ name: 'mailer', size: () => backlog.length });
    const hold = gate();
    const running = gate();
    const send = mailer.wrap(async function (this: { from: string }, to: string) {
      if (to === 'bad') throw new URIError('bad address');
      if (to === 'slow') {
        running.open();
        await hold.opened;
      }
      return `${this.from}->${to}`;
    });
    const syncJob = mailer.wrap(function double(n: number) {
      if (n < 0) throw new SyntaxError('negative');
      return n * 2;
    });
    const self = { from: 'me', send };
    expect(await self.send('you')).toBe('me->you');
    await expect(self.send('bad')).rejects.toThrow('bad address');
    expect(syncJob(2)).toBe(4);
    expect(() => syncJob(-1)).toThrow(SyntaxError);
    expect(syncJob.name).toBe('double');
    const slow = self.send('slow');
    await running.opened;
    expect(jobs(await read(), 'custom', 'mailer')).toEqual({ waiting: 3, active: 1 });
    hold.open();
    expect(await slow).toBe('me->slow');

    const s = await read();
    expect(consumed(s, 'custom', 'mailer')).toBe(5);
    expect(attempts(s, 'custom', 'mailer')).toEqual({
      completed: 3,
      stalled: 0,
      'failed:URIError': 1,
      'retried:URIError': 0,
      'failed:SyntaxError': 1,
      'retried:SyntaxError': 0,
    });
    expect(jobs(s, 'custom', 'mailer')).toEqual({ waiting: 3, active: 0 });
    expect(findSamples(s, 'queue_job_wait_duration_seconds_count', labels('custom', 'mailer'))).toEqual([]);
  });

  it('jobStarted / jobFinished report the values given; at most 20 error types per queue', async () => {
    const handle = instrumentQueue({ name: 'imports', system: 'sqs-poller', pending: () => 2 });
    handle.jobStarted(1.5);
    handle.jobStarted(0.5);
    handle.jobFinished('retried', 0.25, new TypeError('x'));
    handle.jobFinished('completed', 0.75);
    handle.jobFinished('stalled');
    handle.jobFinished('bogus' as never, 1);
    for (let i = 0; i < 25; i++) {
      const err = new Error('custom');
      err.name = `E${i}`;
      handle.jobFinished('failed', undefined, err);
    }
    handle.jobFinished('failed', undefined, 'a string');
    const s = await read();
    expect(consumed(s, 'sqs-poller', 'imports')).toBe(2);
    expect(waits(s, 'sqs-poller', 'imports')).toEqual({ count: 2, sum: 2 });
    expect(duration(s, 'sum', 'sqs-poller', 'imports')).toBe(0.75);
    expect(duration(s, 'sum', 'sqs-poller', 'imports', 'TypeError')).toBe(0.25);
    const failed = findSamples(s, 'queue_job_attempts_total', {
      ...labels('sqs-poller', 'imports'),
      queue_job_outcome: 'failed',
    });
    // TypeError, E0..E17 have their own series (19 types), everything else is _OTHER: 7 errors and the string.
    expect(failed.map((x) => x.labels.error_type).sort()).toHaveLength(20);
    expect(failed.find((x) => x.labels.error_type === '_OTHER')!.value).toBe(8);
    expect(failed.reduce((a, x) => a + x.value, 0)).toBe(26);
    expect(attempts(s, 'sqs-poller', 'imports')).toMatchObject({ completed: 1, stalled: 1, 'retried:TypeError': 1 });
    expect(jobs(s, 'sqs-poller', 'imports')).toEqual({ active: 2 });
  });
});

describe('instrumentQueue: no-ops', () => {
  it('without a name, or with otelkit disabled: nothing wrapped or reported, wrap() returns fn', async () => {
    const unnamed = new PQueue();
    const h = instrumentQueue(unnamed);
    expect(Object.hasOwn(unnamed, 'add')).toBe(false);
    const fn = () => 1;
    expect(h.wrap(fn)).toBe(fn);
    const state = otelkitState();
    state.disabled = true;
    try {
      const queue = new PQueue();
      const off = instrumentQueue(queue, { name: 'off' });
      expect(Object.hasOwn(queue, 'add')).toBe(false);
      expect(off.wrap(fn)).toBe(fn);
      off.jobStarted(1);
      off.jobFinished('failed', 1, new Error('x'));
      off.dispose();
    } finally {
      state.disabled = false;
    }
    const s = await read();
    expect(findSamples(s, 'queue_job_attempts_total', labels('p-queue', 'off'))).toEqual([]);
  });
});
