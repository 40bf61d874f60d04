// The job-queue core without a queue library: bounded job-count reads and their
// failure messages (with an injected clock), and the error.type of a failed job.
import { describe, expect, it } from 'vitest';
import { JobCountsSource, type JobCounts } from '../../instrumentations/queue/job-counts.js';
import { errorType } from '../../instrumentations/queue/record.js';

function source(read: () => JobCounts | undefined | Promise<JobCounts | undefined>, timeoutMs = 20) {
  const lines: string[] = [];
  const clock = { now: 1_000_000 };
  const s = new JobCountsSource({ queue: 'q', read, timeoutMs, now: () => clock.now, warn: (l) => lines.push(l) });
  return { s, lines, clock };
}

describe('JobCountsSource', () => {
  it('passes counts through, sync or async', async () => {
    expect(source(() => ({ waiting: 2 })).s.read()).toEqual({ waiting: 2 });
    expect(await source(async () => ({ active: 1 })).s.read()).toEqual({ active: 1 });
  });

  it('a throwing or rejecting reader gives no counts and one line, never a rejection', async () => {
    const thrown = source(() => {
      throw new Error('closed\nstack');
    });
    expect(thrown.s.read()).toBeUndefined();
    expect(thrown.lines).toEqual([
      expect.stringMatching(/^otelkit: reading the job counts of queue "q" failed \(closed\)/),
    ]);
    const rejected = source(() => Promise.reject(new Error('Connection is closed.')));
    expect(await rejected.s.read()).toBeUndefined();
    expect(rejected.lines).toEqual([expect.stringContaining('failed (Connection is closed.)')]);
  });

  it('unanswered: undefined after the timeout, no second call meanwhile, a summary a minute on', async () => {
    let calls = 0;
    let answer!: (c: JobCounts) => void;
    const hung = source(() => {
      calls++;
      return new Promise<JobCounts>((resolve) => (answer = resolve));
    });
    expect(await hung.s.read()).toBeUndefined();
    expect(hung.lines).toEqual([expect.stringContaining('failed (no answer within 20 ms)')]);
    expect(hung.s.read()).toBeUndefined();
    expect(hung.s.read()).toBeUndefined();
    expect(calls).toBe(1);
    expect(hung.lines).toHaveLength(1);
    hung.clock.now += 60_000;
    expect(hung.s.read()).toBeUndefined();
    expect(hung.lines[1]).toBe(
      'otelkit: reading the job counts of queue "q" failed 3 times since the last message; ' +
        'last cause: the previous call has not answered yet',
    );
    answer({ waiting: 7 });
    await new Promise((r) => setImmediate(r));
    expect(hung.lines[2]).toBe('otelkit: reading the job counts of queue "q" works again');
    const next = hung.s.read();
    expect(calls).toBe(2);
    answer({ waiting: 8 });
    expect(await next).toEqual({ waiting: 8 });
    expect(hung.lines).toHaveLength(3);
  });
});

describe('errorType', () => {
  class PaymentDeclined extends Error {}
  class Named extends Error {
    override name = 'NamedError';
  }
  it('is the class of the error, bounded in length, _OTHER for what is not an error object', () => {
    expect(errorType(new TypeError('x'))).toBe('TypeError');
    expect(errorType(new PaymentDeclined('x'))).toBe('PaymentDeclined');
    expect(errorType(new Named('x'))).toBe('NamedError');
    expect(errorType(new Error('x'))).toBe('Error');
    expect(errorType(Object.assign(new Error('x'), { name: 'E'.repeat(100) }))).toBe('E'.repeat(64));
    expect(errorType('a string')).toBe('_OTHER');
    expect(errorType(undefined)).toBe('_OTHER');
    expect(errorType({ message: 'plain object' })).toBe('_OTHER');
  });
});
